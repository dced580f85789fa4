"""Issue 19's figures in one run, each as a ratio against a baseline measured in the same run.

    python -m benchmarks.table [--cards 10000] [--peer-cards 1000] [--codes 1000000] [--calls 2000]
                               [--latency-ms 20] [--peer-python PATH]

Rows: `wxrec --version` against a bare `python -c pass`; `wxrec validate` of --cards cards (process CPU) against a
process reading the same file with PyYAML's C loader alone; client CPU per card/get for wxrec's client, httpx over
aiohttp, httpx's own transport and raw aiohttp, against raw aiohttp; `wxrec plan` of --cards cards at P=32 and
P=16 against its bound (calls × latency ÷ parallelism), each beside its floor (the same calls from a bare aiohttp
loop: what this machine and emulator allow at all); the peer, an unmodified wechatpy script reading
--peer-cards cards one by one (given --peer-python, a Python with wechatpy installed: it is no dependency of
wxrec), against `wxrec plan` of the same account; the typical account, `wxrec plan` of 3 accounts × 50 cards with
a menu and QR codes, start-up included, against its bound; the deposit of --codes codes at P=32 against its bound.
Every wxrec run is a subprocess against `wxrec emulator serve` (a separate process) at --latency-ms per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks import deposit_bench, loader_bench
from benchmarks.plan_bench import free_port, populate, spec, wait_for
from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.wechat.limiter import CallLimiter

PEER_SCRIPT = """
import sys, requests
from wechatpy import WeChatClient
url, appid, secret = sys.argv[1:4]
token = requests.post(url + "/cgi-bin/stable_token",
                      json={"grant_type": "client_credential", "appid": appid, "secret": secret}).json()
client = WeChatClient(appid, secret, access_token=token["access_token"])
client.card.API_BASE_URL = url + "/"
ids, offset = [], 0
while True:
    page = client.card.batch_get(offset=offset, count=50)
    ids += page.get("card_id_list", [])
    offset += 50
    if offset >= page["total_num"]:
        break
cards = [client.card.get(card_id) for card_id in ids]
print(len(cards))
"""


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float

    def row(self) -> str:
        return (
            f"| {self.name} | {self.value:.3f} {self.unit} | {self.baseline_name} | {self.baseline:.3f} {self.unit} "
            f"| {self.value / self.baseline:.2f} |"
        )


@contextmanager
def served(latency_ms: float, *accounts: str) -> Iterator[str]:
    port = free_port()
    extra = [word for appid in accounts for word in ("--account", f"{appid}:{DEMO_SECRET}")]
    command = [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", str(port), *extra]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def set_latency(url: str, latency_ms: float) -> None:
    httpx.post(f"{url}/_emulator/faults", json={"spec": f"latency={latency_ms}ms" if latency_ms else "none"})
    httpx.post(f"{url}/_emulator/calls/clear")


def calls_made(url: str) -> int:
    count = len(httpx.get(f"{url}/_emulator/calls").json()["calls"])
    httpx.post(f"{url}/_emulator/calls/clear")
    return count


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one subprocess, which must succeed."""
    before, started = os.times(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall, after = time.perf_counter() - started, os.times()
    if done.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, after.children_user - before.children_user + after.children_system - before.children_system


def wxrec_plan(directories: list[Path], url: str, parallelism: int, env: dict[str, str] | None = None) -> float:
    command = [sys.executable, "-m", "reconciler", "plan", *map(str, directories), "--api", url]
    return timed([*command, "--parallelism", str(parallelism)], env)[0]


def version_figure(runs: int = 5) -> Figure:
    wxrec = statistics.median(timed([sys.executable, "-m", "reconciler", "--version"])[0] for _ in range(runs))
    bare = statistics.median(timed([sys.executable, "-c", "pass"])[0] for _ in range(runs))
    return Figure("`wxrec --version`", wxrec, "s", "`python -c pass`", bare)


C_LOADER = "import sys, yaml; yaml.load(open(sys.argv[1], encoding='utf-8').read(), Loader=yaml.CSafeLoader)"


def validate_figure(cards: int, runs: int = 3) -> Figure:
    """`wxrec validate` of the cards file as a process, CPU, against a process that only reads it with PyYAML's C
    loader (medians, run in turn)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = loader_bench.write_cards(Path(scratch), cards)
        timed([sys.executable, "-m", "reconciler", "validate", scratch])  # the compiled schema check is cached
        wxrec, alone = [], []
        for _ in range(runs):
            wxrec.append(timed([sys.executable, "-m", "reconciler", "validate", scratch])[1])
            alone.append(timed([sys.executable, "-c", C_LOADER, str(path)])[1])
    name = f"`wxrec validate`, {cards:,} cards, CPU"
    return Figure(name, statistics.median(wxrec), "s", "PyYAML's C loader alone", statistics.median(alone))


def plan_figures(cards: int, latency_ms: float) -> list[Figure]:
    figures = []
    with served(latency_ms) as url, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(populate(url, Path(scratch), cards))
        set_latency(url, latency_ms)
        for parallelism in (32, 16):
            wall = wxrec_plan([Path(scratch)], url, parallelism)
            bound = calls_made(url) * latency_ms / 1000 / parallelism
            figures.append(Figure(f"plan, {cards:,} cards, P={parallelism}", wall, "s", "its bound", bound))
            wall = asyncio.run(_raw_reading(url, parallelism))
            bound = calls_made(url) * latency_ms / 1000 / parallelism
            figures.append(Figure(f"floor: raw aiohttp reading them, P={parallelism}", wall, "s", "its bound", bound))
    return figures


Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


@asynccontextmanager
async def _bare_client(url: str, parallelism: int) -> AsyncIterator[Call]:
    """The leanest client the floor rows use: aiohttp alone, at most `parallelism` calls at a time, the token
    taken once; `call(path, body)` answers the decoded JSON."""
    import aiohttp

    async with aiohttp.ClientSession(url) as session:
        limit = asyncio.Semaphore(parallelism)
        token = ""

        async def call(path: str, body: dict[str, Any]) -> Any:
            async with limit, session.post(path, params={"access_token": token}, json=body) as answer:
                return await answer.json()

        token = (await call("/cgi-bin/stable_token", _credentials()))["access_token"]
        yield call


async def _raw_reading(url: str, parallelism: int) -> float:
    """The same calls from the leanest client (token, the card list's pages side by side, then card/get of each),
    with no start-up and no manifests: what this machine and this emulator allow at all, so that the plan's ratio
    to its bound can be read against the floor's."""
    started = time.perf_counter()
    async with _bare_client(url, parallelism) as call:
        first = await call("/card/batchget", {"offset": 0, "count": 50})
        offsets = range(50, first["total_num"], 50)
        pages = await asyncio.gather(*(call("/card/batchget", {"offset": o, "count": 50}) for o in offsets))
        ids = [card_id for page in (first, *pages) for card_id in page["card_id_list"]]
        await asyncio.gather(*(call("/card/get", {"card_id": card_id}) for card_id in ids))
    return time.perf_counter() - started


def per_call_figures(calls: int, parallelism: int = 32) -> list[Figure]:
    """Client CPU per card/get, each client in turn against one served emulator holding 50 cards."""
    with served(0) as url, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(populate(url, Path(scratch), 50))
        cpu = {name: asyncio.run(_cpu_per_call(url, name, calls, parallelism)) for name in CLIENTS}
    raw = cpu["raw aiohttp"]
    return [Figure(f"client CPU per card/get, {name}", ms, "ms", "raw aiohttp", raw) for name, ms in cpu.items()]


async def _cpu_per_call(url: str, client: str, calls: int, parallelism: int) -> float:
    async with httpx.AsyncClient(base_url=url) as http:
        token = (await http.post("/cgi-bin/stable_token", json=_credentials())).json()["access_token"]
        ids = (await http.post(f"/card/batchget?access_token={token}", json={"offset": 0, "count": 50})).json()
    card_ids = ids["card_id_list"]
    async with AsyncExitStack() as stack:
        get = await CLIENTS[client](stack, url, token)
        limit = asyncio.Semaphore(parallelism)

        async def one(n: int) -> None:
            async with limit:
                assert await get(card_ids[n % len(card_ids)])

        started = time.process_time()
        await asyncio.gather(*(one(n) for n in range(calls)))
        return (time.process_time() - started) * 1000 / calls


Get = Callable[[str], Awaitable[Any]]
Maker = Callable[[AsyncExitStack, str, str], Awaitable[Get]]


async def _raw_aiohttp(stack: AsyncExitStack, url: str, token: str) -> Get:
    import aiohttp

    session = await stack.enter_async_context(aiohttp.ClientSession(url))

    async def get(card_id: str) -> Any:
        async with session.post("/card/get", params={"access_token": token}, json={"card_id": card_id}) as answer:
            return await answer.json()

    return get


def _httpx(transport: Callable[[], httpx.AsyncBaseTransport]) -> Maker:
    async def make(stack: AsyncExitStack, url: str, token: str) -> Get:
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, transport=transport()))

        async def get(card_id: str) -> Any:
            return (await http.post("/card/get", params={"access_token": token}, json={"card_id": card_id})).json()

        return get

    return make


async def _wxrec(stack: AsyncExitStack, url: str, token: str) -> Get:
    from reconciler import connection, emulation
    from reconciler.cli import embedded
    from reconciler.manifest import Document, Manifest

    manifest = Manifest(Path(tempfile.mkdtemp()), Document())
    stack.enter_context(emulation.installed(embedded.provider))  # the served emulator's demo account, as the CLI
    api, _ = await stack.enter_async_context(connection.connect(url, manifest, DEMO_APPID, CallLimiter(32)))
    return api.get


def _aiohttp_transport() -> httpx.AsyncBaseTransport:
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport()


CLIENTS: dict[str, Maker] = {
    "wxrec": _wxrec,
    "httpx over aiohttp": _httpx(_aiohttp_transport),
    "httpx's own transport": _httpx(httpx.AsyncHTTPTransport),
    "raw aiohttp": _raw_aiohttp,
}


def _credentials() -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}


def peer_figure(cards: int, latency_ms: float, peer_python: str) -> Figure:
    with served(latency_ms) as url, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(populate(url, Path(scratch), cards))
        set_latency(url, latency_ms)
        script = Path(scratch) / "peer.py"
        script.write_text(PEER_SCRIPT, encoding="utf-8")
        peer = timed([peer_python, str(script), url, DEMO_APPID, DEMO_SECRET])[0]
        wxrec = wxrec_plan([Path(scratch)], url, 32)
    return Figure(f"plan, {cards:,} cards, P=32, against wechatpy", wxrec, "s", "wechatpy, one by one", peer)


TYPICAL_APPIDS = ("wx1000000000000001", "wx1000000000000002", "wx1000000000000003")


def typical_figure(latency_ms: float, parallelism: int = 16) -> Figure:
    """3 accounts × 50 cards, each with a menu and QR codes: applied (setup), then one timed plan of all three."""
    with served(latency_ms, *TYPICAL_APPIDS) as url, tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        directories = []
        for number, appid in enumerate(TYPICAL_APPIDS):
            directory = Path(scratch) / f"shop{number}"
            directory.mkdir()
            (directory / "wxrec.yaml").write_text(yaml.safe_dump(_typical(appid), allow_unicode=True), "utf-8")
            env[f"WXREC_SHOP{number}_APPSECRET"] = DEMO_SECRET
            directories.append(directory)
        command = [sys.executable, "-m", "reconciler", "apply", *map(str, directories), "--api", url]
        timed([*command, "--auto-approve"], env)
        set_latency(url, latency_ms)
        wall = wxrec_plan(directories, url, parallelism, env)
        bound = calls_made(url) * latency_ms / 1000 / parallelism
    return Figure("typical: plan of 3 accounts × 50 cards, menus, QR codes", wall, "s", "its bound", bound)


def _typical(appid: str) -> dict[str, Any]:
    cards = {f"card-{n:02d}": spec(n) for n in range(50)}
    qrcodes = {
        f"poster-{n:02d}": {"action_name": "QR_CARD", "cards": [{"card": f"card-{n:02d}", "outer_str": "poster"}]}
        for n in range(5)
    }
    qrcodes["follow-us"] = {"action_name": "QR_LIMIT_STR_SCENE", "scene_str": "table-sticker"}
    menu = {"button": [{"name": "菜单", "type": "view", "url": "https://shop.example.com/menu"}]}
    return {"account": {"appid": appid}, "cards": cards, "qrcodes": qrcodes, "menu": menu}


def deposit_figures(codes: int, latency_ms: float) -> list[Figure]:
    """wxrec's deposit, then its floor: a bare aiohttp loop making the same calls (a deposit and a checkcode per
    100 other codes) into the same card, in the same run."""
    with served(latency_ms) as url, tempfile.TemporaryDirectory() as scratch:
        row = deposit_bench.measure(url, Path(scratch), codes, 32, latency_ms)
        set_latency(url, latency_ms)
        floor = asyncio.run(_raw_deposit(url, codes, 32))
        floor_calls = calls_made(url)
    if row.deposit_calls * 100 != codes or row.held != codes:
        raise SystemExit(f"the deposit went wrong: {row}")
    return [
        Figure(f"deposit of {codes:,} codes, P=32", row.seconds, "s", "its bound", row.bound),
        Figure("floor: raw aiohttp making those calls", floor, "s", "its bound", floor_calls * row.latency / 32),
    ]


async def _raw_deposit(url: str, codes: int, parallelism: int) -> float:
    started = time.perf_counter()
    async with _bare_client(url, parallelism) as call:
        card_id = (await call("/card/batchget", {"offset": 0, "count": 1}))["card_id_list"][0]

        async def batch(first: int) -> None:
            chunk = [f"F{n:011d}" for n in range(first, min(first + 100, codes))]
            await call("/card/code/deposit", {"card_id": card_id, "code": chunk})
            held = await call("/card/code/checkcode", {"card_id": card_id, "code": chunk})
            assert len(held["exist_code"]) == len(chunk)

        await asyncio.gather(*(batch(first) for first in range(0, codes, 100)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--peer-cards", type=int, default=1_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--peer-python", help="a Python with wechatpy installed (the peer row is left out without)")
    args = parser.parse_args()
    figures = [version_figure(), validate_figure(args.cards), *per_call_figures(args.calls)]
    figures += plan_figures(args.cards, args.latency_ms)
    if args.peer_python:
        figures.append(peer_figure(args.peer_cards, args.latency_ms, args.peer_python))
    figures += [typical_figure(args.latency_ms), *deposit_figures(args.codes, args.latency_ms)]
    print(table(figures))


def table(figures: list[Figure]) -> str:
    head = ["| figure | measured | baseline | baseline measured | ratio |", "|---|---:|---|---:|---:|"]
    return "\n".join([*head, *(figure.row() for figure in figures)])


if __name__ == "__main__":
    main()
