"""Fixtures for the emulator tests: an app on a fake clock, driven through httpx's ASGI transport."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app, legacy_coupons_from_env

from .support import BASE_URL, Api, FakeTime, MakeApi


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def make_api(fake_time: FakeTime) -> AsyncIterator[MakeApi]:
    """Builds an emulator with the given config (demo account, fake clock) and an Api on it."""
    clients: list[httpx.AsyncClient] = []

    async def build(**config: Any) -> Api:
        """`legacy_coupons` left out follows WXREC_EMULATOR_LEGACY_COUPONS (tests/conftest.py's fixtures)."""
        config.setdefault("accounts", {DEMO_APPID: DEMO_SECRET})
        config.setdefault("legacy_coupons", legacy_coupons_from_env(os.environ))
        config.setdefault("time_source", fake_time)
        app = create_app(EmulatorConfig(**config))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        clients.append(client)
        return Api(client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()
