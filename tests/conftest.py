"""Shared fixtures: manifests written to temporary directories, and the emulator wired to the real client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, RetryPolicy, StableToken, WeChatClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "coffee-shop"
FAST_RETRY = RetryPolicy(attempts=4, max_seconds=5, base_wait=0.001, max_wait=0.01)


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A private copy of the coffee-shop example, so tests can edit it and keep state beside it."""
    target = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".wxrec"))
    return target


@pytest.fixture
def emulator_app():  # type: ignore[no-untyped-def]
    return create_app(EmulatorConfig(accounts={DEMO_APPID: DEMO_SECRET}))


@pytest.fixture
async def card_api(emulator_app) -> AsyncIterator[CardApi]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API) as http:
        yield CardApi(WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET), FAST_RETRY))
