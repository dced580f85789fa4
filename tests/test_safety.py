"""Safety nets: lost state, interrupted creates, lost stock answers, mass deletes, locks, state repair."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.emulator import EXISTING_CARDS_FILE
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.state import FileBackend
from reconciler.wechat.errors import UncertainOutcome
from tests.support import EXAMPLE, Harness, apply_ok, wxrec

# The coupons the example's account already has (its import blocks adopt them); the example makes three cards.
EXISTING = len(json.loads((EXAMPLE / EXISTING_CARDS_FILE).read_text(encoding="utf-8"))["cards"])
MADE = 3


def test_lost_state_refuses_to_duplicate_and_import_adopts(example_dir: Path) -> None:
    # Cards only: landing pages and QR codes cannot be read back, so lost state cannot be recovered for them.
    (example_dir / "campaign.yaml").unlink()
    apply_ok(example_dir)
    state_file = example_dir / ".wxrec" / "state.json"
    adopted = {block["to"] for block in load_manifest(example_dir).document.data["import"]}
    resources = json.loads(state_file.read_text())["resources"]
    ids = {a: r["id"] for a, r in resources.items() if a.startswith("cards.") and a not in adopted}
    state_file.unlink()
    refused = wxrec("plan", example_dir, "--api", "emulator")
    assert refused.exit_code == 1
    for address, card_id in ids.items():
        assert f"{address} would duplicate live card {card_id}" in refused.output
    for address in adopted:
        assert f"= {address} (" in refused.output, "the import blocks adopt the existing coupons again"
    assert wxrec("plan", example_dir, "--api", "emulator", "--allow-duplicate").exit_code == 0
    for address, card_id in ids.items():
        imported = wxrec("import", example_dir, address, card_id, "--api", "emulator")
        assert imported.exit_code == 0, imported.output
    apply_ok(example_dir)  # the import blocks
    final = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert final.exit_code == 0 and "No changes." in final.output, final.output


def test_import_refuses_a_wrong_type_or_an_owned_card(example_dir: Path) -> None:
    apply_ok(example_dir)
    resources = json.loads((example_dir / ".wxrec" / "state.json").read_text())["resources"]
    ids = {a: r["id"] for a, r in resources.items() if a.startswith("cards.")}
    owned = wxrec("import", example_dir, "cards.member", ids["cards.latte-voucher"], "--api", "emulator")
    assert owned.exit_code == 1 and "already managed as cards.latte-voucher" in owned.output


async def test_lost_create_answer_is_resolved_by_finding_the_card(shop: Harness, monkeypatch: Any) -> None:
    real_create = shop.api.create

    async def create_then_lose_answer(card: dict[str, Any]) -> str:
        await real_create(card)
        raise UncertainOutcome("/card/create", "connection reset", maybe_applied=True)

    monkeypatch.setattr(shop.api, "create", create_then_lose_answer)
    await shop.apply()
    monkeypatch.undo()
    live = (await shop.control_get("cards"))["cards"]
    assert len(live) == EXISTING + MADE, "one card per address: nothing created twice"
    state = shop.backend.load()
    assert state is not None and not state.intents
    assert {r["id"] for a, r in state.resources.items() if a.startswith("cards.")} == {c["card_id"] for c in live}
    assert not (await shop.plan()).changes


async def test_create_that_never_happened_is_made_once(shop: Harness, monkeypatch: Any) -> None:
    real_create = shop.api.create
    lost = {"count": 0}

    async def lose_first_request(card: dict[str, Any]) -> str:
        if lost["count"] == 0:
            lost["count"] += 1
            raise UncertainOutcome("/card/create", "timeout", maybe_applied=True)
        return await real_create(card)

    monkeypatch.setattr(shop.api, "create", lose_first_request)
    await shop.apply()
    assert len((await shop.control_get("cards"))["cards"]) == EXISTING + MADE


class Killed(BaseException):
    """Stands for kill -9 between WeChat's answer and the state write."""


async def test_interrupted_create_is_uncertain_in_plan_and_adopted_by_apply(shop: Harness, monkeypatch: Any) -> None:
    real_create = shop.api.create

    async def create_then_die(card: dict[str, Any]) -> str:
        await real_create(card)
        raise Killed

    monkeypatch.setattr(shop.api, "create", create_then_die)
    with pytest.raises(Killed):
        await shop.apply()
    monkeypatch.undo()
    plan = await shop.plan()
    assert any("uncertain whether WeChat made the card" in w for w in plan.warnings)
    assert not plan.refusals, "an interrupted create is not a duplicate of lost state"
    await shop.apply()
    assert len((await shop.control_get("cards"))["cards"]) == EXISTING + MADE
    assert not (await shop.plan()).changes


async def test_lost_modifystock_answer_is_never_applied_twice(shop: Harness, monkeypatch: Any) -> None:
    await shop.apply()
    card = shop.card_id("weekday-discount")
    await shop.control("claim", card_id=card, count=50)
    real_modify = shop.api.modify_stock

    async def modify_then_lose_answer(card_id: str, delta: int) -> None:
        await real_modify(card_id, delta)
        raise UncertainOutcome("/card/modifystock", "timeout", maybe_applied=True)

    monkeypatch.setattr(shop.api, "modify_stock", modify_then_lose_answer)
    report = await shop.apply()
    assert "stock +50 (claimable 150 → 200)" in report.outcomes[0].message
    live = await shop.api.get(card)
    assert live is not None and live["discount"]["base_info"]["sku"] == {"quantity": 200, "total_quantity": 250}


async def test_mass_delete_is_refused_above_the_threshold(shop: Harness) -> None:
    text = (shop.directory / "cards.yaml").read_text(encoding="utf-8")
    block = text[text.index("  farm-tour:") :]
    extra = "".join(block.replace("farm-tour:", f"tour-{i}:") for i in range(10))
    (shop.directory / "cards.yaml").write_text(text + extra.replace("\n  ", "\n  ", 1), encoding="utf-8")
    await shop.apply()
    (shop.directory / "cards.yaml").write_text(text, encoding="utf-8")
    plan = await shop.plan()
    assert sum(c.action == Action.DELETE for c in plan.changes) == 10
    assert any(
        f"deletes or replaces 10 of {EXISTING + MADE + 10} managed cards, tags and stocks" in r for r in plan.refusals
    )
    relaxed = await shop.plan(destroy_threshold=1.0)
    assert not relaxed.refusals


def test_second_apply_waits_then_names_the_lock_holder(example_dir: Path) -> None:
    backend = FileBackend(example_dir / ".wxrec" / "state.json")
    with backend.lock(timeout=1):
        holder = json.loads((example_dir / ".wxrec" / "state.json.lock.info").read_text())
        result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--lock-timeout", "0.2")
        assert result.exit_code == 1
        assert f"lock id {holder['id']}" in result.output and f"pid {holder['pid']}" in result.output
        alive = wxrec("state", "unlock", example_dir, holder["id"])
        assert alive.exit_code == 1 and "still holds the lock" in alive.output
        wrong = wxrec("state", "unlock", example_dir, "not-the-id")
        assert wrong.exit_code == 1 and "nothing was changed" in wrong.output


def test_dead_holders_lock_can_be_broken(example_dir: Path) -> None:
    info = example_dir / ".wxrec" / "state.json.lock.info"
    info.parent.mkdir(parents=True)
    info.write_text(json.dumps({"id": "abc", "host": "elsewhere", "pid": 1, "started": 0}))
    result = wxrec("state", "unlock", example_dir, "abc")
    assert result.exit_code == 0 and not info.exists()


def test_state_list_show_rm(example_dir: Path) -> None:
    apply_ok(example_dir)
    listed = wxrec("state", "list", example_dir)
    assert (
        listed.exit_code == 0
        and sum(line.startswith("cards.") for line in listed.output.splitlines()) == EXISTING + MADE
    )
    shown = json.loads(wxrec("state", "show", example_dir, "cards.member").output)
    assert shown["card_type"] == "MEMBER_CARD" and shown["prevent_destroy"] is True
    serial = json.loads((example_dir / ".wxrec" / "state.json").read_text())["serial"]
    removed = wxrec("state", "rm", example_dir, "cards.member")
    assert removed.exit_code == 0 and "WeChat was not touched" in removed.output
    after = json.loads((example_dir / ".wxrec" / "state.json").read_text())
    assert "cards.member" not in after["resources"] and after["serial"] == serial + 1
    backup = json.loads((example_dir / ".wxrec" / "state.json.backup").read_text())
    assert "cards.member" in backup["resources"]
    again = wxrec("state", "rm", example_dir, "cards.member")
    assert again.exit_code == 1 and "nothing was changed" in again.output


def test_usage_errors_exit_1_not_2(example_dir: Path) -> None:
    assert wxrec("plan", example_dir, "--detailed-exitcode", "--paralelism", "3").exit_code == 1
    assert wxrec("plan", example_dir / "missing", "--detailed-exitcode").exit_code == 1


def test_secret_and_tokens_never_appear_in_anything_wxrec_prints_or_writes(example_dir: Path) -> None:
    secret = "S3cr3t-app-secret-0f9e8d7c6b5a"
    (example_dir / "account.yaml").write_text("account:\n  appid: wx1234567890abcdef\n", encoding="utf-8")
    env = {"WXREC_APPSECRET": secret, "WXREC_EMULATOR_FAULTS": "error=40001:0.08,error=-1:0.1,seed=3"}
    runner = CliRunner()
    outputs = []
    for args in (
        ["plan", str(example_dir), "--api", "emulator"],
        ["apply", str(example_dir), "--api", "emulator", "--auto-approve"],
        ["apply", str(example_dir), "--api", "emulator", "--auto-approve", "--format", "json"],
        ["plan", str(example_dir), "--api", "emulator", "--format", "json"],
        ["state", "list", str(example_dir)],
        ["state", "show", str(example_dir), "cards.member"],
        ["plan", str(example_dir), "--api", "http://127.0.0.1:1"],
    ):
        outputs.append(runner.invoke(cli, args, env=env, catch_exceptions=False).output)
    assert f"Apply complete: {EXISTING + 10} done, 0 failed." in outputs[1], outputs[1]
    wxrec_dir = example_dir / ".wxrec"
    emulator_data = (wxrec_dir / "emulator.json").read_text(encoding="utf-8")
    tokens = set(re.findall(r'"(?:access_token|token)": "([^"]{16,})"', emulator_data))
    assert len(tokens) >= 2, "token invalidation should have forced refreshes"
    written = [p.read_text(encoding="utf-8") for p in wxrec_dir.iterdir() if p.name != "emulator.json"]
    for text in [*outputs, *written]:
        assert secret not in text
        assert not any(token in text for token in tokens)
    assert secret not in emulator_data, "the emulator does not store secrets either"
