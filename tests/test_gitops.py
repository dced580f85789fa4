"""GitOps: output formats (golden files), saved plans, --refresh=false, drift, the offline diff."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan import PLAN_FORMAT_VERSION
from reconciler.render.markdown import COMMENT_LIMIT, render_markdown
from tests.support import RUN_LEFTOVERS, apply_ok, wxrec

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("WXREC_UPDATE_GOLDEN") == "1"


def edit(directory: Path, old: str, new: str) -> None:
    path = directory / "cards.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def card_id(directory: Path, key: str) -> str:
    return str(json.loads(wxrec("state", "show", directory, f"cards.{key}").output)["id"])


def stable(text: str, directory: Path) -> str:
    """Outputs are byte-identical for identical inputs; state's lineage (a uuid) and the temp path are inputs, and
    so is state's serial: concurrent actions share state writes as their timing allows."""
    text = re.sub(r'"serial": \d+', '"serial": "SERIAL"', text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "LINEAGE", text)
    # QR tickets carry their creation time, as WeChat's do
    text = re.sub(r"gQ[A-Za-z0-9+/]{40,}={0,2}", "TICKET", text)
    return text.replace(str(directory), "MANIFESTS")


def scenario(directory: Path, name: str) -> None:
    """Bring the example's account to the state each golden file describes."""
    if name == "create":
        return
    apply_ok(directory)
    if name == "update":
        edit(directory, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
        edit(directory, "get_limit: 2", "get_limit: 3")
    elif name == "replace":
        edit(directory, "title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课")  # a ticket: coupons are never replaced
    elif name == "delete":
        text = (directory / "cards.yaml").read_text(encoding="utf-8")
        (directory / "cards.yaml").write_text(text[: text.index("  farm-tour:")], encoding="utf-8")
    elif name == "stock":
        claimed = wxrec(
            "emulator",
            "claim",
            "--data",
            directory / ".wxrec" / "emulator.json",
            card_id(directory, "weekday-discount"),
            "12",
        )
        assert claimed.exit_code == 0, claimed.output
    elif name == "stores":
        # A card's store list gains three stores and loses one: the plan shows the items, not two lists.
        edit(directory, "      get_limit: 2\n", "      get_limit: 2\n      location_id_list: [4101, 4102]\n")
        apply_ok(directory)
        edit(directory, "location_id_list: [4101, 4102]", "location_id_list: [4102, 4201, 4202, 4203]")
    elif name == "adopt":
        member = card_id(directory, "member")
        assert wxrec("state", "rm", directory, "cards.member").exit_code == 0
        edit(directory, "  farm-tour:", "  estate-tour:")
        edit(directory, "含一次烘焙体验。", "含一次烘焙体验与午餐。")
        blocks = {
            "import": [{"to": "cards.member", "id": member}],
            "moved": [{"from": "cards.farm-tour", "to": "cards.estate-tour"}],
        }
        (directory / "adopt.yaml").write_text(json.dumps(blocks), encoding="utf-8")


@pytest.mark.parametrize("name", ["create", "update", "replace", "delete", "stock", "noop", "adopt", "stores"])
@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_golden_plans(example_dir: Path, name: str, output: str) -> None:
    scenario(example_dir, name)
    result = wxrec("plan", example_dir, "--api", "emulator", "--format", output)
    assert result.exit_code == 0, result.output
    again = wxrec("plan", example_dir, "--api", "emulator", "--format", output)
    assert again.output == result.output, "the same inputs give byte-identical output"
    golden = GOLDEN / f"plan-{name}.{ {'text': 'txt', 'markdown': 'md', 'json': 'json'}[output] }"
    text = stable(result.output, example_dir)
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_markdown_stays_under_the_comment_limit_by_folding() -> None:
    fields = {f"base_info.field_{i}": "很长的说明文字" * 20 for i in range(30)}
    change = {
        "address": "cards.x",
        "action": "create",
        "id": None,
        "review": False,
        "changes": [],
        "stock": None,
        "reasons": [],
        "notes": [],
        "retire_ids": [],
        "before": None,
        "after": {"card_type": "CASH", "fields": fields, "stock": {"mode": "budget", "target": 1}},
    }
    changes = [{**change, "address": f"cards.c{i:03d}"} for i in range(60)]
    summary = dict.fromkeys(("create", "update", "stock", "replace", "delete", "retire", "gone", "forget"), 0)
    plan = {
        "appid": "wx0123456789abcdef",
        "endpoint": "emulator",
        "changes": changes,
        "summary": {**summary, "create": 60},
        "unmanaged": [],
        "warnings": [],
        "refusals": [],
        "refreshed": True,
    }
    text = render_markdown(plan)
    assert len(text) <= COMMENT_LIMIT
    assert "_Folded to fit a 65,536-character comment:" in text
    assert text.count("<details>") == 60, "every resource keeps its section, folded or not"
    three_accounts = [render_markdown(plan, share=3) for _ in range(3)]
    assert sum(map(len, three_accounts)) <= COMMENT_LIMIT, "several accounts share one comment"
    nothing_to_fold = {**plan, "changes": [], "warnings": ["很长的警告" * 400] * 8}
    assert "No changes" in render_markdown(nothing_to_fold, share=40)


def test_saved_plan_applies_exactly_and_refuses_when_stale(example_dir: Path, tmp_path: Path) -> None:
    apply_ok(example_dir)
    edit(example_dir, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", saved).exit_code == 0
    # a console edit to the card the plan relied on makes it stale
    data = example_dir / ".wxrec" / "emulator.json"
    account = json.loads(data.read_text(encoding="utf-8"))
    cards = next(iter(account["accounts"].values()))["cards"]
    target = next(c for c in cards if c["card_id"] == card_id(example_dir, "breakfast-set"))
    target["base"]["notice"] = "控制台改过"
    data.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    before = (example_dir / ".wxrec" / "state.json").read_text(encoding="utf-8")
    stale = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert stale.exit_code == 1 and "base_info.notice changed in WeChat since the plan was made" in stale.output
    assert (example_dir / ".wxrec" / "state.json").read_text(encoding="utf-8") == before


def test_saved_plan_is_refused_after_another_apply(example_dir: Path, tmp_path: Path) -> None:
    apply_ok(example_dir)
    edit(example_dir, "get_limit: 2", "get_limit: 3")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", saved).exit_code == 0
    fresh = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert fresh.exit_code == 0 and "Apply complete: 1 done" in fresh.output
    again = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert again.exit_code == 1 and "this plan's own, if it was applied already" in again.output
    assert "changed in WeChat" not in again.output
    edit(example_dir, "get_limit: 3", "get_limit: 4")
    second = tmp_path / "second.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", second).exit_code == 0
    apply_ok(example_dir)
    stale = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", second)
    assert stale.exit_code == 1 and "state serial is" in stale.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format_version": PLAN_FORMAT_VERSION}), encoding="utf-8")
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", broken)
    assert refused.exit_code == 1 and "not a wxrec plan" in refused.output


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no socket may be opened")

    # Connecting is what is refused: asyncio's own self-pipe (a socketpair) is fine.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_refresh_false_reads_nothing_live(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply_ok(example_dir)
    # A card wxrec created: state holds what it applied (an imported coupon's record holds nothing to compare).
    edit(
        example_dir,
        "code_type: CODE_TYPE_QRCODE\n      title: 周末拿铁拉花课",
        "code_type: CODE_TYPE_TEXT\n      title: 周末拿铁拉花课",
    )
    import reconciler.connection

    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--refresh=false must not connect")

    monkeypatch.setattr(reconciler.connection, "connect", no_connection)
    production = wxrec("plan", example_dir, "--api", "https://api.weixin.qq.com", "--refresh", "false")
    assert production.exit_code == 1 and "never be used against the real WeChat API" in production.output
    result = wxrec("plan", example_dir, "--api", "emulator", "-refresh=false", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "was **not read** (`--refresh=false`)" in result.output
    assert '| `base_info.code_type` | "CODE_TYPE_QRCODE" | "CODE_TYPE_TEXT" |' in result.output


def test_drift_tells_hand_edits_from_manifest_edits_and_claims(example_dir: Path) -> None:
    apply_ok(example_dir)
    data = example_dir / ".wxrec" / "emulator.json"
    assert wxrec("emulator", "claim", "--data", data, card_id(example_dir, "latte-art-class"), "5").exit_code == 0
    claims_only = wxrec("drift", example_dir, "--api", "emulator", "--format", "json")
    assert claims_only.exit_code == 0, claims_only.output
    assert json.loads(claims_only.output)["refills"][0]["address"] == "cards.latte-art-class"
    account = json.loads(data.read_text(encoding="utf-8"))
    cards = next(iter(account["accounts"].values()))["cards"]
    next(c for c in cards if c["card_id"] == card_id(example_dir, "latte-voucher"))["base"]["notice"] = "控制台改过"
    next(c for c in cards if c["card_id"] == card_id(example_dir, "member"))["status"] = "CARD_STATUS_DELETE"
    data.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    # A manifest edit is told apart by what state says wxrec applied: a card wxrec created.
    edit(example_dir, "入园时请出示门票", "入园时请出示电子门票")
    result = wxrec("drift", example_dir, "--api", "emulator", "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert {(i["address"], i.get("path")) for i in report["live"]} == {
        ("cards.latte-voucher", "base_info.notice"),
        ("cards.member", None),
    }
    assert [(i["address"], i["path"]) for i in report["manifest"]] == [("cards.farm-tour", "base_info.notice")]
    assert report["warnings"] == report["refusals"] == [], "the endpoint state was written against"


def test_drift_lists_what_apply_would_refuse_and_still_gives_its_verdict(example_dir: Path) -> None:
    """A lost state: apply would refuse to create the live cards again, and drift says so beside the creates."""
    apply_ok(example_dir)
    member = card_id(example_dir, "member")
    (example_dir / ".wxrec" / "state.json").unlink()
    exit_code, report = drift_of(example_dir)
    assert exit_code == 2, report
    duplicate = f"cards.member would duplicate live card {member}"
    assert any(refusal.startswith(duplicate) for refusal in report["refusals"]), report["refusals"]
    assert ("cards.member", "added to the manifests") in {(i["address"], i["what"]) for i in report["manifest"]}
    for output, heading, item in (
        ("text", "What apply would refuse:", "  "),
        ("markdown", "#### What apply would", "- "),
    ):
        shown = wxrec("drift", example_dir, "--api", "emulator", "--format", output).output
        refused = shown[shown.index(heading) :]
        assert f"\n{item}{duplicate}" in refused and shown.count(duplicate) == 1, shown


def test_claims_of_an_imported_card_are_stock_to_refill_not_drift(example_dir: Path) -> None:
    # breakfast-set is adopted by an import block and already matches its manifest: nothing but the import applies.
    apply_ok(example_dir)
    data = example_dir / ".wxrec" / "emulator.json"
    imported = "pHillCoffeeBreakfastSet00001"
    assert wxrec("emulator", "claim", imported, "3", "--data", data).exit_code == 0
    result = wxrec("drift", example_dir, "--api", "emulator", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [(i["address"], i["id"]) for i in report["refills"]] == [("cards.breakfast-set", imported)]
    offline = wxrec("plan", example_dir, "--api", "emulator", "--refresh=false", "--detailed-exitcode")
    assert offline.exit_code == 0, offline.output  # the colour named by hex included
    # The import recorded a baseline, so a change made in WeChat after it is told from a manifest edit.
    account = json.loads(data.read_text(encoding="utf-8"))
    cards = next(iter(account["accounts"].values()))["cards"]
    next(c for c in cards if c["card_id"] == imported)["base"]["notice"] = "控制台改过"
    data.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    report = json.loads(wxrec("drift", example_dir, "--api", "emulator", "--format", "json").output)
    assert [(i["address"], i.get("path")) for i in report["live"]] == [("cards.breakfast-set", "base_info.notice")]
    assert report["manifest"] == []


def imported_long_ago(directory: Path, key: str) -> dict[str, Any]:
    """Give cards.KEY (applied, and matching its manifest) the record `wxrec import` wrote before imports recorded
    what matches: no fields, no stock, no later keys. Returns the record it had."""
    path = directory / ".wxrec" / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    recorded: dict[str, Any] = state["resources"][f"cards.{key}"]
    bare = {"id": recorded["id"], "card_type": recorded["card_type"], "applied": {}, "stock": None}
    state["resources"][f"cards.{key}"] = bare
    path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    return recorded


def drift_of(directory: Path) -> tuple[int, dict[str, Any]]:
    result = wxrec("drift", directory, "--api", "emulator", "--format", "json")
    report: dict[str, Any] = json.loads(result.output)
    return result.exit_code, report


def test_claims_of_a_card_imported_before_imports_recorded_it_are_stock_to_refill(example_dir: Path) -> None:
    """Claims under the refill target of a card with the bare record of an old import are refills, as for any card,
    and the refill's apply records the fields and stock the import now records."""
    apply_ok(example_dir)
    recorded = imported_long_ago(example_dir, "breakfast-set")
    data = example_dir / ".wxrec" / "emulator.json"
    assert wxrec("emulator", "claim", recorded["id"], "3", "--data", data).exit_code == 0
    exit_code, report = drift_of(example_dir)
    assert exit_code == 0, report
    assert [(i["address"], i["id"], i["delta"]) for i in report["refills"]] == [
        ("cards.breakfast-set", recorded["id"], 3)
    ]
    assert report["manifest"] == report["live"] == []
    apply_ok(example_dir)
    assert json.loads(wxrec("state", "show", example_dir, "cards.breakfast-set").output) == recorded


def test_an_update_of_a_card_imported_long_ago_records_its_stock(example_dir: Path) -> None:
    """An update of a card whose stock meets its target records that target too, so later claims are refills."""
    apply_ok(example_dir)
    recorded = imported_long_ago(example_dir, "breakfast-set")
    edit(example_dir, "每日十一点前使用", "每日十点前使用")
    apply_ok(example_dir)
    record = json.loads(wxrec("state", "show", example_dir, "cards.breakfast-set").output)
    assert record == {**recorded, "applied": {**recorded["applied"], "base_info.notice": "每日十点前使用"}}


def test_an_offline_update_of_a_card_imported_short_of_its_target_records_no_stock(example_dir: Path) -> None:
    """--refresh=false leaves out the stock of a card imported short of its target; its update then applies no
    stock, so state records none: the stock is still unknown offline, and the claims made before the import are
    not "claimed since the last apply". A refreshed apply refills it and records the target."""
    apply_ok(example_dir)
    imported = card_id(example_dir, "breakfast-set")
    data = example_dir / ".wxrec" / "emulator.json"
    assert wxrec("emulator", "claim", imported, "3", "--data", data).exit_code == 0
    assert wxrec("state", "rm", example_dir, "cards.breakfast-set").exit_code == 0
    assert wxrec("import", example_dir, "cards.breakfast-set", imported, "--api", "emulator").exit_code == 0
    edit(example_dir, "每日十一点前使用", "每日十点前使用")
    apply_ok(example_dir, "--refresh=false")

    def record() -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(wxrec("state", "show", example_dir, "cards.breakfast-set").output)
        return shown

    assert record()["applied"]["base_info.notice"] == "每日十点前使用"
    assert record()["stock"] is None
    offline = json.loads(wxrec("plan", example_dir, "--api", "emulator", "--refresh=false", "--format", "json").output)
    assert [w for w in offline["warnings"] if w.startswith("cards.breakfast-set:")] == [
        "cards.breakfast-set: its stock was not applied since its import, so state holds no stock to compare it "
        "with; a refreshed plan (without --refresh=false) shows how it differs from the manifest's target"
    ]
    exit_code, report = drift_of(example_dir)
    assert exit_code == 0, report
    assert [(i["address"], i["delta"], i["what"]) for i in report["refills"]] == [
        ("cards.breakfast-set", 3, "3 under its refill target, not applied since the import: to refill")
    ]
    apply_ok(example_dir)
    assert record()["stock"] == {"mode": "refill", "target": 300, "ceiling": None}
    live = json.loads(wxrec("plan", example_dir, "--api", "emulator", "--format", "json").output)
    assert [c for c in live["changes"] if c["address"] == "cards.breakfast-set"] == []


def test_a_raised_target_of_a_card_wxrec_applied_stays_a_manifest_edit(example_dir: Path) -> None:
    apply_ok(example_dir)
    edit(example_dir, "quantity: 300", "quantity: 320")
    result = wxrec("drift", example_dir, "--api", "emulator", "--format", "json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.output)
    assert [(i["address"], i["what"]) for i in report["manifest"]] == [
        ("cards.breakfast-set", "stock target changed to 320")
    ]
    assert report["refills"] == []


def test_an_apply_with_nothing_to_change_records_what_an_older_state_lacks(example_dir: Path) -> None:
    """A state written before wxrec kept the colours and the key of saved plans: --refresh=false asks for one apply,
    and that apply writes them even when nothing else changes."""
    apply_ok(example_dir)
    path = example_dir / ".wxrec" / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    palette = state.pop("palette")
    del state["plan_key"]
    path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    offline = wxrec("plan", example_dir, "--api", "emulator", "--refresh=false")
    assert offline.exit_code == 1 and "predates colours): run one apply" in offline.output, offline.output
    assert "No changes" in apply_ok(example_dir).output
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["palette"] == palette and len(written["plan_key"]) == 64
    offline = wxrec("plan", example_dir, "--api", "emulator", "--refresh=false", "--detailed-exitcode")
    assert offline.exit_code == 0, offline.output


def test_offline_diff_classifies_like_plan_without_network(tmp_path: Path, example_dir: Path, no_network: None) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "base")
    edit(example_dir, "title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课")
    edit(example_dir, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
    result = wxrec("diff", "HEAD", example_dir, "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    changes = {c["address"]: c for c in json.loads(result.output)["changes"]}
    assert changes["cards.latte-art-class"]["action"] == "replace"
    assert changes["cards.breakfast-set"]["action"] == "update" and changes["cards.breakfast-set"]["review"]
    repointed = {"landing_pages.coupon-shelf", "qrcodes.class-poster", "menu"}
    assert set(changes) == {"cards.latte-art-class", "cards.breakfast-set", *repointed}
    unknown = wxrec("diff", "no-such-ref", example_dir)
    assert unknown.exit_code == 1 and "rev-parse" not in unknown.output, unknown.output
    assert "no-such-ref: no such directory, nor a git commit, branch or tag in " in unknown.output


def test_diff_names_a_base_that_is_neither_a_directory_nor_a_ref_outside_git(example_dir: Path) -> None:
    unknown = wxrec("diff", "main", example_dir)
    assert unknown.exit_code == 1 and "rev-parse" not in unknown.output and "fatal" not in unknown.output
    assert f"main: no such directory, and {example_dir} is not in a git repository to take a ref from" in unknown.output


def test_diff_against_a_directory(tmp_path: Path, example_dir: Path, no_network: None) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for name in ("account.yaml", "cards.yaml"):
        (base / name).write_bytes((example_dir / name).read_bytes())
    text = (example_dir / "cards.yaml").read_text(encoding="utf-8")
    without_member = text[: text.index("  member:")] + text[text.index("  latte-art-class:") :]
    (example_dir / "cards.yaml").write_text(without_member, encoding="utf-8")
    result = wxrec("diff", base, example_dir)
    assert result.exit_code == 1, "deleting a prevent_destroy card is refused even offline"
    assert "- cards.member will be deleted" in result.output
    assert "lifecycle.prevent_destroy forbids this delete" in result.output


def test_diff_refuses_what_plan_refuses(tmp_path: Path, example_dir: Path) -> None:
    """The destroy threshold and prevent_destroy: diff says what plan says, with the same threshold option."""
    (example_dir / "campaign.yaml").unlink()
    text = (example_dir / "cards.yaml").read_text(encoding="utf-8")
    block = text[text.index("  farm-tour:") :]
    extra = "".join(block.replace("farm-tour:", f"tour-{i}:") for i in range(2))
    (example_dir / "cards.yaml").write_text(text + extra, encoding="utf-8")
    apply_ok(example_dir)
    base = tmp_path / "base"
    shutil.copytree(example_dir, base, ignore=RUN_LEFTOVERS)
    # Only the member card is kept: the existing coupons' import blocks go with them.
    kept = text[text.index("cards:\n") : text.index("  latte-voucher:")]
    kept += text[text.index("  member:") : text.index("  latte-art-class:")]
    (example_dir / "cards.yaml").write_text(kept, encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator", "--format", "json")
    diff = wxrec("diff", base, example_dir, "--format", "json")
    assert plan.exit_code == diff.exit_code == 1, diff.output
    refused = json.loads(plan.output[: plan.output.rindex("}") + 1])["refusals"]
    assert any("deletes or replaces 7 of 8 managed cards, tags and stocks" in r for r in refused), refused
    assert json.loads(diff.output[: diff.output.rindex("}") + 1])["refusals"] == refused
    relaxed = ("--destroy-threshold", "1")
    assert wxrec("plan", example_dir, "--api", "emulator", *relaxed).exit_code == 0
    assert wxrec("diff", base, example_dir, *relaxed).exit_code == 0


def test_diff_refuses_a_colour_plan_refuses_once_state_knows_the_colours(tmp_path: Path, example_dir: Path) -> None:
    apply_ok(example_dir)
    base = tmp_path / "base"
    shutil.copytree(example_dir, base, ignore=RUN_LEFTOVERS)
    edit(example_dir, "color: Color010", "color: Color999")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    diff = wxrec("diff", base, example_dir)
    assert plan.exit_code == diff.exit_code == 1
    assert "'Color999' is not a colour of card/getcolors" in plan.output
    assert plan.output.splitlines()[-1] == diff.output.splitlines()[-1]


def test_schema_command_prints_both_schemas() -> None:
    manifest = json.loads(wxrec("schema").output)
    plan = json.loads(wxrec("schema", "plan").output)
    assert manifest["title"] == "wxrec manifest" and plan["title"] == "wxrec plan document"


def test_ci_warns_that_a_git_ignored_state_file_is_lost(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = wxrec("plan", example_dir, "--api", "emulator")
    assert "CI=true and state is" in result.output and "runners are throwaway" in result.output
    committed = wxrec("plan", example_dir, "--api", "emulator", "--state", example_dir / "state.json")
    assert "CI=true" not in committed.output
