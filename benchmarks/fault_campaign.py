"""Fault campaign: many applies of changing manifests under injected faults, audited against the emulator.

    python -m benchmarks.fault_campaign [--rounds 200] [--seed 1] [--faults SPEC]

Each round changes the manifests at random (descriptions, titles that force a replace, new and removed
cards, higher stock targets), lets simulated users claim cards, and applies — while the emulator answers
-1, 45011, HTTP 503, invalidates tokens, resets connections and commits changes before dropping the answer.
Afterwards the faults stop, apply runs until the plan is empty, and the emulator's own records are checked:
duplicated cards, orphaned cards, ids in state that WeChat does not know, stock that overshot its target
(a change applied twice), and the final plan. The figures are printed; the exit code is 1 if any is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.engine import Options, apply_plan, make_plan, plan_for_apply
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient
from reconciler.wechat.limiter import CallLimiter

DEFAULT_FAULTS = "error=-1:0.04,error=45011:0.03,error=40001:0.01,http=503:0.03,reset=0.03,drop=0.06"
OPTIONS = Options(destroy_threshold=1.0)
RETRY = RetryPolicy(attempts=8, max_seconds=30, base_wait=0.0005, max_wait=0.005)


@dataclass
class Figures:
    rounds: int = 0
    applies_with_failures: int = 0
    applies_stopped: int = 0  # by a spent daily quota (a `quota=` fault): the actions after it not attempted
    faults_injected: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    duplicated_cards: int = 0
    orphaned_cards: int = 0
    state_ids_missing_live: int = 0
    stock_overshoots: int = 0
    unreported_actions: int = 0
    final_changes: int = -1

    @property
    def ok(self) -> bool:
        checks = (
            self.duplicated_cards,
            self.orphaned_cards,
            self.state_ids_missing_live,
            self.stock_overshoots,
            self.unreported_actions,
        )
        return not any(checks) and self.final_changes == 0

    def table(self) -> str:
        rows = [
            ("rounds (applies)", self.rounds),
            ("applies with a failed action", self.applies_with_failures),
            ("applies stopped mid-run (quota spent)", self.applies_stopped),
            ("API calls", self.api_calls),
            ("faults injected", sum(self.faults_injected.values())),
            *((f"  {kind}", count) for kind, count in sorted(self.faults_injected.items())),
            ("duplicated cards", self.duplicated_cards),
            ("orphaned cards", self.orphaned_cards),
            ("state ids unknown to WeChat", self.state_ids_missing_live),
            ("stock overshoots (applied twice)", self.stock_overshoots),
            ("planned actions without an outcome", self.unreported_actions),
            ("changes in the final plan", self.final_changes),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def card_spec(number: int, version: int, rng: random.Random) -> dict[str, Any]:
    """A coupon whose title carries its key number, so live cards can be traced back to a key."""
    budget = rng.random() < 0.5
    return {
        "card_type": "GROUPON",
        "base_info": {
            "logo_url": "https://mmbiz.qpic.cn/mmbiz/campaign/logo.png",
            "brand_name": "故障演练咖啡",
            "code_type": "CODE_TYPE_QRCODE",
            "title": f"券{number:03d}号v{version}",
            "color": "Color010",
            "notice": "请出示此券",
            "description": f"第{version}版说明",
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
            "sku": {"total_quantity": rng.randint(50, 500)} if budget else {"quantity": rng.randint(50, 500)},
        },
        "deal_detail": "双人套餐",
    }


class Campaign:
    def __init__(self, directory: Path, seed: int) -> None:
        self.directory = directory
        self.rng = random.Random(seed)
        self.cards: dict[str, dict[str, Any]] = {}
        self.next_number = 0
        self.backend = FileBackend(directory / ".wxrec" / "state.json")
        for _ in range(12):
            self.add_card()

    def add_card(self) -> None:
        self.cards[f"card-{self.next_number:03d}"] = card_spec(self.next_number, 1, self.rng)
        self.next_number += 1

    def mutate(self) -> None:
        keys = sorted(self.cards)
        key = self.rng.choice(keys)
        base_info = self.cards[key]["base_info"]
        roll = self.rng.random()
        if roll < 0.3:
            base_info["description"] += "。"
        elif roll < 0.45:
            number, version = base_info["title"][1:4], int(base_info["title"].rsplit("v", 1)[1]) + 1
            base_info["title"] = f"券{number}号v{version}"
        elif roll < 0.55:
            self.add_card()
        elif roll < 0.65 and len(keys) > 6:
            del self.cards[key]
        else:
            sku = base_info["sku"]
            name = "total_quantity" if "total_quantity" in sku else "quantity"
            sku[name] += self.rng.randint(1, 40)  # targets only grow: any overshoot is a change applied twice
        (self.directory / "cards.yaml").write_text(yaml.safe_dump({"cards": self.cards}, allow_unicode=True))


async def run_campaign(rounds: int, seed: int, faults: str, directory: Path) -> Figures:
    campaign = Campaign(directory, seed)
    campaign.mutate()
    app = create_app(EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, faults=f"{faults},seed={seed}"))
    figures = Figures()
    async with httpx.AsyncClient(transport=FaultTolerantASGITransport(app), base_url=WECHAT_API) as http:
        # The campaign's minutes are compressed: 45011's shared pause is milliseconds, not a second.
        limiter = CallLimiter(first_pause=0.002)
        api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), RETRY, limiter))
        for _ in range(rounds):
            await claim_some(http, campaign.rng)
            if not await apply_once(campaign, api, figures):
                figures.applies_with_failures += 1
            figures.rounds += 1
            figures.stock_overshoots += overshoots(campaign, await live_cards(http), campaign.backend.load())
            campaign.mutate()
        await http.post("/_emulator/faults", json={"spec": "none"})
        for _ in range(3):
            await apply_once(campaign, api, figures)
        await audit(campaign, api, http, figures)
    return figures


async def apply_once(campaign: Campaign, api: CardApi, figures: Figures) -> bool:
    state = campaign.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
    try:
        _, plan = await plan_for_apply(
            load_manifest(campaign.directory), api, state, campaign.backend, "emulator", OPTIONS
        )
        report = await apply_plan(plan, api, state, campaign.backend, OPTIONS)
    except WxrecError:
        return False  # a read or the settling failed under faults: the next round tries again
    planned = Counter((c.address, str(c.action)) for c in plan.changes if c.action != Action.GONE)
    reported = Counter((o.address, o.action) for o in report.outcomes)  # a retire after a replace adds one
    figures.unreported_actions += sum((planned - reported).values())
    figures.applies_stopped += report.stopped is not None
    return not report.failed


async def claim_some(http: httpx.AsyncClient, rng: random.Random) -> None:
    for card in await live_cards(http):
        if card["status"] == "CARD_STATUS_VERIFY_OK" and card["sku"]["quantity"] > 0 and rng.random() < 0.3:
            count = rng.randint(1, min(20, card["sku"]["quantity"]))
            await http.post("/_emulator/claim", json={"card_id": card["card_id"], "count": count})


async def live_cards(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = (await http.get("/_emulator/cards")).json()["cards"]
    return [c for c in cards if c["status"] not in ("CARD_STATUS_DELETE", "CARD_STATUS_USER_DELETE")]


def overshoots(campaign: Campaign, live: list[dict[str, Any]], state: State | None) -> int:
    """Cards whose stock went past the manifest's target: targets only grow, so that is a double change."""
    if state is None:
        return 0
    by_id = {c["card_id"]: c for c in live}
    found = 0
    for address, record in state.resources.items():
        spec = campaign.cards.get(address.removeprefix("cards."))
        card = by_id.get(record["id"])
        if spec is None or card is None:
            continue
        sku = spec["base_info"]["sku"]
        if "total_quantity" in sku and card["sku"]["total_quantity"] > sku["total_quantity"]:
            found += 1
        if "quantity" in sku and card["sku"]["quantity"] > sku["quantity"]:
            found += 1
    return found


async def audit(campaign: Campaign, api: CardApi, http: httpx.AsyncClient, figures: Figures) -> None:
    live = await live_cards(http)
    state = campaign.backend.load()
    assert state is not None
    owned = {r["id"] for r in state.resources.values()} | {
        i for r in state.resources.values() for i in r.get("retire_ids", [])
    }
    numbers = Counter(str(c["title"])[1:4] for c in live)
    figures.duplicated_cards = sum(count - 1 for count in numbers.values() if count > 1)
    figures.orphaned_cards = sum(1 for c in live if c["card_id"] not in owned)
    live_ids = {c["card_id"] for c in live}
    figures.state_ids_missing_live = sum(1 for r in state.resources.values() if r["id"] not in live_ids)
    figures.stock_overshoots += overshoots(campaign, live, state)
    plan = await make_plan(
        load_manifest(campaign.directory),
        api,
        state,
        DEMO_APPID,
        "emulator",
        OPTIONS,
        ledger=campaign.backend.code_hashes,
    )
    figures.final_changes = len(plan.changes)
    calls = (await http.get("/_emulator/calls")).json()["calls"]
    figures.api_calls = len(calls)
    figures.faults_injected = Counter(c["fault"] for c in calls if c["fault"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(run_campaign(args.rounds, args.seed, args.faults, Path(directory)))
    print(figures.table())
    print("OK: no duplicate, no orphan, no lost id, no double stock change" if figures.ok else "FAILED")
    sys.exit(0 if figures.ok else 1)


if __name__ == "__main__":
    main()
