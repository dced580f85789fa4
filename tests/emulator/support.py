"""Helpers for the emulator tests: a thin WeChat client, card bodies, a fake clock."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from reconciler.emulator import DEMO_APPID, DEMO_SECRET

# 2025-06-15 08:00:00 UTC: fixed, so dates in the tests never age.
T0 = 1_750_000_000.0
BASE_URL = "https://api.weixin.qq.com"
FUTURE = int(T0) + 90 * 86400
# What an error errmsg carries after WeChat's words: the hint, then (always last) the rid.
HINT = r"hint: \[[A-Za-z0-9]{6}[0-9]{4}ent[1-3]\]"
RID = r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}"


def without_rid(errmsg: str) -> str:
    """The errmsg as it reads before its rid, so a test can name the detail at its end."""
    found = re.search(f"{RID}$", errmsg)
    assert found, f"no rid at the end of {errmsg!r}"
    return errmsg[: found.start()]


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Api:
    """A thin WeChat client for tests: fetches a token once and sends it on every call."""

    def __init__(self, client: httpx.AsyncClient, appid: str = DEMO_APPID, secret: str = DEMO_SECRET) -> None:
        self.client = client
        self.appid = appid
        self.secret = secret
        self._token: str | None = None

    async def token(self) -> str:
        if self._token is None:
            answer = await self.get_token()
            self._token = answer["access_token"]
        return self._token

    async def get_token(self, **params: str) -> dict[str, Any]:
        query = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret, **params}
        response = await self.client.get("/cgi-bin/token", params=query)
        assert response.status_code == 200
        return dict(response.json())

    async def post(self, path: str, body: Any, token: str | None = None) -> dict[str, Any]:
        params = {"access_token": token or await self.token()}
        response = await self.client.post(path, params=params, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def get(self, path: str, token: str | None = None) -> dict[str, Any]:
        response = await self.client.get(path, params={"access_token": token or await self.token()})
        assert response.status_code == 200
        return dict(response.json())

    async def create(self, body: dict[str, Any] | None = None) -> str:
        answer = await self.post("/card/create", body or ticket())
        assert answer["errcode"] == 0, answer
        return str(answer["card_id"])

    async def card(self, card_id: str) -> dict[str, Any]:
        answer = await self.post("/card/get", {"card_id": card_id})
        assert answer["errcode"] == 0, answer
        return dict(answer["card"])

    async def base_info(self, card_id: str) -> dict[str, Any]:
        card = await self.card(card_id)
        return dict(card[card["card_type"].lower()]["base_info"])

    async def control(self, name: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/_emulator/{name}", json=body)


def base_info(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0",
        "brand_name": "海底捞",
        "code_type": "CODE_TYPE_TEXT",
        "title": "双人套餐100元兑换券",
        "color": "Color010",
        "notice": "请出示二维码",
        "description": "不可与其他优惠同享",
        "date_info": {
            "type": "DATE_TYPE_FIX_TIME_RANGE",
            "begin_timestamp": int(T0),
            "end_timestamp": FUTURE,
        },
        "sku": {"quantity": 100},
    }
    base.update(overrides)
    return base


TYPE_FIELDS: dict[str, dict[str, Any]] = {
    "GROUPON": {"deal_detail": "双人套餐"},
    "CASH": {"least_cost": 10000, "reduce_cost": 1000},
    "DISCOUNT": {"discount": 30},
    "GIFT": {"gift": "一杯咖啡"},
    "GENERAL_COUPON": {"default_detail": "全场通用"},
    "MEMBER_CARD": {"prerogative": "全场8折", "supply_bonus": False, "supply_balance": False},
    "SCENIC_TICKET": {"ticket_class": "平日全票", "guide_url": "http://example.com/map"},
    "MOVIE_TICKET": {"detail": "电影名：复仇者联盟2"},
    "BOARDING_PASS": {"from": "广州", "to": "北京", "flight": "CE123"},
    "MEETING_TICKET": {"meeting_detail": "会议时间：xxx"},
    "BUS_TICKET": {},
}


def card_body(card_type: str = "SCENIC_TICKET", base: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"base_info": base if base is not None else base_info()}
    data.update(copy.deepcopy(TYPE_FIELDS[card_type]))
    data.update(fields)
    return {"card": {"card_type": card_type, card_type.lower(): data}}


def ticket(**base_overrides: Any) -> dict[str, Any]:
    """A scenic ticket: a type WeChat creates today (coupons only in the legacy mode, see test_emulator_coupons)."""
    return card_body("SCENIC_TICKET", base_info(**base_overrides))


MakeApi = Callable[..., Awaitable[Api]]
ApiFor = Callable[[str], Awaitable[Api]]
