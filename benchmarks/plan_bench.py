"""Plan at scale against `wxrec emulator serve` (a separate process) with 20 ms of latency per call.

    python -m benchmarks.plan_bench [--sizes 100,1000,10000] [--parallelism 16] [--latency-ms 20]

For each N: N managed cards are created in the emulator and recorded in state (setup, not measured), then
`wxrec plan` runs as a subprocess twice — at --parallelism P and at --parallelism 1 (a sequential SDK loop) —
and the table shows wall time, API calls, the bound calls × latency / parallelism, the ratio to it, the
speed-up over the sequential run, and the plan's peak RSS. Then normalise + diff CPU per card, without I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.resources.cards.diff import plan_card
from reconciler.resources.cards.model import Palette, create_body, desired_card, live_card
from reconciler.resources.cards.record import CardRecord, record_document
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import StableToken, WeChatClient

COLOURS = {"Color010": "#63b359", "Color020": "#2c9f67"}


def spec(number: int) -> dict[str, Any]:
    return {
        "card_type": "MEETING_TICKET",
        "base_info": {
            "logo_url": "https://mmbiz.qpic.cn/mmbiz/bench/logo.png",
            "brand_name": "压测咖啡",
            "code_type": "CODE_TYPE_QRCODE",
            "title": f"品鉴会{number:05d}",
            "color": "Color010",
            "notice": "请出示此票",
            "description": "门店通用，周末可用。" * 4,
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
            "sku": {"total_quantity": 1000},
        },
        "meeting_detail": "咖啡品鉴会，门店通用",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Row:
    cards: int
    parallelism: int
    seconds: float
    calls: int
    latency: float
    rss_mb: float

    @property
    def bound(self) -> float:
        return self.calls * self.latency / self.parallelism


async def populate(url: str, directory: Path, count: int) -> None:
    """Setup: create the cards through the API (concurrently, without latency) and write the matching state."""
    specs = {f"card-{n:05d}": spec(n) for n in range(count)}
    (directory / "cards.yaml").write_text(yaml.safe_dump({"cards": specs}, allow_unicode=True), encoding="utf-8")
    palette = Palette(COLOURS)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET)))
        limit = asyncio.Semaphore(32)

        async def create(key: str) -> tuple[str, str]:
            async with limit:
                return key, await api.create(create_body(desired_card(key, specs[key], palette), 1000))

        created = await asyncio.gather(*(create(key) for key in specs))
    state = State(appid=DEMO_APPID, endpoint=url, palette=COLOURS)
    for key, card_id in created:
        state.resources[f"cards.{key}"] = record_document(desired_card(key, specs[key], palette), card_id)
    FileBackend(directory / ".wxrec" / "state.json").write(state)


def timed_plan(url: str, directory: Path, parallelism: int) -> tuple[float, int, float]:
    """Wall seconds, API calls and peak RSS (MB) of one `wxrec -v plan` subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "-v",
            "plan",
            str(directory),
            "--api",
            url,
            "--parallelism",
            str(parallelism),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "No changes." not in done.stdout:
        raise SystemExit(f"plan failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    calls = sum(1 for line in done.stderr.splitlines() if " errcode " in line) + 1  # + the token call
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return seconds, calls, peak


def cpu_per_card(count: int, nested_change: bool = False) -> float:
    """Milliseconds of CPU to normalise both sides and diff one card, no I/O. With `nested_change`, each card
    carries advanced_info and a store list, and WeChat's copy differs in one store and one time limit."""
    palette = Palette(COLOURS)
    specs = [with_nested_fields(spec(n)) if nested_change else spec(n) for n in range(count)]
    answers = []
    for n, item in enumerate(specs):
        base = dict(item["base_info"], color="#63b359", id=f"p{n}", status="CARD_STATUS_VERIFY_OK")
        base.update(sku={"quantity": 1000, "total_quantity": 1000}, create_time=1, update_time=1)
        base.setdefault("location_id_list", [])
        body = {k: v for k, v in item.items() if k != "card_type"} | {"base_info": base}
        if nested_change:
            base["location_id_list"] = [*base["location_id_list"][:-1], 999]
            body["advanced_info"] = {**body["advanced_info"], "time_limit": [{"type": "MONDAY"}]}
        answers.append({"card_type": "MEETING_TICKET", "meeting_ticket": body})
    started = time.process_time()
    for n, item in enumerate(specs):
        desired = desired_card(f"k{n}", item, palette)
        live = live_card(answers[n], palette)
        record = CardRecord(live.id, "MEETING_TICKET", desired.fields, desired.stock)
        change = plan_card(desired.address, desired, live, record)
        assert (change is not None) == nested_change
    return (time.process_time() - started) * 1000 / count


def with_nested_fields(card: dict[str, Any]) -> dict[str, Any]:
    """A card with the nested values deepdiff walks: a store list, advanced_info's lists and mappings."""
    base = dict(card["base_info"], location_id_list=list(range(100, 120)))
    advanced = {
        "use_condition": {"accept_category": "咖啡", "can_use_with_other_discount": False},
        "abstract": {"abstract": "咖啡品鉴会", "icon_url_list": ["https://mmbiz.qpic.cn/mmbiz/bench/icon.png"]},
        "text_image_list": [{"image_url": f"https://mmbiz.qpic.cn/mmbiz/bench/{i}.png", "text": "图"} for i in (1, 2)],
        "time_limit": [{"type": "MONDAY", "begin_hour": 8, "end_hour": 20}, {"type": "SUNDAY"}],
        "business_service": ["BIZ_SERVICE_FREE_WIFI"],
    }
    return dict(card, base_info=base, advanced_info=advanced)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--skip-sequential-above", type=int, default=10_000)
    parser.add_argument("--cpu-only", action="store_true", help="only the normalise + diff figures, no emulator")
    args = parser.parse_args()
    if args.cpu_only:
        print(_cpu_figures())
        return
    latency = args.latency_ms / 1000
    rows: list[tuple[Row, Row | None]] = []
    for count in (int(s) for s in args.sizes.split(",")):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(url)
            with tempfile.TemporaryDirectory() as scratch:
                directory = Path(scratch)
                asyncio.run(populate(url, directory, count))
                httpx.post(f"{url}/_emulator/faults", json={"spec": f"latency={args.latency_ms}ms"})
                fast = Row(count, args.parallelism, *_measure(url, directory, args.parallelism, latency))
                slow = None
                if count <= args.skip_sequential_above:
                    slow = Row(count, 1, *_measure(url, directory, 1, latency))
                rows.append((fast, slow))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(_table(rows))
    print("\n" + _cpu_figures())


def _cpu_figures() -> str:
    return (
        f"normalise + diff: {cpu_per_card(2000):.3f} ms of CPU per card (2,000 cards, no I/O); "
        f"{cpu_per_card(2000, nested_change=True):.3f} ms per card whose nested fields changed"
    )


def _measure(url: str, directory: Path, parallelism: int, latency: float) -> tuple[float, int, float, float]:
    seconds, calls, rss = timed_plan(url, directory, parallelism)
    return seconds, calls, latency, rss


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_emulator/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start")


def _table(rows: list[tuple[Row, Row | None]]) -> str:
    head = "| cards | parallelism | wall s | calls | bound s | ratio to bound | sequential s | speed-up | peak RSS MB |"
    lines = [head, "|" + "---:|" * 9]
    for fast, slow in rows:
        sequential = f"{slow.seconds:.1f}" if slow else "skipped"
        speedup = f"{slow.seconds / fast.seconds:.1f}×" if slow else "–"
        lines.append(
            f"| {fast.cards:,} | {fast.parallelism} | {fast.seconds:.2f} | {fast.calls:,} | {fast.bound:.2f} "
            f"| {fast.seconds / fast.bound:.2f} | {sequential} | {speedup} | {fast.rss_mb:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
