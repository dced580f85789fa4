"""Review: the --review modes (approval, rejection with a reason, never), a rejected card going back to review on
card/update, and test accounts whose cards never pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig
from reconciler.emulator.clock import Clock
from reconciler.emulator.config import DEFAULT_REFUSE_REASON, ReviewMode
from reconciler.emulator.rules import NewCard
from reconciler.emulator.store import Account, Store

from .support import Api, MakeApi, card_body

MEMBER = card_body("MEMBER_CARD")
PENDING, REJECTED, APPROVED = "CARD_STATUS_NOT_VERIFY", "CARD_STATUS_VERIFY_FAIL", "CARD_STATUS_VERIFY_OK"


async def _status(api: Api, card_id: str) -> str:
    return str((await api.base_info(card_id))["status"])


async def _listed(api: Api, card_id: str) -> dict[str, object]:
    cards = (await api.client.get("/_emulator/cards")).json()["cards"]
    return next(card for card in cards if card["card_id"] == card_id)


async def _update_get_limit(api: Api, card_id: str, limit: int) -> dict[str, object]:
    """An update of a field outside review (get_limit): it sends an approved card nowhere."""
    return await api.post("/card/update", {"card_id": card_id, "member_card": {"base_info": {"get_limit": limit}}})


def test_review_modes_parse_reject_with_a_reason_and_never() -> None:
    assert ReviewMode.parse("reject") == ReviewMode("reject", reason=DEFAULT_REFUSE_REASON)
    assert ReviewMode.parse("reject=logo blurry").reason == "logo blurry"
    assert ReviewMode.parse("never").kind == "never"
    for bad in ("reject=", "sometimes"):
        with pytest.raises(ValueError, match="reject\\[=REASON\\] or never"):
            ReviewMode.parse(bad)


async def test_reject_mode_fails_every_card_with_its_reason_and_card_get_shows_only_the_status(
    make_api: MakeApi,
) -> None:
    api = await make_api(review="reject=商户名称与资质不符")
    card_id = await api.create(MEMBER)
    assert await _status(api, card_id) == REJECTED
    assert (await _listed(api, card_id))["refuse_reason"] == "商户名称与资质不符"
    assert "商户名称与资质不符" not in str(await api.card(card_id))  # WeChat tells it in the event only


async def test_never_mode_leaves_cards_waiting_whatever_time_passes(make_api: MakeApi) -> None:
    api = await make_api(review="never")
    card_id = await api.create(MEMBER)
    await api.control("clock", {"advance": 30 * 86400})
    assert (await _listed(api, card_id))["status"] == PENDING


async def test_reject_control_carries_a_reason_and_an_update_sends_the_card_back_to_review(make_api: MakeApi) -> None:
    api = await make_api(review="manual")
    card_id = await api.create(MEMBER)
    verdict = await api.control("review", {"card_id": card_id, "result": "reject", "reason": "logo 模糊"})
    assert verdict.json()["refuse_reason"] == "logo 模糊"
    answer = await _update_get_limit(api, card_id, 3)
    assert answer["send_check"] is True
    assert await _status(api, card_id) == PENDING
    assert (await _listed(api, card_id))["refuse_reason"] is None
    await api.control("review", {"card_id": card_id, "result": "approve"})
    assert (await _update_get_limit(api, card_id, 4))["send_check"] is False
    assert await _status(api, card_id) == APPROVED


@pytest.mark.parametrize(
    "body",
    [
        {"result": "approve", "reason": "why"},
        {"result": "reject", "reason": "  "},
        {"result": "reject", "reason": 7},
    ],
)
async def test_a_reason_belongs_to_a_rejection_and_is_text(make_api: MakeApi, body: dict[str, object]) -> None:
    api = await make_api(review="manual")
    card_id = await api.create(MEMBER)
    response = await api.control("review", {"card_id": card_id, **body})
    assert response.status_code == 400
    assert await _status(api, card_id) == PENDING


async def test_a_test_accounts_cards_never_pass_review_even_in_instant_mode(make_api: MakeApi) -> None:
    api = await make_api(review="instant", test_accounts=frozenset({DEMO_APPID}))
    card_id = await api.create(MEMBER)
    assert await _status(api, card_id) == PENDING
    refused = await api.control("review", {"card_id": card_id, "result": "approve"})
    assert refused.status_code == 400
    assert "test account" in refused.json()["error"]
    rejected = await api.control("review", {"card_id": card_id, "result": "reject"})
    assert rejected.json()["status"] == REJECTED


def test_a_test_account_must_be_one_of_the_accounts() -> None:
    with pytest.raises(ValueError, match="wxother is not one of"):
        EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, test_accounts=frozenset({"wxother"}))


class _Now:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _timed_store(now: _Now, delays: list[float]) -> tuple[Store, list[str]]:
    """A store on `now` with one card waiting for a timed review per delay."""
    store = Store(clock=Clock(now))
    ids = []
    for delay in delays:
        store.review = ReviewMode("after", delay=delay)
        ids.append(store.create_card(DEMO_APPID, NewCard("GIFT", {}, {}, {}, 10)).card_id)
    return store, ids


def _statuses(store: Store, ids: list[str]) -> list[str]:
    return [store.accounts[DEMO_APPID].cards[card_id].status for card_id in ids]


def test_timed_reviews_complete_each_at_its_own_time_also_after_a_reload(tmp_path: Path) -> None:
    now = _Now()
    store, ids = _timed_store(now, [60, 10, 30])
    now.now += 20
    store.settle()
    assert _statuses(store, ids) == [PENDING, APPROVED, PENDING]
    store.save(tmp_path / "emulator.json")
    reloaded = Store.load(tmp_path / "emulator.json", clock=Clock(now))
    now.now += 15
    reloaded.settle()
    assert _statuses(reloaded, ids) == [PENDING, APPROVED, APPROVED]
    now.now += 30
    reloaded.settle()
    assert _statuses(reloaded, ids) == [APPROVED] * 3


def test_settling_reads_no_card_while_no_timed_review_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """settle runs on every call: looking at each card then cost the served emulator a tenth of its CPU per call at
    1,000 cards, and ten times more at 10,000."""
    now = _Now()
    store, ids = _timed_store(now, [60])
    read: list[str] = []
    monkeypatch.setattr(
        Account, "cards", property(lambda a: read.append("cards") or a.__dict__["cards"]), raising=False
    )
    store.settle()
    assert read == []
    now.now += 60
    store.settle()
    assert read and _statuses(store, ids) == [APPROVED]
