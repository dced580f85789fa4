"""Account resources through the engine: uncertain creates, console menus, review waits, menu drift."""

from __future__ import annotations

from typing import Any

from reconciler.drift import drift_report
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.planning import plan_for_apply
from reconciler.scheduler import apply_plan
from reconciler.state import State
from reconciler.wechat.account import AccountApi
from reconciler.wechat.errors import UncertainOutcome
from tests.support import Harness


async def test_lost_landing_page_answer_is_uncertain_and_not_created_twice(shop: Harness, monkeypatch: Any) -> None:
    async def lose_answer(self: AccountApi, page: dict[str, Any]) -> tuple[str, str]:
        raise UncertainOutcome("/card/landingpage/create", "timeout", maybe_applied=True)

    monkeypatch.setattr(AccountApi, "create_landing_page", lose_answer)
    current = shop.backend.load() or State(appid="wx0123456789abcdef", endpoint="emulator")
    _, plan = await plan_for_apply(
        load_manifest(shop.directory), shop.api, current, shop.backend, "emulator", shop.options()
    )
    report = await apply_plan(plan, shop.api, current, shop.backend, shop.options())
    outcomes = {o.address: o for o in report.outcomes}
    assert not outcomes["landing_pages.coupon-shelf"].ok
    assert "cannot be read back" in outcomes["landing_pages.coupon-shelf"].message
    assert (outcomes["menu"].status, outcomes["menu"].message) == ("skipped", "landing_pages.coupon-shelf failed"), (
        "the menu links to the page"
    )
    monkeypatch.undo()
    again = await shop.plan()
    assert any("landing_pages.coupon-shelf: an earlier create lost its answer" in r for r in again.refusals)
    forced = await shop.plan(replace=frozenset({"landing_pages.coupon-shelf"}))
    assert not forced.refusals
    await shop.apply(replace=frozenset({"landing_pages.coupon-shelf"}))
    assert not (await shop.plan()).changes


async def test_menu_made_in_the_console_is_shown_before_it_is_replaced(shop: Harness) -> None:
    await shop.control("console_menu", button=[{"name": "控制台", "type": "click", "key": "CONSOLE"}])
    plan = await shop.plan()
    assert any("a menu made in the MP console is live" in w for w in plan.warnings)
    menu = next(c for c in plan.changes if c.address == "menu")
    assert menu.action == Action.UPDATE


async def test_unique_code_qr_waits_for_review(reviewed_shop: Harness) -> None:
    shop = reviewed_shop
    path = shop.directory / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("        outer_str: flyer\n", "        outer_str: flyer\n        is_unique_code: true\n"),
        encoding="utf-8",
    )
    current = State(appid="wx0123456789abcdef", endpoint="emulator")
    _, plan = await plan_for_apply(
        load_manifest(shop.directory), shop.api, current, shop.backend, "emulator", shop.options()
    )
    report = await apply_plan(plan, shop.api, current, shop.backend, shop.options(wait_for_review=0.2))
    poster = next(o for o in report.outcomes if o.address == "qrcodes.class-poster")
    assert not poster.ok and "is_unique_code needs approved card" in poster.message
    await shop.control("review", card_id=shop.card_id("latte-art-class"), result="approve")
    await shop.apply()
    assert "qrcodes.class-poster" in (shop.backend.load() or State(appid="", endpoint="")).resources


async def test_menu_changed_by_hand_is_drift(shop: Harness) -> None:
    await shop.apply()
    await AccountApi(shop.api.client).create_menu({"button": [{"name": "改过", "type": "click", "key": "X"}]})
    report = drift_report(await shop.plan(), shop.backend.load())
    assert [(i["address"], i["what"]) for i in report["live"]] == [("menu", "menu changed in WeChat by hand")]
    assert not report["manifest"]


async def test_drift_names_knock_on_changes_of_a_replace(shop: Harness) -> None:
    await shop.apply()
    cards = shop.directory / "cards.yaml"
    cards.write_text(
        cards.read_text(encoding="utf-8").replace("title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课"),
        encoding="utf-8",
    )
    report = drift_report(await shop.plan(), shop.backend.load())
    whats = {i["address"]: i["what"] for i in report["manifest"]}
    assert whats["landing_pages.coupon-shelf"] == "re-created because cards.latte-art-class gets a new id"
    assert whats["menu"].startswith("re-pointed because landing_pages.coupon-shelf gets a new url")
    assert not report["live"]


async def test_a_reference_that_breaks_a_menu_limit_once_filled_in_never_reaches_menu_create(shop: Harness) -> None:
    """`${cards.member.id}` as a top-level name passes validate (it is resolved later), but a card id is 28 bytes
    where WeChat allows 16: apply stops before menu/create, and the next plan refuses at file:line. (The member
    card is made by this apply: an imported card's id is known from the start.)"""
    campaign = shop.directory / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8").replace("- name: 领优惠", "- name: ${cards.member.id}")
    campaign.write_text(text, encoding="utf-8")
    current = State(appid="wx0123456789abcdef", endpoint="emulator")
    manifest = load_manifest(shop.directory)
    _, plan = await plan_for_apply(manifest, shop.api, current, shop.backend, "emulator", shop.options())
    assert not plan.refusals, "the card id is not known before this apply"
    report = await apply_plan(plan, shop.api, current, shop.backend, shop.options())
    outcomes = {o.address: o for o in report.outcomes}
    assert not outcomes["menu"].ok
    assert outcomes["menu"].message.startswith("menu.button.0.name: is 28 bytes of UTF-8")
    assert "once its references are filled in; menu/create was not called" in outcomes["menu"].message
    calls = [c["path"] for c in (await shop.control_get("calls"))["calls"]]
    assert "/cgi-bin/menu/create" not in calls
    line = text.splitlines().index("    - name: ${cards.member.id}") + 1
    again = await shop.plan()
    assert [r for r in again.refusals if "menu" in r] == [
        f"{campaign}:{line}:7: menu.button.0.name: is 28 bytes of UTF-8; a top-level button name may have at "
        "most 16 (a Chinese character is 3 bytes) once its references are filled in"
    ]
