"""Coupons since 2021-04-01: card/create refuses the five coupon types (the legacy switch accepts them), the
coupons an account already has keep working, and an account can start with existing cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.emulator import ExistingCardsError
from reconciler.emulator.cli import emulator_group
from reconciler.emulator.model import COUPON_TYPES, VERIFY_OK

from .support import TYPE_FIELDS, MakeApi, base_info, card_body
from .test_emulator_cli import served  # noqa: F401  (a fixture)
from .test_emulator_deposit import DEPOSIT_MODE
from .test_emulator_landing import page
from .test_emulator_qrcodes import qr_card

NOT_COUPONS = sorted(set(TYPE_FIELDS) - COUPON_TYPES)
DEPOSIT_ID = "pSeedDepositCoupon0000000001"


def existing(card_type: str, card_id: str, status: str | None = None, **base: Any) -> dict[str, Any]:
    """A card as card/get answers it, with its id (and status) in base_info; valid for 90 days from any day."""
    base.setdefault("date_info", {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 90, "fixed_begin_term": 0})
    card = card_body(card_type, base_info(id=card_id, **base))["card"]
    if status is not None:
        card[card_type.lower()]["base_info"]["status"] = status
    return dict(card)


def cards_file(tmp_path: Path, *cards: dict[str, Any]) -> Path:
    path = tmp_path / "emulator-cards.json"
    path.write_text(json.dumps({"cards": list(cards)}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("card_type", sorted(COUPON_TYPES))
async def test_a_coupon_type_is_refused_today_and_nothing_is_created(make_api: MakeApi, card_type: str) -> None:
    api = await make_api(legacy_coupons=False)
    answer = await api.post("/card/create", card_body(card_type))
    assert answer["errcode"] == 40071, answer
    assert answer["errmsg"].startswith("invalid card type hint: [")
    assert "2021-04-01" in answer["errmsg"] and card_type in answer["errmsg"]
    assert (await api.post("/card/batchget", {"offset": 0, "count": 50}))["total_num"] == 0


@pytest.mark.parametrize("card_type", NOT_COUPONS)
async def test_member_cards_and_tickets_are_still_created(make_api: MakeApi, card_type: str) -> None:
    api = await make_api(legacy_coupons=False)
    assert (await api.card(await api.create(card_body(card_type))))["card_type"] == card_type


@pytest.mark.parametrize("card_type", sorted(COUPON_TYPES))
async def test_the_legacy_switch_creates_coupons_as_before(make_api: MakeApi, card_type: str) -> None:
    api = await make_api(legacy_coupons=True)
    assert (await api.card(await api.create(card_body(card_type))))["card_type"] == card_type


async def test_an_existing_coupon_keeps_working_without_the_legacy_switch(make_api: MakeApi, tmp_path: Path) -> None:
    seed = cards_file(
        tmp_path,
        existing("CASH", "pSeedCash000000000000000001", sku={"quantity": 80, "total_quantity": 100}),
        existing("GIFT", DEPOSIT_ID, **DEPOSIT_MODE),
    )
    api = await make_api(legacy_coupons=False, existing_cards=seed)
    cash = "pSeedCash000000000000000001"
    listed = await api.post("/card/batchget", {"offset": 0, "count": 50})
    assert listed["card_id_list"] == [cash, DEPOSIT_ID]
    base = await api.base_info(cash)
    assert (base["status"], base["sku"]) == (VERIFY_OK, {"quantity": 80, "total_quantity": 100})
    assert (await api.post("/card/update", {"card_id": cash, "cash": {"base_info": {"notice": "出示即可"}}}))[
        "errcode"
    ] == 0
    assert (await api.post("/card/modifystock", {"card_id": cash, "increase_stock_value": 5}))["errcode"] == 0
    assert (await api.base_info(cash))["sku"] == {"quantity": 85, "total_quantity": 105}
    assert (await api.post("/card/qrcode/create", qr_card(cash)))["errcode"] == 0
    assert (await api.post("/card/landingpage/create", page(cash)))["errcode"] == 0
    deposited = await api.post("/card/code/deposit", {"card_id": DEPOSIT_ID, "code": ["11111", "22222"]})
    assert deposited["errcode"] == 0, deposited
    assert (await api.post("/card/delete", {"card_id": cash}))["errcode"] == 0
    # Deleted, it cannot be made again: a new coupon is refused.
    assert (await api.post("/card/create", card_body("CASH")))["errcode"] == 40071


async def test_existing_cards_come_with_their_status_and_only_into_a_new_account(
    make_api: MakeApi, tmp_path: Path
) -> None:
    seed = cards_file(tmp_path, existing("DISCOUNT", "pSeedDiscount00000000000001", status="CARD_STATUS_DELETE"))
    data = tmp_path / "emulator.json"
    first = await make_api(data_file=data, existing_cards=seed)
    assert (await first.post("/card/get", {"card_id": "pSeedDiscount00000000000001"}))["errcode"] == 40073
    listed = await first.post("/card/batchget", {"offset": 0, "count": 10, "status_list": ["CARD_STATUS_DELETE"]})
    assert listed["card_id_list"] == ["pSeedDiscount00000000000001"]
    member = await first.create(card_body("MEMBER_CARD"))
    # The account exists in the data file: a later emulator on it does not add the file's cards again.
    seed.write_text(json.dumps({"cards": [existing("GIFT", "pSeedGift000000000000000001")]}), encoding="utf-8")
    second = await make_api(data_file=data, existing_cards=seed)
    assert (await second.post("/card/batchget", {"offset": 0, "count": 10}))["card_id_list"] == [member]


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        ('{"cards": [', "not JSON"),
        ('{"card": []}', 'a list "cards"'),
        (json.dumps({"cards": [existing("CASH", "has space")]}), "cards[0]: base_info.id"),
        (json.dumps({"cards": [existing("CASH", "pA", status="APPROVED")]}), "cards[0]: base_info.status 'APPROVED'"),
        (json.dumps({"cards": [existing("CASH", "pA"), existing("GIFT", "pA")]}), "cards[1]: base_info.id pA is"),
        (
            json.dumps({"cards": [existing("CASH", "pA", title="")]}),
            "cards[0]: card/create would refuse it: 41011",
        ),
    ],
)
async def test_a_bad_file_of_existing_cards_is_named_with_the_card_and_field(
    make_api: MakeApi, tmp_path: Path, cards: str, message: str
) -> None:
    path = tmp_path / "emulator-cards.json"
    path.write_text(cards, encoding="utf-8")
    with pytest.raises(ExistingCardsError, match=str(path)) as caught:
        await make_api(existing_cards=path)
    assert message in str(caught.value)


def test_serve_takes_the_legacy_switch_and_existing_cards(
    served: dict[str, Any],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WXREC_EMULATOR_LEGACY_COUPONS", raising=False)
    seed = cards_file(tmp_path, existing("CASH", "pSeedCash000000000000000001"))
    result = _serve("--existing-cards", str(seed))
    assert result.exit_code == 0, result.output
    assert "card/create refuses them" in result.output and str(seed) in result.output
    emulator = served["app"].state.emulator
    assert not emulator.config.legacy_coupons
    assert list(next(iter(emulator.store.accounts.values())).cards) == ["pSeedCash000000000000000001"]
    assert _serve("--legacy-coupons").exit_code == 0
    assert served["app"].state.emulator.config.legacy_coupons
    monkeypatch.setenv("WXREC_EMULATOR_LEGACY_COUPONS", "1")
    assert _serve().exit_code == 0
    assert served["app"].state.emulator.config.legacy_coupons


def test_serve_names_a_bad_file_of_existing_cards_without_a_traceback(
    served: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    result = _serve("--existing-cards", str(tmp_path / "missing.json"))
    assert result.exit_code != 0 and "missing.json" in result.output
    assert "Traceback" not in result.output and not served


def _serve(*args: str) -> Any:
    return CliRunner().invoke(emulator_group, ["serve", *args])
