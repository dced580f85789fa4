"""The pure core: three-way diff, classification, stock arithmetic. No I/O."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan import Action
from reconciler.resources.cards.diff import plan_card, stock_change
from reconciler.resources.cards.model import DesiredCard, LiveCard, Stock
from reconciler.resources.cards.record import CardRecord

BASE: dict[str, Any] = {
    "base_info.title": "拿铁立减",
    "base_info.brand_name": "山丘咖啡",
    "base_info.description": "不可与其他优惠同享",
    "base_info.color": "Color010",
    "base_info.date_info.type": "DATE_TYPE_FIX_TIME_RANGE",
    "base_info.date_info.begin_timestamp": 1000,
    "base_info.date_info.end_timestamp": 2000,
    "least_cost": 3000,
}


def desired(fields: dict[str, Any] | None = None, stock: Stock | None = None, **kw: Any) -> DesiredCard:
    return DesiredCard("latte", "CASH", {**BASE, **(fields or {})}, stock or Stock("budget", 100), **kw)


def live(fields: dict[str, Any] | None = None, quantity: int = 100, total: int = 100, **kw: Any) -> LiveCard:
    merged = {**BASE, "base_info.get_limit": 50, "base_info.area_code_list": [], **(fields or {})}
    return LiveCard("pLIVE", kw.get("card_type", "CASH"), "CARD_STATUS_VERIFY_OK", merged, quantity, total)


def record(applied: dict[str, Any] | None = None, **kw: Any) -> CardRecord:
    return CardRecord("pLIVE", "CASH", {**BASE, **(applied or {})}, Stock("budget", 100), **kw)


def test_in_sync_card_has_no_change_even_with_server_defaults() -> None:
    assert plan_card("cards.latte", desired(), live(), record()) is None


def test_new_card_is_created() -> None:
    change = plan_card("cards.latte", desired(), None, None)
    assert change is not None and change.action == Action.CREATE


def test_description_edit_is_an_update_that_goes_back_to_review() -> None:
    change = plan_card("cards.latte", desired({"base_info.description": "新说明"}), live(), record())
    assert change is not None and change.action == Action.UPDATE and change.review
    assert [(c.path, c.old, c.new, c.review) for c in change.changes] == [
        ("base_info.description", "不可与其他优惠同享", "新说明", True)
    ]


def test_brand_name_edit_forces_a_replace() -> None:
    change = plan_card("cards.latte", desired({"base_info.brand_name": "山丘"}), live(), record())
    assert change is not None and change.action == Action.REPLACE
    assert change.reasons == ["base_info.brand_name cannot be changed by card/update"]
    assert change.changes[0].forces_replace


def test_widening_the_date_range_updates_in_place() -> None:
    change = plan_card("cards.latte", desired({"base_info.date_info.end_timestamp": 3000}), live(), record())
    assert change is not None and change.action == Action.UPDATE and not change.review


def test_narrowing_the_date_range_forces_a_replace() -> None:
    change = plan_card("cards.latte", desired({"base_info.date_info.end_timestamp": 1500}), live(), record())
    assert change is not None and change.action == Action.REPLACE
    assert "date_info can only be widened (begin earlier, end later)" in change.reasons


def test_field_never_mentioned_is_not_managed() -> None:
    assert plan_card("cards.latte", desired(), live({"base_info.service_phone": "123"}), record()) is None


def test_field_removed_from_manifest_is_reset() -> None:
    applied = {"base_info.service_phone": "400-820-8820"}
    change = plan_card("cards.latte", desired(), live({"base_info.service_phone": "400-820-8820"}), record(applied))
    assert change is not None and change.action == Action.UPDATE
    assert [(c.path, c.new, c.reset) for c in change.changes] == [("base_info.service_phone", "", True)]


def test_ignore_changes_hides_a_field() -> None:
    card = desired({"base_info.description": "新说明"}, ignore_changes=("base_info.description",))
    assert plan_card("cards.latte", card, live(), record()) is None


def test_claims_under_a_refill_target_become_a_stock_action() -> None:
    change = plan_card("cards.latte", desired(stock=Stock("refill", 100)), live(quantity=93, total=100), record())
    assert change is not None and change.action == Action.STOCK
    assert change.stock is not None and change.stock.delta == 7


def test_claims_under_a_budget_are_not_a_change() -> None:
    assert plan_card("cards.latte", desired(stock=Stock("budget", 100)), live(quantity=93, total=100), record()) is None


def test_deleted_card_is_reported_not_revived() -> None:
    change = plan_card("cards.latte", desired(), None, record())
    assert change is not None and change.action == Action.GONE
    revived = plan_card("cards.latte", desired(), None, record(), force_replace=True)
    assert revived is not None and revived.action == Action.CREATE


def test_card_gone_from_manifest_is_deleted() -> None:
    change = plan_card("cards.latte", None, live(), record())
    assert change is not None and change.action == Action.DELETE and change.id == "pLIVE"


def test_replaced_card_is_retired_only_after_review() -> None:
    reviewing = live()
    reviewing.status = "CARD_STATUS_NOT_VERIFY"
    old = live()
    waiting = plan_card("cards.latte", desired(), reviewing, record(retire_ids=("pOLD",)), retiring={"pOLD": old})
    assert waiting is None
    ready = plan_card("cards.latte", desired(), live(), record(retire_ids=("pOLD",)), retiring={"pOLD": old})
    assert ready is not None and ready.action == Action.RETIRE and ready.retire_ids == ["pOLD"]


quantities = st.integers(min_value=0, max_value=100_000_000)


@given(target=quantities, quantity=quantities, issued=quantities, ceiling=st.none() | quantities)
def test_refill_never_goes_below_zero_nor_past_the_ceiling(
    target: int, quantity: int, issued: int, ceiling: int | None
) -> None:
    total = quantity + issued
    change = stock_change(Stock("refill", target, ceiling), LiveCard("p", "CASH", "", {}, quantity, total))
    delta = change.delta if change else 0
    assert quantity + delta >= 0
    if ceiling is not None and delta > 0:
        assert total + delta <= ceiling
    if ceiling is None:
        assert quantity + delta == target


@given(target=quantities, quantity=quantities, issued=quantities)
def test_budget_reaches_its_total_unless_claims_exceed_it(target: int, quantity: int, issued: int) -> None:
    total = quantity + issued
    change = stock_change(Stock("budget", target), LiveCard("p", "CASH", "", {}, quantity, total))
    delta = change.delta if change else 0
    assert quantity + delta >= 0
    if target >= issued:
        assert total + delta == target
    else:
        assert quantity + delta == 0
