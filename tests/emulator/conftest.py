"""Fixtures for the emulator tests: an app on a fake clock, driven through httpx's ASGI transport."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app, legacy_coupons_from_env
from reconciler.emulator.model import COUPON_TYPES

from .support import BASE_URL, Api, ApiFor, FakeTime, MakeApi


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


@pytest.fixture
async def legacy_api(make_api: MakeApi) -> Api:
    """An emulator that creates coupons as WeChat did before 2021-04-01, for tests whose point is a coupon."""
    return await make_api(legacy_coupons=True)


@pytest.fixture
def api_for(make_api: MakeApi) -> ApiFor:
    """An emulator that creates the given card type: in the legacy mode for a coupon type, today's otherwise."""

    async def build(card_type: str) -> Api:
        return await make_api(legacy_coupons=card_type in COUPON_TYPES)

    return build
