"""Fault campaign: many applies of changing manifests under injected faults, audited against the emulator.

    python -m benchmarks.fault_campaign [--rounds 200] [--seed 1] [--faults SPEC] [--token-rounds 20]

Each round changes the manifests at random (descriptions, titles that force a replace, new and removed
cards, higher stock targets), lets simulated users claim cards, and applies — while the emulator answers
-1, 45011, HTTP 503, invalidates tokens, resets connections and commits changes before dropping the answer.
Afterwards the faults stop, apply runs until the plan is empty, and the emulator's own records are checked:
duplicated cards, orphaned cards, ids in state that WeChat does not know, stock that overshot its target
(a change applied twice), and the final plan.

Then token rejection under parallelism: each token round creates 20 cards at --parallelism 16 while a
quarter of the creates answer an injected 40001 (which revokes the token they sent, as a forced refresh
elsewhere would). Both parts count the forced refreshes wxrec sent and the actions that failed on a 40001
whose token no injected fault had revoked (wxrec revoking its own tokens): both must be 0. The figures are
printed; the exit code is 1 if any is wrong.

Last, the same rounds for WeChat Pay's merchant coupons (benchmarks/pay_campaign.py): no duplicated stock under
dropped create answers, no budget overshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.pay_campaign import PAY_FAULTS, run_pay_campaign
from reconciler import planning
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.emulator.calls import token_digest
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.plan import Action
from reconciler.planning import Observer, Options, PlanInputs, plan_for_apply, source_for
from reconciler.scheduler import Outcome, apply_plan
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient
from reconciler.wechat.limiter import CallLimiter

DEFAULT_FAULTS = "error=-1:0.04,error=45011:0.03,error=40001:0.01,http=503:0.03,reset=0.03,drop=0.06"
OPTIONS = Options(destroy_threshold=1.0, allow_destroy=True)
RETRY = RetryPolicy(attempts=8, max_seconds=30, base_wait=0.0005, max_wait=0.005)
# Token rejection under parallelism: issue 12's reproduction, one round per seed.
TOKEN_FAULTS = "error=40001:0.25,latency=50ms,paths=/card/create"
TOKEN_CARDS = 20
TOKEN_PARALLELISM = 16


class TokenWatch(Observer):
    """Which token the last API call of each action sent and what it answered, so that an action failed on 40001
    can be traced to its token: an event hook of the client's HTTP client and the observer of apply_plan (each
    action runs in a task of its own)."""

    def __init__(self) -> None:
        self.last: dict[asyncio.Task[Any] | None, tuple[str, int]] = {}
        self.failed_on_40001: list[tuple[str, int]] = []

    async def answered(self, response: httpx.Response) -> None:
        token = response.request.url.params.get("access_token")
        if token is None or response.status_code != 200:
            return
        errcode = int(json.loads(await response.aread()).get("errcode", 0))
        self.last[asyncio.current_task()] = (token_digest(token), errcode)

    def applied(self, outcome: Outcome) -> None:
        if not outcome.ok and "WeChat error 40001" in outcome.message:
            self.failed_on_40001.append(self.last.get(asyncio.current_task(), ("", 0)))

    def foreign_failures(self, calls: list[dict[str, Any]]) -> int:
        """Actions whose last call met 40001 on a token no injected fault revoked: wxrec revoked it itself."""
        injected = injected_tokens(calls)
        return sum(1 for token, errcode in self.failed_on_40001 if errcode != 40001 or token not in injected)


def injected_tokens(calls: list[dict[str, Any]]) -> set[str]:
    """The tokens an injected 40001 revoked (the emulator's call log names each call's token by a digest)."""
    return {c["token"] for c in calls if c["fault"] == "error" and c["errcode"] == 40001}


def forced_refreshes(calls: list[dict[str, Any]]) -> int:
    return sum(1 for c in calls if c["path"] == "/cgi-bin/stable_token" and c.get("force_refresh"))


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
    forced_refreshes: int = 0
    failed_on_foreign_40001: int = 0

    @property
    def ok(self) -> bool:
        checks = (
            self.duplicated_cards,
            self.orphaned_cards,
            self.state_ids_missing_live,
            self.stock_overshoots,
            self.unreported_actions,
        )
        tokens = (self.forced_refreshes, self.failed_on_foreign_40001)
        return not any(checks) and not any(tokens) and self.final_changes == 0

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
            ("forced token refreshes", self.forced_refreshes),
            ("failed on 40001, token not injected", self.failed_on_foreign_40001),
        ]
        return _table(rows)


@dataclass
class TokenFigures:
    """Token rejection under parallelism, summed over the token rounds."""

    rounds: int = 0
    creates: int = 0
    injected_40001: int = 0
    on_injected_token: int = 0
    on_other_token: int = 0
    stable_token_calls: int = 0
    forced_refreshes: int = 0
    failed_actions: int = 0
    failed_on_40001: int = 0
    failed_on_foreign_40001: int = 0

    @property
    def ok(self) -> bool:
        return not (self.forced_refreshes or self.on_other_token or self.failed_on_foreign_40001)

    def table(self) -> str:
        rows = [
            (f"token rounds ({TOKEN_CARDS} creates at parallelism {TOKEN_PARALLELISM})", self.rounds),
            ("create calls", self.creates),
            ("40001 injected", self.injected_40001),
            ("40001 on a token an injected fault revoked", self.on_injected_token),
            ("40001 on a token no injected fault revoked (goal 0)", self.on_other_token),
            ("stable_token calls", self.stable_token_calls),
            ("forced token refreshes (goal 0)", self.forced_refreshes),
            ("failed actions", self.failed_actions),
            ("  on 40001", self.failed_on_40001),
            ("  on 40001, token not injected (goal 0)", self.failed_on_foreign_40001),
        ]
        return _table(rows)


def _table(rows: list[tuple[str, int]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def card_spec(number: int, version: int, rng: random.Random) -> dict[str, Any]:
    """A meeting ticket (coupons can no longer be created) whose title carries its key number, so live cards can
    be traced back to a key."""
    budget = rng.random() < 0.5
    return {
        "card_type": "MEETING_TICKET",
        "base_info": {
            "logo_url": "https://mmbiz.qpic.cn/mmbiz/campaign/logo.png",
            "brand_name": "故障演练咖啡",
            "code_type": "CODE_TYPE_QRCODE",
            "title": f"票{number:03d}号v{version}",
            "color": "Color010",
            "notice": "请出示此票",
            "description": f"第{version}版说明",
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
            "sku": {"total_quantity": rng.randint(50, 500)} if budget else {"quantity": rng.randint(50, 500)},
        },
        "meeting_detail": "咖啡品鉴会，请准时入场",
    }


class Campaign:
    def __init__(self, directory: Path, seed: int, cards: int = 12) -> None:
        self.directory = directory
        self.rng = random.Random(seed)
        self.cards: dict[str, dict[str, Any]] = {}
        self.next_number = 0
        self.backend = FileBackend(directory / ".wxrec" / "state.json")
        for _ in range(cards):
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
            base_info["title"] = f"票{number}号v{version}"  # a ticket's title: a replace
            self.raise_budget(base_info["sku"])
        elif roll < 0.55:
            self.add_card()
        elif roll < 0.65 and len(keys) > 6:
            del self.cards[key]
        else:
            sku = base_info["sku"]
            name = "total_quantity" if "total_quantity" in sku else "quantity"
            sku[name] += self.rng.randint(1, 40)  # targets only grow: any overshoot is a change applied twice
        self.write()

    def raise_budget(self, sku: dict[str, int]) -> None:
        """A budget the old cards may have spent leaves their replacement nothing to issue, which plan refuses: a
        user forcing a replace raises it. Claims never pass the live budget, which never passes the manifest's, so
        any raise keeps it above what was issued."""
        if "total_quantity" in sku:
            sku["total_quantity"] += self.rng.randint(1, 40)

    def write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "cards.yaml").write_text(yaml.safe_dump({"cards": self.cards}, allow_unicode=True))


async def run_campaign(rounds: int, seed: int, faults: str, directory: Path) -> Figures:
    campaign = Campaign(directory, seed)
    campaign.mutate()
    app = create_app(EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, faults=f"{faults},seed={seed}"))
    figures = Figures()
    watch = TokenWatch()
    async with campaign_client(app, watch) as http:
        api = campaign_api(http)
        for _ in range(rounds):
            await claim_some(http, campaign.rng)
            if not await apply_once(campaign, api, watch, figures=figures):
                figures.applies_with_failures += 1
            figures.rounds += 1
            figures.stock_overshoots += overshoots(campaign, await live_cards(http), campaign.backend.load())
            campaign.mutate()
        await http.post("/_emulator/faults", json={"spec": "none"})
        for _ in range(3):
            await apply_once(campaign, api, watch, figures=figures)
        await audit(campaign, api, http, figures, watch)
    return figures


def campaign_client(app: Any, watch: TokenWatch) -> httpx.AsyncClient:
    transport = FaultTolerantASGITransport(app)
    return httpx.AsyncClient(transport=transport, base_url=WECHAT_API, event_hooks={"response": [watch.answered]})


def campaign_api(http: httpx.AsyncClient) -> CardApi:
    # The campaign's minutes are compressed: 45011's shared pause is milliseconds, not a second.
    limiter = CallLimiter(first_pause=0.002)
    return CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), RETRY, limiter))


async def apply_once(
    campaign: Campaign,
    api: CardApi,
    watch: TokenWatch,
    options: Options = OPTIONS,
    *,
    figures: Figures | None = None,
) -> bool:
    """One apply; `figures` counts planned actions it left without an outcome and whether it stopped mid-run."""
    state = campaign.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
    try:
        _, plan = await plan_for_apply(
            load_manifest(campaign.directory), api, state, campaign.backend, "emulator", options
        )
        report = await apply_plan(plan, api, state, campaign.backend, options, watch)
    except WxrecError:
        return False  # a read or the settling failed under faults: the next round tries again
    if figures is not None:
        planned = Counter((c.address, str(c.action)) for c in plan.changes if c.action != Action.GONE)
        reported = Counter((o.address, o.action) for o in report.outcomes)  # a retire after a replace adds one
        figures.unreported_actions += sum((planned - reported).values())
        figures.applies_stopped += report.stopped is not None
    return not report.failed


async def run_token_rounds(rounds: int, seed: int, directory: Path) -> TokenFigures:
    """Each round: a fresh account, 20 new cards created side by side while a quarter of the creates meet 40001."""
    figures = TokenFigures()
    options = Options(parallelism=TOKEN_PARALLELISM)
    for number in range(rounds):
        campaign = Campaign(directory / f"tokens-{number}", seed + number, TOKEN_CARDS)
        campaign.write()
        config = EmulatorConfig(
            accounts={DEMO_APPID: DEMO_SECRET},
            faults=f"{TOKEN_FAULTS},seed={seed + number}",
        )
        watch = TokenWatch()
        async with campaign_client(create_app(config), watch) as http:
            await apply_once(campaign, campaign_api(http), watch, options)
            calls: list[dict[str, Any]] = (await http.get("/_emulator/calls")).json()["calls"]
        state = campaign.backend.load()
        created = len(state.resources) if state else 0
        creates = [c for c in calls if c["path"] == "/card/create"]
        rejected = [c for c in creates if c["fault"] is None and c["errcode"] == 40001]
        injected = injected_tokens(calls)
        figures.rounds += 1
        figures.creates += len(creates)
        figures.injected_40001 += sum(1 for c in creates if c["fault"] == "error")
        figures.on_injected_token += sum(1 for c in rejected if c["token"] in injected)
        figures.on_other_token += sum(1 for c in rejected if c["token"] not in injected)
        figures.stable_token_calls += sum(1 for c in calls if c["path"] == "/cgi-bin/stable_token")
        figures.forced_refreshes += forced_refreshes(calls)
        figures.failed_actions += TOKEN_CARDS - created
        figures.failed_on_40001 += len(watch.failed_on_40001)
        figures.failed_on_foreign_40001 += watch.foreign_failures(calls)
    return figures


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


async def audit(campaign: Campaign, api: CardApi, http: httpx.AsyncClient, figures: Figures, watch: TokenWatch) -> None:
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
    inputs = PlanInputs(
        load_manifest(campaign.directory), state, DEMO_APPID, "emulator", OPTIONS, campaign.backend.code_hashes
    )
    plan = await planning.plan(inputs, source_for(api, state, OPTIONS))
    figures.final_changes = len(plan.changes)
    calls = (await http.get("/_emulator/calls")).json()["calls"]
    figures.api_calls = len(calls)
    figures.faults_injected = Counter(c["fault"] for c in calls if c["fault"])
    figures.forced_refreshes = forced_refreshes(calls)
    figures.failed_on_foreign_40001 = watch.foreign_failures(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--token-rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(run_campaign(args.rounds, args.seed, args.faults, Path(directory)))
        tokens = asyncio.run(run_token_rounds(args.token_rounds, args.seed, Path(directory)))
        pay = asyncio.run(run_pay_campaign(args.rounds, args.seed, PAY_FAULTS, Path(directory) / "pay"))
    print(figures.table())
    print(tokens.table())
    print(pay.table())
    ok = figures.ok and tokens.ok and pay.ok
    verdict = (
        "OK: no duplicate, no orphan, no lost id, no double stock change, no token revoked by wxrec; no duplicated "
        "stock, no budget overshot"
    )
    print(verdict if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
