"""The planning pipeline without I/O: a source in memory stands for WeChat, and the pipeline reads it in one
phase before it plans, then asks it only for the duplicate check."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from reconciler.emulator import DEMO_APPID, EXISTING_CARDS_FILE
from reconciler.emulator.colors import COLORS
from reconciler.manifest import load_manifest
from reconciler.plan import Action, Plan
from reconciler.planning import Options, PlanInputs, offline_plan, plan
from reconciler.resources.cards.live import CardsLive
from reconciler.resources.cards.model import Palette, live_card
from reconciler.sources import Progress, StateSource
from reconciler.state import State
from tests.support import EXAMPLE


class InMemory:
    """An account that has never been applied to, holding only the example's existing coupons, read from memory;
    it remembers what was asked when."""

    refreshed = True
    stand_ins = False
    account = None

    def __init__(self) -> None:
        self.asked: list[str] = []
        palette = Palette(dict(COLORS))
        existing = json.loads((EXAMPLE / EXISTING_CARDS_FILE).read_text(encoding="utf-8"))["cards"]
        self.existing = {card.id: card for card in (live_card(c, palette) for c in existing)}

    async def cards(self, state: State | None, also: Iterable[str], progress: Progress) -> CardsLive:
        self.asked.append("cards")
        return CardsLive(Palette(dict(COLORS)), sorted(self.existing), dict(self.existing))

    async def deposited(self, card_ids: Iterable[str]) -> dict[str, int]:
        self.asked.append("deposited")
        return dict.fromkeys(card_ids, 0)

    async def duplicate_refusals(self, plan: Plan, intents: set[str], invocation: str) -> list[str]:
        self.asked.append("duplicates")
        return []


def test_a_plan_is_made_from_an_in_memory_source_read_once_before_planning() -> None:
    manifest = load_manifest(EXAMPLE)
    source = InMemory()
    options = Options(qrcode_dir=EXAMPLE / "qrcodes")
    inputs = PlanInputs(manifest, None, DEMO_APPID, "memory", options, lambda _: set())
    result = asyncio.run(plan(inputs, source))
    assert source.asked == ["cards", "deposited", "duplicates"]
    assert result.refreshed and not result.refusals
    created = {c.address for c in result.changes if c.action == Action.CREATE}
    imported = {c.address for c in result.changes if c.action == Action.IMPORT}
    assert imported == {block["to"] for block in manifest.document.data["import"]}, "the existing coupons"
    assert {f"cards.{key}" for key in manifest.cards} - imported <= created
    # The menu's read hook, given no account, found no menu: the manifests' menu is to be made.
    assert any(c.address == "menu" and c.action == Action.CREATE for c in result.changes)


def test_a_plan_against_state_says_the_live_account_was_not_read() -> None:
    """--refresh=false compares with state's last-applied values: the plan says so, as it did before the
    pipeline was one (wxrec diff, which has no account at all, does not)."""
    manifest = load_manifest(EXAMPLE)
    state = State(appid=DEMO_APPID, endpoint="memory", palette=dict(COLORS))
    options = Options(refresh=False, qrcode_dir=EXAMPLE / "qrcodes")
    inputs = PlanInputs(manifest, state, DEMO_APPID, "memory", options, lambda _: set())
    result = asyncio.run(plan(inputs, StateSource(state)))
    assert not result.refreshed
    assert NOT_READ in result.warnings
    diffed = asyncio.run(offline_plan(manifest, manifest, "manifests at HEAD", dict(COLORS)))
    assert NOT_READ not in diffed.warnings


NOT_READ = "the live account was not read (--refresh=false): compared with state's last-applied values"
