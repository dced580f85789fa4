"""What many tests share: the `wxrec` command in-process, and a harness of emulator, manifests and state."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.emulator import (
    DEMO_APPID,
    DEMO_SECRET,
    EXISTING_CARDS_FILE,
    EmulatorConfig,
    create_app,
    legacy_coupons_from_env,
)
from reconciler.manifest import load_manifest
from reconciler.planning import Options, PlanInputs, plan, plan_for_apply
from reconciler.scheduler import apply_plan
from reconciler.sources import ApiSource
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient
from reconciler.wechat.limiter import CallLimiter

TEST_CLUSTER_URL_FILE = Path(os.environ.get("WXREC_TEST_POSTGRES_DIR", "/tmp/wxrec-test-postgres")) / "url"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "coffee-shop"
# What `plan`/`apply --legacy-coupons` read from the environment (a served emulator in legacy mode).
LEGACY_COUPONS_FLAG_ENV = "WXREC_LEGACY_COUPONS"
FAST_RETRY = RetryPolicy(attempts=4, max_seconds=5, base_wait=0.001, max_wait=0.01)

# What a run of an example leaves beside its manifests (make demo runs in examples/): never copied into a test.
RUN_LEFTOVERS = shutil.ignore_patterns(".wxrec", "qrcodes")


def running_test_cluster() -> str | None:
    """The URL scripts/ensure-postgres wrote, so a plain `pytest` after one `make test` tests PostgreSQL too."""
    try:
        return TEST_CLUSTER_URL_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def with_state_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}state_name={name}"


def wxrec(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """The `wxrec` command, in this process, through its real entry point."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def apply_ok(directory: Path, *extra: str) -> Result:
    result = wxrec("apply", directory, "--api", "emulator", "--auto-approve", *extra)
    assert result.exit_code == 0, result.output
    return result


class Harness:
    """One emulator account, the example manifest, and state on disk."""

    def __init__(self, http: httpx.AsyncClient, directory: Path, legacy_coupons: bool = False) -> None:
        self.http = http
        self.legacy_coupons = legacy_coupons
        limiter = CallLimiter(first_pause=0.002)
        self.api = CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), FAST_RETRY, limiter))
        self.directory = directory
        self.backend = FileBackend(directory / ".wxrec" / "state.json")

    def options(self, **options: object) -> Options:
        # As `apply --auto-approve --allow-destroy`: the tests replace and delete cards on purpose.
        defaults = {
            "qrcode_dir": self.directory / "qrcodes",
            "manifest_root": self.directory,
            "allow_destroy": True,
            "legacy_coupons": self.legacy_coupons,
        }
        return Options(**{**defaults, **options})  # type: ignore[arg-type]

    async def plan(self, **options: object):  # type: ignore[no-untyped-def]
        manifest = load_manifest(self.directory)
        settings = self.options(**options)
        inputs = PlanInputs(manifest, self.backend.load(), DEMO_APPID, "emulator", settings, self.backend.code_hashes)
        return await plan(inputs, ApiSource(self.api, settings.parallelism))

    async def apply(self, **options: object):  # type: ignore[no-untyped-def]
        state = self.backend.load() or State(appid=DEMO_APPID, endpoint="emulator")
        manifest = load_manifest(self.directory)
        settings = self.options(**options)
        _, plan = await plan_for_apply(manifest, self.api, state, self.backend, "emulator", settings)
        report = await apply_plan(plan, self.api, state, self.backend, settings)
        assert not report.failed, report.to_dict()
        return report

    async def control(self, name: str, **body: object) -> dict:  # type: ignore[type-arg]
        response = await self.http.post(f"/_emulator/{name}", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def control_get(self, name: str) -> dict:  # type: ignore[type-arg]
        response = await self.http.get(f"/_emulator/{name}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def card_id(self, key: str) -> str:
        state = self.backend.load()
        assert state is not None
        return str(state.resources[f"cards.{key}"]["id"])


async def harness_for(
    tmp_path: Path, review: str = "instant", legacy_coupons: bool | None = None
) -> AsyncIterator[Harness]:
    """`legacy_coupons`: the emulator creates coupons (as before 2021-04-01) and the harness's plans let it;
    left out, WXREC_EMULATOR_LEGACY_COUPONS says (tests/conftest.py's `legacy_coupons` fixture)."""
    directory = tmp_path / "shop"
    shutil.copytree(EXAMPLE, directory, ignore=RUN_LEFTOVERS)
    legacy = legacy_coupons_from_env(os.environ) if legacy_coupons is None else legacy_coupons
    existing = directory / EXISTING_CARDS_FILE  # the coupons the example adopts, as the embedded emulator loads them
    config = EmulatorConfig(
        accounts={DEMO_APPID: DEMO_SECRET},
        review=review,
        token_ttl=7200,
        legacy_coupons=legacy,
        existing_cards=existing if existing.is_file() else None,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(config)), base_url=WECHAT_API) as http:
        yield Harness(http, directory, legacy)


@contextmanager
def served_emulator(*options: str) -> Iterator[str]:
    """`wxrec emulator serve` in its own process on a free port; yields its URL once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", str(port), *options]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/_emulator/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
