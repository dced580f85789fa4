"""Regressions found in review: each test is a scenario that once went wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import EXISTING_CARDS_FILE
from reconciler.manifest import load_manifest
from reconciler.planning import plan_for_apply
from reconciler.scheduler import apply_plan
from reconciler.wechat.account import AccountApi
from reconciler.wechat.errors import WeChatError
from tests.support import EXAMPLE, Harness, served_emulator, wxrec


@pytest.fixture
def served_with_lost_creates() -> Iterator[str]:
    existing = ("--existing-cards", str(EXAMPLE / EXISTING_CARDS_FILE))  # the coupons the example imports
    with served_emulator("--faults", "drop=1,paths=/card/create", *existing) as url:
        yield url


def test_every_card_create_answer_lost_over_real_http_still_makes_each_card_once(
    served_with_lost_creates: str, example_dir: Path
) -> None:
    (example_dir / "campaign.yaml").unlink()
    result = wxrec("apply", example_dir, "--api", served_with_lost_creates, "--auto-approve")
    assert result.exit_code == 0, result.output
    live = httpx.get(f"{served_with_lost_creates}/_emulator/cards").json()["cards"]
    assert sorted(c["title"] for c in live) == sorted({c["title"] for c in live}) and len(live) == 3 + 3


async def test_replacing_a_budget_card_after_claims_keeps_the_budget(shop: Harness) -> None:
    (shop.directory / "campaign.yaml").unlink()
    await shop.apply()
    old = shop.card_id("farm-tour")  # total_quantity: 1000
    await shop.control("claim", card_id=old, count=120)
    await shop.apply(replace=frozenset({"cards.farm-tour"}))
    assert not (await shop.plan()).changes, "the new card's budget already counts what the old one issued"
    cards = {c["card_id"]: c for c in (await shop.control_get("cards"))["cards"]}
    old_card, new_card = cards[old], cards[shop.card_id("farm-tour")]
    claimed_from_old = old_card["sku"]["total_quantity"] - old_card["sku"]["quantity"]
    assert claimed_from_old + new_card["sku"]["total_quantity"] == 1000, "never more than the budget in all"


def test_prevent_destroy_added_later_is_remembered(example_dir: Path) -> None:
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    path = example_dir / "cards.yaml"
    text = path.read_text(encoding="utf-8")
    protected = text.replace("    ticket_class:", "    lifecycle: {prevent_destroy: true}\n    ticket_class:", 1)
    path.write_text(protected, encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "lifecycle.prevent_destroy: false → true" in plan.output
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    path.write_text(protected[: protected.index("  farm-tour:")], encoding="utf-8")
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--allow-destroy")
    assert refused.exit_code == 1 and "cards.farm-tour: lifecycle.prevent_destroy forbids" in refused.output


async def test_old_card_is_kept_while_a_page_pointing_at_it_failed(shop: Harness, monkeypatch: Any) -> None:
    await shop.apply()
    old = shop.card_id("latte-art-class")  # on the page

    async def refuse(self: AccountApi, page: dict[str, Any]) -> tuple[str, str]:
        raise WeChatError("/card/landingpage/create", -1, "system error")

    monkeypatch.setattr(AccountApi, "create_landing_page", refuse)
    state = shop.backend.load()
    assert state is not None
    options = shop.options(replace=frozenset({"cards.latte-art-class"}))
    _, plan = await plan_for_apply(load_manifest(shop.directory), shop.api, state, shop.backend, "emulator", options)
    report = await apply_plan(plan, shop.api, state, shop.backend, options)
    kept = [o for o in report.outcomes if o.action == "retire"]
    assert kept and not kept[0].ok and "landing_pages.coupon-shelf failed" in kept[0].message
    assert await shop.api.get(old) is not None, "the menu still leads to the old page: the old card must live"
    assert "landing_pages.coupon-shelf" not in (shop.backend.load() or state).intents, "an error is not uncertain"


def test_lifecycle_on_a_page_does_not_recreate_it_every_apply(example_dir: Path) -> None:
    path = example_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    scene: SCENE_MENU\n", "    scene: SCENE_MENU\n    lifecycle: {prevent_destroy: true}\n"),
        encoding="utf-8",
    )
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    again = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_field_wechat_cannot_clear_is_reported(example_dir: Path) -> None:
    # A card wxrec makes, so state knows the manifest set the field (an imported coupon's record holds nothing).
    path = example_dir / "cards.yaml"
    sub_title = "      sub_title: 含一次烘焙体验\n"
    text = path.read_text(encoding="utf-8")
    titled = text.replace("      title: 山丘咖啡庄园参观票\n", "      title: 山丘咖啡庄园参观票\n" + sub_title)
    path.write_text(titled, encoding="utf-8")
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace(sub_title, ""), encoding="utf-8")
    plan = wxrec("plan", example_dir, "--api", "emulator")
    assert "base_info.sub_title is no longer in the manifest, but WeChat cannot clear it" in plan.output


def test_wrong_secret_says_so(example_dir: Path, served_with_lost_creates: str) -> None:
    result = wxrec("plan", example_dir, "--api", served_with_lost_creates, env={"WXREC_APPSECRET": "wrong"})
    assert result.exit_code == 1 and "refused the credentials of wx0123456789abcdef" in result.output
    missing = wxrec(
        "plan", example_dir, "--api", served_with_lost_creates, env={"WXREC_APPSECRET_FILE": "/nonexistent"}
    )
    assert missing.exit_code == 1 and "WXREC_APPSECRET_FILE=/nonexistent: cannot read it" in missing.output


def test_saved_plan_is_refused_while_a_create_is_unsettled(example_dir: Path, tmp_path: Path) -> None:
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    state_file = example_dir / ".wxrec" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    after = {"card_type": "CASH", "fields": {}, "stock": {"mode": "budget", "target": 1}}
    state["intents"]["cards.extra"] = {"action": "create", "started": 0, "after": after, "retire_ids": []}
    state_file.write_text(json.dumps(state), encoding="utf-8")
    saved = tmp_path / "plan.json"
    assert wxrec("plan", example_dir, "--api", "emulator", "-out", saved).exit_code == 0
    refused = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved)
    assert refused.exit_code == 1 and "an interrupted run left creates to settle" in refused.output
