"""Custom code deposit at scale against `wxrec emulator serve` (a separate process) with 20 ms of latency per call.

    python -m benchmarks.deposit_bench [--sizes 10000,100000,1000000] [--parallelism 16,32] [--latency-ms 20]

For each N and P: a fresh emulator, a deposit-mode card created and approved (setup, not measured), then N codes
in a file and one timed `wxrec apply` subprocess: plan (hash the file, read the ledger, getdepositcount), deposit
in batches of 100, checkcode every batch, getdepositcount, stock. The table shows wall time, API calls, the
bound calls × latency / parallelism, the ratio to it, the peak RSS, and the proof that nothing went twice:
deposit calls × 100 = N and the card holds N codes.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.plan_bench import free_port, wait_for
from reconciler.emulator import DEMO_APPID, DEMO_SECRET

CARD: dict[str, Any] = {
    "card_type": "MEMBER_CARD",
    "base_info": {
        "logo_url": "https://mmbiz.qpic.cn/mmbiz/bench/logo.png",
        "brand_name": "压测咖啡",
        "code_type": "CODE_TYPE_QRCODE",
        "title": "礼品卡",
        "color": "Color010",
        "notice": "出示券码",
        "description": "兑换一杯任意饮品",
        "use_custom_code": True,
        "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT",
        "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
        "sku": {"total_quantity": 100_000_000},
    },
    "prerogative": "凭卡兑换一杯任意饮品",
    "supply_bonus": False,
    "supply_balance": False,
}


@dataclass
class Row:
    codes: int
    parallelism: int
    seconds: float
    calls: int
    deposit_calls: int
    held: int
    latency: float
    rss_mb: float

    @property
    def bound(self) -> float:
        return self.calls * self.latency / self.parallelism


def wxrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, check=False)


def measure(url: str, directory: Path, count: int, parallelism: int, latency_ms: float) -> Row:
    manifest = directory / "gift.yaml"
    manifest.write_text(yaml.safe_dump({"cards": {"gift": CARD}}, allow_unicode=True), encoding="utf-8")
    setup = wxrec("apply", str(directory), "--api", url, "--auto-approve")
    if setup.returncode != 0:
        raise SystemExit(f"setup failed:\n{setup.stdout[-2000:]}\n{setup.stderr[-2000:]}")
    (directory / "codes.txt").write_text("".join(f"C{n:011d}\n" for n in range(count)), encoding="utf-8")
    document = {"cards": {"gift": CARD}, "codes": {"gift-codes": {"card": "gift", "file": "codes.txt"}}}
    manifest.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    httpx.post(f"{url}/_emulator/faults", json={"spec": f"latency={latency_ms}ms"})
    httpx.post(f"{url}/_emulator/calls/clear")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    # Counted from the emulator's call log, not from `-v`: logging 20,000 lines would be measured as wxrec's work.
    done = wxrec("apply", str(directory), "--api", url, "--auto-approve", "--parallelism", str(parallelism))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    calls = [call["path"] for call in httpx.get(f"{url}/_emulator/calls", timeout=60).json()["calls"]]
    httpx.post(f"{url}/_emulator/faults", json={"spec": "none"})
    card_id = next(c["card_id"] for c in httpx.get(f"{url}/_emulator/cards").json()["cards"])
    token = httpx.get(f"{url}/cgi-bin/token", params=_credentials()).json()["access_token"]
    held = httpx.post(
        f"{url}/card/code/getdepositcount", params={"access_token": token}, json={"card_id": card_id}
    ).json()["count"]
    return Row(
        codes=count,
        parallelism=parallelism,
        seconds=seconds,
        calls=len(calls),
        deposit_calls=calls.count("/card/code/deposit"),
        held=int(held),
        latency=latency_ms / 1000,
        rss_mb=max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024,
    )


def _credentials() -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--parallelism", default="16,32")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    rows = []
    for count in (int(s) for s in args.sizes.split(",")):
        for parallelism in (int(p) for p in args.parallelism.split(",")):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", str(port)]
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(url)
                with tempfile.TemporaryDirectory() as scratch:
                    rows.append(measure(url, Path(scratch), count, parallelism, args.latency_ms))
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(_line(rows[-1]), flush=True)
    print("\n" + _table(rows))


HEAD = "| codes | parallelism | wall s | calls | bound s | ratio to bound | deposit calls | codes held | peak RSS MB |"


def _line(row: Row) -> str:
    twice = "" if row.deposit_calls * 100 == row.codes and row.held == row.codes else " MISMATCH"
    return (
        f"| {row.codes:,} | {row.parallelism} | {row.seconds:.2f} | {row.calls:,} | {row.bound:.2f} "
        f"| {row.seconds / row.bound:.2f} | {row.deposit_calls:,} | {row.held:,}{twice} | {row.rss_mb:.0f} |"
    )


def _table(rows: list[Row]) -> str:
    return "\n".join([HEAD, "|" + "---:|" * 9, *(_line(row) for row in rows)])


if __name__ == "__main__":
    main()
