"""Plan and apply through the real client against the in-process emulator: the behaviours between calls."""

from __future__ import annotations

from reconciler.plan import Action
from tests.support import Harness


async def test_stock_converges_on_claims_made_between_plan_and_apply(shop: Harness) -> None:
    await shop.apply()
    card = shop.card_id("weekday-discount")
    await shop.control("claim", card_id=card, count=7)
    plan = await shop.plan()
    assert [(c.address, c.action, c.stock.delta if c.stock else None) for c in plan.changes] == [
        ("cards.weekday-discount", Action.STOCK, 7)
    ]
    await shop.control("claim", card_id=card, count=3)
    report = await shop.apply()
    assert "stock +10 (claimable 190 → 200)" in report.outcomes[0].message
    assert not (await shop.plan()).changes


async def test_refill_stops_at_its_ceiling(shop: Harness) -> None:
    await shop.apply()
    card = shop.card_id("weekday-discount")
    for _ in range(9):  # 9 × 200 claimed and refilled: 2000 issued, the ceiling
        await shop.control("claim", card_id=card, count=200)
        await shop.apply()
    await shop.control("claim", card_id=card, count=200)
    assert not (await shop.plan()).changes, "max_total_quantity 2000 is reached: no more refills"


async def test_replaced_card_keeps_the_old_one_until_review_passes(reviewed_shop: Harness) -> None:
    shop = reviewed_shop
    await shop.apply()
    old = shop.card_id("farm-tour")  # no page nor code shows it: the replace is the only change
    plan = await shop.plan(replace=frozenset({"cards.farm-tour"}))
    assert [c.action for c in plan.changes] == [Action.REPLACE]
    report = await shop.apply(replace=frozenset({"cards.farm-tour"}))
    assert any(f"{old} stays until" in o.message and o.action == "retire" for o in report.outcomes)
    new = shop.card_id("farm-tour")
    waiting = await shop.plan()
    assert not waiting.changes, "nothing to do while the new card is in review"
    await shop.control("review", card_id=new, result="approve")
    ready = await shop.plan()
    assert [(c.action, c.retire_ids) for c in ready.changes] == [(Action.RETIRE, [old])]
    await shop.apply()
    assert not (await shop.plan()).changes
    gone = await shop.api.get(old)
    assert gone is None


async def test_replaced_budget_card_only_gets_what_is_left_of_the_budget(shop: Harness) -> None:
    await shop.apply()
    old = shop.card_id("farm-tour")  # total_quantity: 1000
    await shop.control("claim", card_id=old, count=600)
    await shop.apply(replace=frozenset({"cards.farm-tour"}))
    new = await shop.api.get(shop.card_id("farm-tour"))
    assert new is not None
    assert new["scenic_ticket"]["base_info"]["sku"] == {"quantity": 400, "total_quantity": 400}


async def test_unmanaged_cards_are_listed_and_never_touched(shop: Harness) -> None:
    await shop.apply()
    stranger = await shop.api.create(
        {
            "card_type": "SCENIC_TICKET",
            "scenic_ticket": {
                "base_info": {
                    "logo_url": "http://mmbiz.qpic.cn/mmbiz/stranger/0",
                    "brand_name": "别家",
                    "code_type": "CODE_TYPE_TEXT",
                    "title": "赠品",
                    "color": "Color010",
                    "notice": "出示",
                    "description": "说明",
                    "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3, "fixed_begin_term": 0},
                    "sku": {"quantity": 1},
                },
                "ticket_class": "成人票",
            },
        }
    )
    plan = await shop.plan()
    assert plan.unmanaged == [stranger] and not plan.changes


async def test_expired_token_is_refreshed_mid_run(shop: Harness) -> None:
    await shop.apply()
    await shop.control("clock", advance=7300)  # the cached token is now expired at WeChat
    assert not (await shop.plan()).changes


async def test_console_edit_shows_as_a_change_back_to_the_manifest(shop: Harness) -> None:
    await shop.apply()
    card = shop.card_id("latte-voucher")
    await shop.control("edit", card_id=card, base_info={"notice": "控制台改过的提醒"})
    plan = await shop.plan()
    assert [(c.path, c.old, c.new) for c in plan.changes[0].changes] == [
        ("base_info.notice", "控制台改过的提醒", "结账时请出示此券")
    ]
    await shop.apply()
    assert not (await shop.plan()).changes
