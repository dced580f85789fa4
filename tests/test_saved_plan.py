"""`apply --plan FILE` trusts nothing in the file: its digest must match, and every safety rule is checked again
against current state, even for a file whose digest a forger who can read state recomputed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan import Action, ResourceChange
from reconciler.saved_plan import seal
from reconciler.state import FileBackend
from tests.support import RUN_LEFTOVERS, apply_ok, wxrec
from tests.test_gitops import edit

EDITED = "含美式咖啡两杯、可颂两个，可外带。"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def saved_edit(directory: Path, tmp_path: Path, then: Callable[[], None] = lambda: None) -> Path:
    """The example applied, `then` done, then a plan -out of one description edit."""
    apply_ok(directory)
    then()
    edit(directory, "含美式咖啡两杯、可颂两个。", EDITED)
    saved = tmp_path / "plan.json"
    assert wxrec("plan", directory, "--api", "emulator", "-out", saved).exit_code == 0
    return saved


def state_file(directory: Path) -> Path:
    return directory / ".wxrec" / "state.json"


def records(directory: Path) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(state_file(directory).read_text(encoding="utf-8"))["resources"]
    return resources


def forge(saved: Path, directory: Path, change: Any = None, **edits: Any) -> None:
    """Edit the saved plan and recompute its digest, as someone who can read state could."""
    document = json.loads(saved.read_text(encoding="utf-8"))
    if change is not None:
        document["changes"].append(change)
    for address, changed in edits.items():
        target = next(c for c in document["changes"] if c["address"] == address)
        target.update(changed)
    state = FileBackend(state_file(directory)).load()
    assert state is not None
    saved.write_text(json.dumps(seal(document, state.seal_key), ensure_ascii=False), encoding="utf-8")


def delete(address: str, card_id: str) -> dict[str, Any]:
    return ResourceChange(address, Action.DELETE, id=card_id).to_dict()


def refused(directory: Path, saved: Path, *options: str) -> str:
    """apply --plan fails and changes nothing."""
    before = state_file(directory).read_bytes()
    result = wxrec("apply", directory, "--api", "emulator", "--auto-approve", "--plan", saved, *options)
    assert result.exit_code == 1, result.output
    assert state_file(directory).read_bytes() == before
    return result.output


def test_an_untampered_saved_plan_applies_exactly(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert result.exit_code == 0 and "Apply complete: 1 done, 0 failed" in result.output, result.output
    assert records(example_dir)["cards.breakfast-set"]["applied"]["base_info.description"] == EDITED


def test_a_plan_saved_before_state_had_a_key_applies_and_state_then_gets_one(example_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", first).exit_code == 0
    apply_ok(example_dir, "--plan", str(first))  # no state at all: the digest has no key yet
    state = json.loads(state_file(example_dir).read_text(encoding="utf-8"))
    del state["plan_key"]  # as an older wxrec wrote it
    state_file(example_dir).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    edit(example_dir, "含美式咖啡两杯、可颂两个。", EDITED)
    second = tmp_path / "second.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", second).exit_code == 0
    apply_ok(example_dir, "--plan", str(second))
    assert len(json.loads(state_file(example_dir).read_text(encoding="utf-8"))["plan_key"]) == 64


def test_an_altered_after_value_is_refused(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    document = json.loads(saved.read_text(encoding="utf-8"))
    change = next(c for c in document["changes"] if c["address"] == "cards.breakfast-set")
    change["after"]["fields"]["base_info.description"] = "篡改过的描述"
    saved.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert "does not match its digest: it was altered after" in refused(example_dir, saved)
    unkeyed = seal(document, b"")  # what someone who cannot read state could compute
    saved.write_text(json.dumps(unkeyed, ensure_ascii=False), encoding="utf-8")
    assert "does not match its digest" in refused(example_dir, saved)
    del document["digest"]
    saved.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert "has no digest" in refused(example_dir, saved)


def unprotect_in_state(directory: Path) -> None:
    """As if the manifest had just added prevent_destroy to the member card, not applied yet."""
    state = json.loads(state_file(directory).read_text(encoding="utf-8"))
    state["resources"]["cards.member"]["prevent_destroy"] = False
    state_file(directory).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")


PROTECTIONS = {
    "manifest and state": lambda directory: None,
    "state only": lambda directory: edit(directory, "prevent_destroy: true", "prevent_destroy: false"),
    "manifest only": unprotect_in_state,
}


@pytest.mark.parametrize("protected_in", PROTECTIONS)
def test_a_delete_of_a_protected_card_is_refused_even_with_a_recomputed_digest(
    example_dir: Path, tmp_path: Path, protected_in: str
) -> None:
    saved = saved_edit(example_dir, tmp_path, lambda: PROTECTIONS[protected_in](example_dir))
    member = records(example_dir)["cards.member"]["id"]
    forge(saved, example_dir, delete("cards.member", member))
    output = refused(example_dir, saved, "--allow-destroy")
    assert "cards.member: lifecycle.prevent_destroy forbids this delete" in output
    assert "cards.member" in records(example_dir)


def test_a_forged_plan_is_held_to_the_destroy_threshold_and_allow_destroy(example_dir: Path, tmp_path: Path) -> None:
    text = (example_dir / "cards.yaml").read_text(encoding="utf-8")
    block = text[text.index("  farm-tour:") :]
    (example_dir / "cards.yaml").write_text(text + block.replace("farm-tour:", "set-0:"), encoding="utf-8")
    saved = saved_edit(example_dir, tmp_path)
    original = saved.read_text(encoding="utf-8")
    unprotected = {
        a: r["id"] for a, r in records(example_dir).items() if a.startswith("cards.") and a != "cards.member"
    }
    for address, card_id in unprotected.items():
        forge(saved, example_dir, delete(address, card_id))
    managed = f"{len(unprotected)} of {len(unprotected) + 1} managed cards, tags and stocks"
    assert f"deletes or replaces {managed}" in refused(example_dir, saved, "--allow-destroy")
    saved.write_text(original, encoding="utf-8")
    forge(saved, example_dir, delete("cards.set-0", unprotected["cards.set-0"]))
    assert "pass --allow-destroy to permit it" in refused(example_dir, saved)


def test_a_forged_plan_cannot_act_on_a_card_its_address_does_not_own(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    member = records(example_dir)["cards.member"]["id"]
    forge(saved, example_dir, **{"cards.breakfast-set": {"id": member, "before": None}})  # nothing to find stale
    assert f"cards.breakfast-set: the plan acts on {member}, but state says" in refused(example_dir, saved)
    saved_original = json.loads(saved.read_text(encoding="utf-8"))
    create = next(c for c in saved_original["changes"] if c["address"] == "cards.breakfast-set")
    forge(saved, example_dir, {**create, "address": "cards.latte-voucher", "action": "create", "id": None})
    assert "cards.latte-voucher: the plan creates a new card, but state's" in refused(example_dir, saved)


def test_a_plan_of_a_newer_format_is_refused_as_such(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    document = json.loads(saved.read_text(encoding="utf-8"))
    newer = document["format_version"] + 1
    saved.write_text(json.dumps({**document, "format_version": newer}), encoding="utf-8")
    output = refused(example_dir, saved)
    assert (
        f"{saved}: the plan was written by a newer wxrec (format {newer}); "
        f"this wxrec reads up to {newer - 1}: upgrade wxrec" in output
    ), output


def test_a_plan_of_an_older_format_is_refused_with_a_new_plan_asked_for(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    document = json.loads(saved.read_text(encoding="utf-8"))
    older = document["format_version"] - 1
    saved.write_text(json.dumps({**document, "format_version": older}), encoding="utf-8")
    output = refused(example_dir, saved)
    assert f"{saved}: the plan was made by an older wxrec (format {older}; this wxrec reads {older + 1})" in output
    assert "Nothing was changed: make a new plan" in output and "Traceback" not in output


def test_apply_planfile_applies_the_saved_plan_with_what_it_was_made_with(
    example_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wxrec apply PLANFILE` from anywhere: the manifests, --api emulator and --var come from the plan."""
    apply_ok(example_dir, "--var", "unused=1")
    edit(example_dir, "含美式咖啡两杯、可颂两个。", EDITED)
    saved = tmp_path / "plan.json"  # no .json needed: told by content, as the next test shows
    made = wxrec("plan", example_dir, "--api", "emulator", "--var", "unused=1", "-out", saved)
    assert f"`wxrec apply {saved}`" in made.output
    monkeypatch.chdir(tmp_path)
    result = wxrec("apply", "plan.json", "-auto-approve")
    assert result.exit_code == 0 and "Apply complete: 1 done, 0 failed" in result.output, result.output
    assert records(example_dir)["cards.breakfast-set"]["applied"]["base_info.description"] == EDITED


def test_a_plan_file_is_told_from_a_one_file_manifest_by_content_not_name(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    disguised = tmp_path / "cards.yaml"
    saved.rename(disguised)
    result = wxrec("apply", disguised, "--auto-approve")
    assert result.exit_code == 0 and "Apply complete: 1 done" in result.output, result.output


def test_a_saved_plan_keeps_no_credentials_of_a_url(example_dir: Path, tmp_path: Path) -> None:
    from reconciler.saved_plan import remembered
    from reconciler.settings import RunSettings

    settings = RunSettings(
        example_dir, api="https://proxy:hunter2@wechat.example/", state_location="postgresql://u:pw@db/x"
    )
    kept = json.dumps(remembered(settings, tmp_path / "plan.json"))
    assert "hunter2" not in kept and "pw@" not in kept and "proxy:" not in kept
    assert "wechat.example" in kept and "db/x" in kept


def test_a_setting_given_otherwise_than_the_plan_was_made_with_is_refused(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    output = refused(example_dir, saved, "--var", "unused=1")
    assert "the plan was made with --var (not given), not --var unused=1" in output


def test_a_plan_of_another_state_says_whose_it_is(example_dir: Path, tmp_path: Path) -> None:
    saved = saved_edit(example_dir, tmp_path)
    lineage = json.loads(saved.read_text(encoding="utf-8"))["state"]["lineage"]
    state = json.loads(state_file(example_dir).read_text(encoding="utf-8"))
    state["lineage"] = "0ther-lineage"
    state_file(example_dir).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    output = refused(example_dir, saved)
    assert f"this plan belongs to state lineage {lineage}" in output and "lineage 0ther-lineage" in output


def test_a_plan_made_before_any_state_says_so_once_state_exists(example_dir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", saved).exit_code == 0
    apply_ok(example_dir)
    assert "this plan was made before there was any state" in refused(example_dir, saved)


# For each kind an import block adopts: an example, the address, and an edit of it planned after the import.
IMPORTED = {
    "cards": ("coffee-shop", "cards.farm-tour", "cards.yaml", "9:00–17:00", "9:00–18:00"),
    "tags": ("members", "tags.member", "members.yaml", "name: 山丘会员", "name: 山丘金卡会员"),
    "conditional_menus": (
        "members",
        "conditional_menus.members-menu",
        "members.yaml",
        "name: 会员专享",
        "name: 会员特惠",
    ),
    "pay_coupons": (
        "pay-coupons",
        "pay_coupons.latte-88",
        "pay-coupons.yaml",
        "max_coupons: 1000",
        "max_coupons: 1200",
    ),
}


@pytest.mark.parametrize("kind", sorted(IMPORTED))
def test_a_saved_plan_with_an_import_block_and_an_edit_after_it_applies(kind: str, tmp_path: Path) -> None:
    """Its check applies the import to its view of state through the kind, so the edit acts on a managed record."""
    example, address, file, old, new = IMPORTED[kind]
    directory = tmp_path / example
    shutil.copytree(EXAMPLES / example, directory, ignore=RUN_LEFTOVERS)
    apply_ok(directory)
    live_id = records(directory)[address]["id"]
    assert wxrec("state", "rm", directory, address).exit_code == 0
    (directory / "imports.yaml").write_text(f"import:\n  - to: {address}\n    id: '{live_id}'\n", encoding="utf-8")
    manifest = directory / file
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", directory, "--api", "emulator", "-out", saved).exit_code == 0
    planned = [(c["action"], c["id"]) for c in json.loads(saved.read_text())["changes"] if c["address"] == address]
    assert planned == [("import", live_id), ("update", live_id)]
    applied = wxrec("apply", directory, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert applied.exit_code == 0, applied.output
    assert f"imported {live_id}" in applied.output or f"imported stock {live_id}" in applied.output
    assert address in records(directory)
    assert "No changes." in wxrec("plan", directory, "--api", "emulator").output


def test_a_forged_plan_acts_on_the_tag_its_address_holds_only(tmp_path: Path) -> None:
    """The ownership check is every kind's that HoldsIds, not only the cards' and the stocks' own."""
    directory = tmp_path / "members"
    shutil.copytree(EXAMPLES / "members", directory, ignore=RUN_LEFTOVERS)
    apply_ok(directory)
    held = records(directory)
    tag, menu = held["tags.member"]["id"], held["conditional_menus.members-menu"]["id"]
    manifest = directory / "members.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("山丘会员", "山丘金卡会员"), encoding="utf-8")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", directory, "--api", "emulator", "-out", saved).exit_code == 0
    forge(saved, directory, delete("tags.ghost", tag), **{"tags.member": {"id": menu}})
    output = refused(directory, saved)
    assert f"tags.member: the plan acts on {menu}, but state says the address manages {tag}" in output, output
    assert f"tags.ghost: the plan acts on {tag}, but state does not manage the address" in output
