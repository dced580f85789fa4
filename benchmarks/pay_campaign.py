"""Fault campaign for pay_coupons: applies of changing stocks under injected faults, audited against the emulator's
WeChat Pay (run by benchmarks/fault_campaign.py beside the card campaign).

Each round users receive coupons (the emulator's /_emulator/pay/issue), the manifests change at random (a goods
name modified in place, a new stock, a higher max_coupons or max_coupons_by_day: maxima only grow), and apply runs
while WeChat Pay answers 500 and 503, resets connections and makes changes before dropping the answer. A create
whose answer was lost is never sent again by itself: the operator settles it as README says — the stock found in
the merchant platform (here the emulator's list) is adopted as `wxrec import` does, and only when there is none
is the create sent again with its own out_request_no (-replace). Afterwards the faults stop, apply runs until the
plan is empty, and WeChat Pay's own records are checked: duplicated stocks, stocks no state entry owns, ids in
state WeChat Pay does not know, maxima past the manifest's (a budget change applied twice), and the final plan.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler import planning
from reconciler.address import Address, kind_of
from reconciler.cli import embedded
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.emulator.pay import DEMO_MCHID
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.pay import WECHAT_PAY_API, PayClient
from reconciler.planning import Options, PlanInputs, plan_for_apply, source_for
from reconciler.resources.pay_coupons.adopt import adopted
from reconciler.resources.pay_coupons.model import KIND
from reconciler.scheduler import apply_plan
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient
from reconciler.wechat.limiter import CallLimiter

# The card campaign's faults, with more answers dropped after the change was made: the case exactly-once is for.
PAY_FAULTS = "error=-1:0.04,error=45011:0.03,http=503:0.03,reset=0.03,drop=0.2"
OPTIONS = Options(destroy_threshold=1.0, allow_destroy=True)
RETRY = RetryPolicy(attempts=8, max_seconds=30, base_wait=0.0005, max_wait=0.005)


@dataclass
class PayFigures:
    rounds: int = 0
    applies_with_failures: int = 0
    lost_creates_adopted: int = 0
    lost_creates_resent: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    pay_calls: int = 0
    duplicated_stocks: int = 0
    orphaned_stocks: int = 0
    state_ids_missing_live: int = 0
    budgets_overshot: int = 0
    final_changes: int = -1
    final_plan: list[str] = field(default_factory=list)  # what the final plan still changes or refuses

    @property
    def ok(self) -> bool:
        checks = (self.duplicated_stocks, self.orphaned_stocks, self.state_ids_missing_live, self.budgets_overshot)
        return not any(checks) and self.final_changes == 0

    def table(self) -> str:
        rows = [
            ("pay rounds (applies)", self.rounds),
            ("applies with a failed action", self.applies_with_failures),
            ("lost creates adopted (wxrec import)", self.lost_creates_adopted),
            ("lost creates sent again (same out_request_no)", self.lost_creates_resent),
            ("WeChat Pay calls", self.pay_calls),
            ("faults injected", sum(self.faults_injected.values())),
            *((f"  {kind}", count) for kind, count in sorted(self.faults_injected.items())),
            ("duplicated stocks", self.duplicated_stocks),
            ("stocks no state entry owns", self.orphaned_stocks),
            ("state ids unknown to WeChat Pay", self.state_ids_missing_live),
            ("budgets overshot (applied twice)", self.budgets_overshot),
            ("changes in the final plan", self.final_changes),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def stock_spec(number: int, rng: random.Random) -> dict[str, Any]:
    """A stock whose name carries its key number, so WeChat Pay's stocks can be traced back to a key."""
    spec: dict[str, Any] = {
        "stock_name": f"演练券{number:03d}号",
        "goods_name": "全场v1",
        "stock_type": "NORMAL",
        "coupon_use_rule": {
            "coupon_available_time": {
                "available_begin_time": "2027-01-01T00:00:00",
                "available_end_time": "2027-12-31T23:59:59",
            },
            "fixed_normal_coupon": {"discount_amount": 500, "transaction_minimum": 3000},
            "use_method": "OFF_LINE",
        },
        "stock_send_rule": {"max_coupons": rng.randint(50, 500), "max_coupons_per_user": 1},
        "coupon_code_mode": "WECHATPAY_MODE",
    }
    if rng.random() < 0.5:
        spec["stock_send_rule"]["max_coupons_by_day"] = rng.randint(20, spec["stock_send_rule"]["max_coupons"])
    return spec


class PayCampaign:
    def __init__(self, directory: Path, seed: int, stocks: int = 8) -> None:
        self.directory = directory
        self.rng = random.Random(seed)
        self.stocks: dict[str, dict[str, Any]] = {}
        self.next_number = 0
        self.replace: set[str] = set()
        self.backend = FileBackend(directory / ".wxrec" / "state.json")
        for _ in range(stocks):
            self.add_stock()

    def add_stock(self) -> None:
        self.stocks[f"stock-{self.next_number:03d}"] = stock_spec(self.next_number, self.rng)
        self.next_number += 1

    def mutate(self) -> None:
        spec = self.stocks[self.rng.choice(sorted(self.stocks))]
        rule, roll = spec["stock_send_rule"], self.rng.random()
        if roll < 0.3:
            version = int(spec["goods_name"].rsplit("v", 1)[1]) + 1
            spec["goods_name"] = f"全场v{version}"
        elif roll < 0.4:
            self.add_stock()
        elif roll < 0.55 and "max_coupons_by_day" in rule:
            rule["max_coupons_by_day"] = min(rule["max_coupons_by_day"] + self.rng.randint(1, 40), rule["max_coupons"])
        else:
            rule["max_coupons"] += self.rng.randint(1, 40)  # maxima only grow: any overshoot is a change twice
        self.write()

    def write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        document = {"account": {"appid": DEMO_APPID, "mchid": DEMO_MCHID}, KIND: self.stocks}
        (self.directory / "pay.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


async def run_pay_campaign(rounds: int, seed: int, faults: str, directory: Path) -> PayFigures:
    campaign = PayCampaign(directory, seed)
    campaign.write()
    config = EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}, merchants=(DEMO_MCHID,), faults=f"{faults},seed={seed}")
    transport = FaultTolerantASGITransport(create_app(config))
    figures = PayFigures()
    keys = embedded.demo_pay_credentials(DEMO_MCHID)
    async with (
        httpx.AsyncClient(transport=transport, base_url=WECHAT_API) as http,
        PayClient.connect(WECHAT_PAY_API, keys, transport) as pay_http,
    ):
        limiter = CallLimiter(first_pause=0.002)
        api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), RETRY, limiter))
        api.pay = PayClient(pay_http, RETRY, limiter)
        for _ in range(rounds):
            await issue_some(http, campaign.rng)
            if not await apply_once(campaign, api):
                figures.applies_with_failures += 1
            await settle(campaign, http, figures)
            figures.rounds += 1
            figures.budgets_overshot += overshoots(campaign, await live_stocks(http))
            campaign.mutate()
        await http.post("/_emulator/faults", json={"spec": "none"})
        for _ in range(3):
            await settle(campaign, http, figures)
            await apply_once(campaign, api)
        await audit(campaign, api, http, figures)
    return figures


async def apply_once(campaign: PayCampaign, api: CardApi) -> bool:
    state = campaign.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
    options = replace(OPTIONS, replace=frozenset(campaign.replace))
    campaign.replace.clear()
    try:
        _, plan = await plan_for_apply(
            load_manifest(campaign.directory), api, state, campaign.backend, "emulator", options
        )
        report = await apply_plan(plan, api, state, campaign.backend, options)
    except WxrecError:
        return False  # a read failed under faults, or a lost create waits for the operator: the next round
    return not report.failed


async def settle(campaign: PayCampaign, http: httpx.AsyncClient, figures: PayFigures) -> None:
    """The operator after a lost create answer: adopt the stock the merchant platform shows (`wxrec import`), or,
    when it shows none, have the create sent again with its own number (-replace)."""
    state = campaign.backend.load()
    if state is None or not state.intents:
        return
    by_name = {s["stock_name"]: s for s in await live_stocks(http)}
    for address in sorted(a for a in state.intents if kind_of(a) == KIND):
        made = by_name.get(campaign.stocks[Address.parse(address).key]["stock_name"])
        if made is None:
            campaign.replace.add(address)
            figures.lost_creates_resent += 1
            continue
        state.resources[address] = adopted(address, made, made["stock_id"], DEMO_MCHID, state, ".").to_state()
        state.intents.pop(address)
        figures.lost_creates_adopted += 1
    campaign.backend.write(state)


async def issue_some(http: httpx.AsyncClient, rng: random.Random) -> None:
    """Users receive coupons, within what the stock can still issue today (the control refuses more)."""
    for stock in await live_stocks(http):
        if rng.random() < 0.4:
            answer = await http.post(
                "/_emulator/pay/issue", json={"stock_id": stock["stock_id"], "count": rng.randint(1, 15)}
            )
            del answer  # past the stock's room: refused, as WeChat Pay stops issuing there


async def live_stocks(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    stocks: list[dict[str, Any]] = (await http.get("/_emulator/pay/stocks")).json()["stocks"]
    return stocks


def overshoots(campaign: PayCampaign, live: list[dict[str, Any]]) -> int:
    """Stocks whose maxima went past the manifest's: maxima only grow, so that is a budget change applied twice."""
    wanted = {spec["stock_name"]: spec["stock_send_rule"] for spec in campaign.stocks.values()}
    found = 0
    for stock in live:
        rule, held = wanted.get(stock["stock_name"], {}), stock["stock_send_rule"]
        found += sum(1 for name in ("max_coupons", "max_coupons_by_day") if held.get(name, 0) > rule.get(name, 1e12))
    return found


async def audit(campaign: PayCampaign, api: CardApi, http: httpx.AsyncClient, figures: PayFigures) -> None:
    live = await live_stocks(http)
    state = campaign.backend.load()
    assert state is not None
    owned = {r["id"] for a, r in state.resources.items() if kind_of(a) == KIND}
    names = Counter(s["stock_name"] for s in live)
    figures.duplicated_stocks = sum(count - 1 for count in names.values() if count > 1)
    figures.orphaned_stocks = sum(1 for s in live if s["stock_id"] not in owned)
    figures.state_ids_missing_live = len(owned - {s["stock_id"] for s in live})
    figures.budgets_overshot += overshoots(campaign, live)
    manifest = load_manifest(campaign.directory)
    inputs = PlanInputs(manifest, state, DEMO_APPID, "emulator", OPTIONS, campaign.backend.code_hashes)
    plan = await planning.plan(inputs, source_for(api, state, OPTIONS))
    figures.final_changes = len(plan.changes) + len(plan.refusals)
    figures.final_plan = [c.address for c in plan.changes] + plan.refusals
    calls = (await http.get("/_emulator/calls")).json()["calls"]
    pay_calls = [c for c in calls if str(c["path"]).startswith("/v3/")]
    figures.pay_calls = len(pay_calls)
    figures.faults_injected = Counter(c["fault"] for c in pay_calls if c["fault"])
