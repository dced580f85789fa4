"""Access tokens: secret checks, a new token per /cgi-bin/token call with a 5-minute overlap,
expiry by the emulator's clock, and stable tokens independent of plain ones."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET

from .support import Api, FakeTime, MakeApi


async def stable(api: Api, **body: Any) -> dict[str, Any]:
    payload = {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET, **body}
    response = await api.client.post("/cgi-bin/stable_token", json=payload)
    return dict(response.json())


async def getcolors(api: Api, token: str) -> int:
    return int((await api.get("/card/getcolors", token=token))["errcode"])


async def test_token_is_issued_for_the_right_secret(api: Api) -> None:
    answer = await api.get_token()
    assert set(answer) == {"access_token", "expires_in"}
    assert answer["expires_in"] == 7200
    assert len(answer["access_token"]) > 100
    assert await getcolors(api, answer["access_token"]) == 0


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"secret": "wrong"}, 40125),
        ({"appid": "wx00000000000000ff"}, 40013),
        ({"grant_type": "password"}, 40002),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
    ],
)
async def test_token_refuses_bad_credentials(api: Api, params: dict[str, str], errcode: int) -> None:
    answer = await api.get_token(**params)
    assert answer["errcode"] == errcode
    assert "access_token" not in answer


async def test_each_token_call_issues_a_new_token_and_the_previous_one_overlaps(api: Api, fake_time: FakeTime) -> None:
    first = (await api.get_token())["access_token"]
    fake_time.now += 60
    second = (await api.get_token())["access_token"]
    assert first != second
    fake_time.now += 299
    assert await getcolors(api, first) == 0  # still inside the 5-minute overlap
    fake_time.now += 1
    assert await getcolors(api, first) == 40001
    assert await getcolors(api, second) == 0


async def test_only_the_latest_previous_token_overlaps(api: Api) -> None:
    first = (await api.get_token())["access_token"]
    second = (await api.get_token())["access_token"]
    third = (await api.get_token())["access_token"]
    assert await getcolors(api, first) == 40001
    assert await getcolors(api, second) == 0
    assert await getcolors(api, third) == 0


async def test_tokens_expire_after_their_ttl(make_api: MakeApi, fake_time: FakeTime) -> None:
    api = await make_api(token_ttl=600)
    answer = await api.get_token()
    assert answer["expires_in"] == 600
    fake_time.now += 599
    assert await getcolors(api, answer["access_token"]) == 0
    fake_time.now += 1
    assert await getcolors(api, answer["access_token"]) == 42001


async def test_clock_control_expires_tokens(api: Api) -> None:
    token = await api.token()
    response = await api.control("clock", {"advance": 7200})
    assert response.status_code == 200
    assert await getcolors(api, token) == 42001


async def test_missing_and_unknown_tokens(api: Api) -> None:
    response = await api.client.get("/card/getcolors")
    assert response.json()["errcode"] == 41001
    assert response.json()["errmsg"].startswith("access_token missing")
    answer = await api.get("/card/getcolors", token="86_not-a-token")
    assert answer["errcode"] == 40001
    assert answer["errmsg"].startswith("invalid credential, access_token is invalid or not latest")


async def test_stable_token_is_reused_until_five_minutes_before_expiry(api: Api, fake_time: FakeTime) -> None:
    first = await stable(api)
    fake_time.now += 3600
    again = await stable(api, force_refresh=False)
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 3600
    fake_time.now += 3600 - 300
    renewed = await stable(api)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200


async def test_stable_force_refresh_invalidates_the_previous_token_at_once(api: Api) -> None:
    old = (await stable(api))["access_token"]
    new = (await stable(api, force_refresh=True))["access_token"]
    assert new != old
    assert await getcolors(api, old) == 40001, "getStableAccessToken: 强制刷新模式，会导致上次获取的 access_token 失效"
    assert await getcolors(api, new) == 0
    assert (await stable(api))["access_token"] == new, "normal mode hands back the forced one"


async def test_a_second_forced_refresh_within_30_seconds_does_not_refresh(api: Api, fake_time: FakeTime) -> None:
    first = (await stable(api, force_refresh=True))["access_token"]
    fake_time.now += 29
    assert (await stable(api, force_refresh=True))["access_token"] == first
    assert await getcolors(api, first) == 0
    fake_time.now += 1
    second = (await stable(api, force_refresh=True))["access_token"]
    assert second != first and await getcolors(api, first) == 40001


async def test_a_revoked_stable_token_is_replaced_in_normal_mode_and_the_overlap_is_only_for_renewal(
    api: Api, fake_time: FakeTime
) -> None:
    first = (await stable(api))["access_token"]
    fake_time.now += 7200 - 300
    renewed = (await stable(api))["access_token"]
    assert renewed != first
    assert await getcolors(api, first) == 0, "平台会保证在5分钟内，新旧access_token都可用"
    fake_time.now += 300
    assert await getcolors(api, first) in (40001, 42001)


async def test_stable_and_plain_tokens_do_not_invalidate_each_other(api: Api) -> None:
    stable_token = (await stable(api))["access_token"]
    plain = [(await api.get_token())["access_token"] for _ in range(3)]
    assert await getcolors(api, stable_token) == 0
    await stable(api, force_refresh=True)
    assert await getcolors(api, plain[-1]) == 0


async def test_stable_token_checks_the_secret_and_the_body(api: Api) -> None:
    wrong = await stable(api, secret="wrong")
    assert wrong["errcode"] == 40125 and wrong["errmsg"].startswith("invalid appsecret")
    assert (await stable(api, force_refresh="yes"))["errcode"] == 47001
    response = await api.client.post("/cgi-bin/stable_token", content=b"")
    assert response.json()["errcode"] == 44002


async def test_forced_stable_refreshes_have_a_daily_quota(api: Api, fake_time: FakeTime) -> None:
    tokens = set()
    for _ in range(20):
        tokens.add((await stable(api, force_refresh=True))["access_token"])
        fake_time.now += 30
    assert len(tokens) == 20
    assert (await stable(api, force_refresh=True))["errcode"] == 45009
    assert "access_token" in await stable(api), "normal mode is not limited by it"
    fake_time.now += 86400
    assert "access_token" in await stable(api, force_refresh=True)


async def test_token_endpoint_wants_get_and_card_endpoints_want_post(api: Api) -> None:
    response = await api.client.post("/cgi-bin/token")
    assert response.json()["errcode"] == 43001
    response = await api.client.get("/card/get", params={"access_token": await api.token()})
    assert response.json()["errcode"] == 43002
