"""Apply runs the changes of a layer side by side and shares state writes between them (group commit)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import yaml

from reconciler.state import State, StateWriter
from tests.support import Harness


class RecordingBackend:
    """Keeps every state written; each write takes a while, as an fsync does."""

    def __init__(self) -> None:
        self.written: list[State] = []
        self.threads: set[str] = set()

    def write(self, state: State) -> None:
        threading.Event().wait(0.01)
        state.serial += 1
        self.written.append(state)
        self.threads.add(threading.current_thread().name)


async def test_saves_that_arrive_during_a_write_share_the_next_one() -> None:
    backend = RecordingBackend()
    state = State(appid="wx", endpoint="emulator")
    writer = StateWriter(backend, state)  # type: ignore[arg-type]

    async def change(number: int) -> None:
        state.resources[f"cards.c{number}"] = {"id": f"p{number}"}
        await writer.save()
        assert f"cards.c{number}" in backend.written[-1].resources, "save returned before its change was durable"

    await asyncio.gather(*(change(n) for n in range(50)))
    assert len(backend.written) < 10, f"{len(backend.written)} writes for 50 saves"
    assert len(backend.written[-1].resources) == 50
    assert state.serial == backend.written[-1].serial
    assert threading.current_thread().name not in backend.threads, "writes run off the event loop"


async def test_a_snapshot_does_not_change_when_the_state_does() -> None:
    state = State(appid="wx", endpoint="emulator", resources={"cards.a": {"id": "p1", "retire_ids": []}})
    snapshot = state.snapshot()
    state.resources["cards.a"]["id"] = "p2"
    state.resources["cards.b"] = {"id": "p3"}
    assert snapshot.resources == {"cards.a": {"id": "p1", "retire_ids": []}}


async def most_creates_at_once(shop: Harness, monkeypatch: Any, expected: int, **options: object) -> int:
    """Apply the example, counting the card/create calls in flight at the same time. Each create is held until
    `expected` are in flight (or a second passed), so a busy machine's slow state writes cannot let one create
    finish before the last one starts: a run that cannot reach `expected` still ends, and says how many it did."""
    real_create = shop.api.create
    in_flight = most = 0
    reached = asyncio.Event()

    async def counting_create(card: dict[str, Any]) -> str:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight >= expected:
            reached.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reached.wait(), 1)
        try:
            return await real_create(card)
        finally:
            in_flight -= 1

    monkeypatch.setattr(shop.api, "create", counting_create)
    await shop.apply(**options)
    return most


async def test_independent_cards_are_created_side_by_side(shop: Harness, monkeypatch: Any) -> None:
    made = await most_creates_at_once(shop, monkeypatch, expected=3)
    assert made == 3, "the example's three new cards are independent (its coupons exist already)"
    assert not (await shop.plan()).changes


async def test_parallelism_one_applies_one_change_at_a_time(shop: Harness, monkeypatch: Any) -> None:
    assert await most_creates_at_once(shop, monkeypatch, expected=1, parallelism=1) == 1


async def test_cards_alike_are_created_one_at_a_time_so_lost_answers_stay_unambiguous(shop: Harness) -> None:
    cards = yaml.safe_load((shop.directory / "cards.yaml").read_text(encoding="utf-8"))["cards"]
    twin = dict(cards["latte-art-class"], meeting_detail="另一场")  # same type, brand and title
    (shop.directory / "twin.yaml").write_text(yaml.safe_dump({"cards": {"latte-twin": twin}}, allow_unicode=True))
    await shop.control("faults", spec="drop=1.0,paths=/card/create")
    await shop.apply()
    await shop.control("faults", spec="none")
    assert shop.card_id("latte-art-class") != shop.card_id("latte-twin")
    cards_now = (await shop.control_get("cards"))["cards"]
    assert len(cards_now) == 3 + 4, "the existing coupons; every lost answer found its own card"
    assert not (await shop.plan()).changes
