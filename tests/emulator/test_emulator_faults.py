"""Faults: the spec string, each fault's effect (seeded), the controls, the CLI, the call log."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from reconciler.emulator import (
    DEMO_APPID,
    DEMO_SECRET,
    EmulatorConfig,
    FaultSpec,
    SimulatedConnectionReset,
    create_app,
    faults_from_env,
    legacy_coupons_from_env,
    parse_faults,
)
from reconciler.emulator.calls import token_digest
from reconciler.emulator.cli import emulator_group
from reconciler.emulator.fault_spec import Latency
from reconciler.emulator.transport import FaultTolerantASGITransport

from .support import BASE_URL, Api, FakeTime, MakeApi, ticket

MakeTolerant = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_tolerant(fake_time: FakeTime) -> AsyncIterator[MakeTolerant]:
    """Like make_api, through FaultTolerantASGITransport: resets and drops surface as httpx.ReadError."""
    clients: list[httpx.AsyncClient] = []

    async def build(**config: Any) -> Api:
        config.setdefault("accounts", {DEMO_APPID: DEMO_SECRET})
        config.setdefault("time_source", fake_time)
        transport = FaultTolerantASGITransport(
            create_app(EmulatorConfig(**{"legacy_coupons": legacy_coupons_from_env(os.environ), **config}))
        )
        clients.append(httpx.AsyncClient(transport=transport, base_url=BASE_URL))
        return Api(clients[-1])

    yield build
    for client in clients:
        await client.aclose()


async def calls(api: Api, **query: Any) -> list[dict[str, Any]]:
    response = await api.client.get("/_emulator/calls", params=query)
    assert response.status_code == 200, response.text
    return list(response.json()["calls"])


async def cards(api: Api) -> list[dict[str, Any]]:
    return list((await api.client.get("/_emulator/cards")).json()["cards"])


async def colors_errcode(api: Api) -> int:
    return int((await api.get("/card/getcolors"))["errcode"])


# ---------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", FaultSpec()),
        (" None ", FaultSpec()),
        ("latency=20ms", FaultSpec(latency=Latency("fixed", 0.02))),
        ("latency=5ms..40ms", FaultSpec(latency=Latency("uniform", 0.005, 0.04))),
        ("latency=exp:1.5s", FaultSpec(latency=Latency("exp", 1.5))),
        ("error=-1:0.05, error=45011:2%", FaultSpec(errors=((-1, 0.05), (45011, 0.02)))),
        ("error=40001:0.01,error=42001:0.01", FaultSpec(errors=((40001, 0.01), (42001, 0.01)))),
        ("http=503:0.02,reset=0.02,drop=0.05", FaultSpec(http=((503, 0.02),), reset=0.02, drop=0.05)),
        ("rate=600/min,quota=5000/day,seed=7", FaultSpec(rate=600, quota=5000, seed=7)),
        ("drop=1,paths=/card/create|/card/modifystock", FaultSpec(drop=1, paths=("/card/create", "/card/modifystock"))),
    ],
)
def test_good_specs_parse_and_round_trip(spec: str, expected: FaultSpec) -> None:
    parsed = parse_faults(spec)
    assert parsed == expected
    assert parse_faults(str(parsed)) == parsed
    assert parsed.active == bool(str(parsed))


def test_canonical_form() -> None:
    spec = "seed=7 , drop=5% ,latency=1000ms,error=-1:0.00001,quota=10/day"
    assert str(FaultSpec.parse(spec)) == "latency=1s,error=-1:0.00001,drop=0.05,quota=10/day,seed=7"


@pytest.mark.parametrize(
    ("spec", "bad_item", "reason"),
    [
        ("latency=20", "latency=20", "duration"),
        ("latency=40ms..5ms", "latency=40ms..5ms", "backwards"),
        ("error=-1:0.05,error=12:0.1", "error=12:0.1", "errcode 12"),
        ("error=-1", "error=-1", "ERRCODE:PROBABILITY"),
        ("error=-1:0.1,error=-1:0.2", "error=-1:0.2", "twice"),
        ("http=404:0.1", "http=404:0.1", "5xx"),
        ("reset=1.5", "reset=1.5", "over 1"),
        ("drop=lots", "drop=lots", "probability"),
        ("rate=600/hour", "rate=600/hour", "COUNT/min"),
        ("quota=-3/day", "quota=-3/day", "whole number"),
        ("seed=x", "seed=x", "integer seed"),
        ("paths=/_emulator/claim", "paths=/_emulator/claim", "never faulted"),
        ("paths=card/create", "paths=card/create", "API path"),
        ("chaos=1", "chaos=1", "unknown fault"),
        ("drop", "drop", "NAME=VALUE"),
        ("drop=0.1,,seed=1", "", "stray comma"),
        ("latency=1ms,latency=2ms", "latency=2ms", "twice"),
    ],
)
def test_bad_specs_name_the_bad_item(spec: str, bad_item: str, reason: str) -> None:
    with pytest.raises(ValueError, match="fault spec item") as caught:
        parse_faults(spec)
    assert repr(bad_item) in str(caught.value) and reason in str(caught.value)


def test_probabilities_over_one_are_refused_and_config_checks_early() -> None:
    with pytest.raises(ValueError, match=r"add up to 1\.1"):
        parse_faults("error=-1:0.6,reset=0.5")
    with pytest.raises(ValueError, match="'bogus=1'"):
        EmulatorConfig(faults="bogus=1")


def test_faults_from_env() -> None:
    assert faults_from_env({"WXREC_EMULATOR_FAULTS": " drop=0.1 "}) == "drop=0.1"
    assert faults_from_env({}) == ""


# ---------------------------------------------------------------- each fault


async def test_errors_are_seeded_and_reproducible(make_api: MakeApi) -> None:
    patterns = []
    for _ in range(2):
        api = await make_api(faults="error=-1:0.3,error=45011:0.2,seed=7")
        patterns.append([await colors_errcode(api) for _ in range(30)])
    assert patterns[0] == patterns[1]
    assert {0, -1, 45011} == set(patterns[0])
    other = await make_api(faults="error=-1:0.3,error=45011:0.2,seed=8")
    assert [await colors_errcode(other) for _ in range(30)] != patterns[0]


async def test_injected_errcodes_carry_wechat_errmsgs_and_change_nothing(make_api: MakeApi) -> None:
    api = await make_api(faults="error=-1:1,paths=/card/create")
    answer = await api.post("/card/create", ticket())
    assert answer["errcode"] == -1 and answer["errmsg"].startswith("system error hint: [")
    assert await cards(api) == []
    assert (await api.post("/card/batchget", {"offset": 0, "count": 5}))["errcode"] == 0, "other paths are not faulted"
    assert (await api.get_token())["access_token"], "token endpoints are faulted only when paths= names them"


STABLE_BODY = {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}


@pytest.mark.parametrize(
    ("code", "errmsg"), [(40164, "invalid ip"), (89503, "this IP call requires administrator confirmation")]
)
async def test_token_paths_are_faulted_when_the_spec_names_them(make_api: MakeApi, code: int, errmsg: str) -> None:
    api = await make_api(faults=f"error={code}:1,quota=1/day,paths=/cgi-bin/stable_token|/cgi-bin/token")
    answer = (await api.client.post("/cgi-bin/stable_token", json=STABLE_BODY)).json()
    assert answer["errcode"] == code and answer["errmsg"].startswith(errmsg), answer
    assert (await api.get_token())["errcode"] == 45009, "the quota counts the account's token calls"
    [stable_call, token_call] = await calls(api)
    assert (stable_call["appid"], stable_call["fault"], token_call["fault"]) == (DEMO_APPID, "error", "quota")


async def test_token_paths_are_not_faulted_unless_named(make_api: MakeApi) -> None:
    api = await make_api(faults="error=40164:1,http=503:0")
    assert (await api.client.post("/cgi-bin/stable_token", json=STABLE_BODY)).json()["access_token"]
    assert (await api.get_token())["access_token"]
    assert await colors_errcode(api) == 40164


async def test_any_fault_can_hit_the_token_path(make_tolerant: MakeTolerant) -> None:
    api = await make_tolerant(faults="http=502:0.5,reset=0.5,seed=3,paths=/cgi-bin/stable_token")
    outcomes = set()
    for _ in range(12):
        try:
            outcomes.add((await api.client.post("/cgi-bin/stable_token", json=STABLE_BODY)).status_code)
        except httpx.ReadError:
            outcomes.add("reset")
    assert outcomes == {502, "reset"}


async def test_the_call_log_tells_forced_refreshes_and_which_token_each_call_used(api: Api) -> None:
    normal = (await api.client.post("/cgi-bin/stable_token", json=STABLE_BODY)).json()["access_token"]
    assert (await api.get("/card/getcolors", token=normal))["errcode"] == 0
    await api.client.post("/cgi-bin/stable_token", json={**STABLE_BODY, "force_refresh": True})
    assert (await api.get("/card/getcolors", token=normal))["errcode"] == 40001
    log = await calls(api)
    assert [(c["path"], c.get("force_refresh", False)) for c in log] == [
        ("/cgi-bin/stable_token", False),
        ("/card/getcolors", False),
        ("/cgi-bin/stable_token", True),
        ("/card/getcolors", False),
    ]
    assert log[0]["token"] == log[1]["token"] == log[3]["token"] == token_digest(normal) != log[2]["token"]
    assert normal not in json.dumps(log)


@pytest.mark.parametrize(("code", "then"), [(40001, 40001), (42001, 42001)])
async def test_token_faults_really_invalidate_the_token(make_api: MakeApi, code: int, then: int) -> None:
    api = await make_api(faults=f"error={code}:1,paths=/card/getcolors")
    old = await api.token()
    assert await colors_errcode(api) == code
    # card/get is not faulted: the token itself has stopped working.
    assert (await api.post("/card/batchget", {"offset": 0, "count": 5}, token=old))["errcode"] == then
    fresh = (await api.get_token())["access_token"]
    assert (await api.post("/card/batchget", {"offset": 0, "count": 5}, token=fresh))["errcode"] == 0


async def test_http_5xx_answers_a_non_json_page(make_api: MakeApi) -> None:
    api = await make_api(faults="http=503:1")
    response = await api.client.get("/card/getcolors", params={"access_token": await api.token()})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        json.loads(response.text)
    [entry] = await calls(api, since=1)
    assert entry["fault"] == "http" and entry["http_status"] == 503 and entry["errcode"] is None


async def test_reset_in_process_raises_and_does_nothing(make_api: MakeApi) -> None:
    api = await make_api(faults="reset=1")
    token = await api.token()
    with pytest.raises(SimulatedConnectionReset) as caught:
        await api.post("/card/create", ticket())
    assert not caught.value.committed and caught.value.kind == "reset"
    assert await cards(api) == []
    assert (await calls(api))[-1] | {"time": 0} == {
        "seq": 2,
        "time": 0,
        "appid": DEMO_APPID,
        "path": "/card/create",
        "token": token_digest(token),
        "errcode": None,
        "fault": "reset",
    }


async def test_drop_commits_then_the_client_sees_a_read_error(make_tolerant: MakeTolerant, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    api = await make_tolerant(faults="drop=1", data_file=data)
    await api.token()
    with pytest.raises(httpx.ReadError, match="connection reset by peer"):
        await api.post("/card/create", ticket(sku={"quantity": 10}))
    [card] = await cards(api)
    assert card["sku"]["quantity"] == 10, "the card exists though the client got no answer"
    entry = (await calls(api))[-1]
    assert entry["fault"] == "drop" and entry["errcode"] == 0 and entry["card_id"] == card["card_id"]
    saved = json.loads(data.read_text(encoding="utf-8"))
    assert [c["card_id"] for c in saved["accounts"][DEMO_APPID]["cards"]] == [card["card_id"]], "persisted first"
    assert saved["calls"]["entries"][-1]["fault"] == "drop"

    with pytest.raises(httpx.ReadError):
        await api.post("/card/modifystock", {"card_id": card["card_id"], "increase_stock_value": 5})
    # Reads and failed calls change nothing, so they are never dropped.
    assert (await api.post("/card/get", {"card_id": card["card_id"]}))["errcode"] == 0
    assert (await api.post("/card/modifystock", {"card_id": card["card_id"], "reduce_stock_value": 99}))[
        "errcode"
    ] == 40122
    [card] = await cards(api)
    assert card["stock_ops"] == [5] and card["stock_net"] == 5 and card["sku"]["total_quantity"] == 15


async def test_rate_limit_per_clock_minute_then_recovery(make_api: MakeApi) -> None:
    api = await make_api(faults="rate=3/min")
    assert [await colors_errcode(api) for _ in range(5)] == [0, 0, 0, 45011, 45011]
    answer = await api.get("/card/getcolors")
    assert answer["errmsg"].startswith("api minute-quota reach limit")
    await api.control("clock", {"advance": 60})
    assert [await colors_errcode(api) for _ in range(4)] == [0, 0, 0, 45011]


async def test_daily_quota_per_beijing_day(make_api: MakeApi) -> None:
    api = await make_api(faults="quota=2/day,rate=100/min", token_ttl=3 * 86400)
    assert [await colors_errcode(api) for _ in range(3)] == [0, 0, 45009]
    await api.control("clock", {"advance": 86400})
    assert await colors_errcode(api) == 0
    assert [c["fault"] for c in await calls(api) if c["path"] == "/card/getcolors"] == [None, None, "quota", None]


async def test_latency_delays_the_call(make_api: MakeApi) -> None:
    api = await make_api(faults="latency=40ms")
    await api.token()
    started = time.perf_counter()
    assert await colors_errcode(api) == 0
    assert 0.035 <= time.perf_counter() - started < 2
    assert (await calls(api))[-1]["latency_ms"] == 40


async def test_a_served_reset_is_a_transport_error(caplog: pytest.LogCaptureFixture) -> None:
    config = EmulatorConfig(
        accounts={DEMO_APPID: DEMO_SECRET},
        faults="reset=1",
        time_source=FakeTime(),
        legacy_coupons=legacy_coupons_from_env(os.environ),
    )
    app = create_app(config)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        # After uvicorn's logging set-up (which drops handlers); its loggers do not propagate to caplog's.
        server_log = logging.getLogger("uvicorn.error")
        server_log.addHandler(caplog.handler)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(500):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                api = Api(client)
                with pytest.raises(httpx.TransportError):
                    await api.get("/card/getcolors")
                await api.control("faults", {"spec": "drop=1"})
                with pytest.raises(httpx.TransportError):
                    await api.post("/card/create", ticket())
                assert len(await cards(api)) == 1, "the drop committed; the server still serves"
                assert [c["fault"] for c in await calls(api)][-2:] == ["reset", "drop"]
        finally:
            server.should_exit = True
            await task
            server_log.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no traceback for an emulated reset"


# ---------------------------------------------------------------- switching faults


async def test_faults_controls_and_persistence(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    api = await make_api(data_file=data)
    assert (await api.client.get("/_emulator/faults")).json() == {"spec": "", "active": False}
    response = await api.control("faults", {"spec": "seed=3, error=-1:1, paths=/card/getcolors"})
    assert response.json() == {"spec": "error=-1:1,seed=3,paths=/card/getcolors", "active": True}
    assert await colors_errcode(api) == -1
    bad = await api.control("faults", {"spec": "error=-1:1,latency=fast"})
    assert bad.status_code == 400 and "'latency=fast'" in bad.json()["error"]
    assert (await api.client.get("/_emulator/faults")).json()["spec"].startswith("error=-1:1"), "unchanged"

    # The embedded emulator of the next invocation keeps the saved spec ...
    again = await make_api(data_file=data)
    assert await colors_errcode(again) == -1
    # ... unless its configuration replaces it; "none" clears it.
    cleared = await make_api(data_file=data, faults="none")
    assert await colors_errcode(cleared) == 0
    assert json.loads(data.read_text(encoding="utf-8"))["faults"]["spec"] == ""
    assert (await api.control("faults", {"spec": ""})).json() == {"spec": "", "active": False}


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(emulator_group, list(args), env=env)


async def test_cli_faults_on_an_account_file(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    await (await make_api(data_file=data)).token()
    result = run("faults", "drop=0.5,seed=1", "--data", str(data))
    assert result.exit_code == 0 and "faults: drop=0.5,seed=1" in result.output, result.output
    assert "faults: drop=0.5,seed=1" in run("faults", "--data", str(data)).output
    result = run("faults", "drop=2", "--data", str(data))
    assert result.exit_code != 0 and "'drop=2'" in result.output and "Traceback" not in result.output
    assert "faults: none" in run("faults", "none", "--data", str(data)).output
    result = run("faults", "--url", "http://127.0.0.1:9")
    assert result.exit_code != 0 and "cannot reach the emulator" in result.output


def test_serve_takes_faults_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(app=app))
    # Nothing listens: the default port may be taken on this machine by an emulator a user (or README) started.
    monkeypatch.setattr("reconciler.emulator.cli._check_port_free", lambda host, port: None)
    env = {"WXREC_EMULATOR_FAULTS": "reset=0.1"}
    result = run("serve", env=env)
    assert result.exit_code == 0 and "faults: reset=0.1" in result.output
    assert seen["app"].state.emulator.store.fault_spec == "reset=0.1"
    result = run("serve", "--faults", "latency=5ms..40ms", env=env)
    assert result.exit_code == 0 and "faults: latency=5ms..40ms" in result.output
    result = run("serve", "--faults", "rate=fast")
    assert result.exit_code != 0 and "'rate=fast'" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- the call log and the audit trail


async def test_call_log_entries_filters_and_clear(api: Api, make_api: MakeApi, tmp_path: Path) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    await api.post("/card/modifystock", {"card_id": card_id, "increase_stock_value": "4"})
    await api.post("/card/modifystock", {"card_id": card_id, "reduce_stock_value": 1})
    await api.post("/card/modifystock", {"card_id": card_id, "reduce_stock_value": 1000})
    await api.client.get("/card/nothing-here")
    log = await calls(api)
    assert [c["seq"] for c in log] == [1, 2, 3, 4, 5, 6]
    assert [(c["path"], c["errcode"], c.get("stock_delta")) for c in log] == [
        ("/cgi-bin/token", 0, None),
        ("/card/create", 0, None),
        ("/card/modifystock", 0, 4),
        ("/card/modifystock", 0, -1),
        ("/card/modifystock", 40122, -1000),
        ("/card/nothing-here", 48001, None),
    ]
    assert all(c["fault"] is None for c in log) and log[1]["card_id"] == card_id and log[0]["appid"] == DEMO_APPID
    assert [c["seq"] for c in await calls(api, since=4)] == [5, 6]
    assert await calls(api, appid="wxsomeoneelse") == []
    assert (await api.client.get("/_emulator/calls", params={"since": "x"})).status_code == 400

    [card] = await cards(api)
    assert card["stock_ops"] == [4, -1] and card["stock_net"] == 3 and card["created_at"] > 0
    await api.control("claim", {"card_id": card_id, "count": 2})
    assert (await cards(api))[0]["claimed"] == 2

    cleared = (await api.client.post("/_emulator/calls/clear")).json()
    assert cleared == {"cleared": 6, "next_seq": 7}
    await api.get("/card/getcolors")
    assert [c["seq"] for c in await calls(api)] == [7], "seqs carry on after a clear"


async def test_call_log_records_a_modifystock_with_both_values_as_its_net_delta(api: Api) -> None:
    card_id = await api.create(ticket(sku={"quantity": 10}))
    await api.post("/card/modifystock", {"card_id": card_id, "increase_stock_value": 3, "reduce_stock_value": "5"})
    assert [c.get("stock_delta") for c in await calls(api)][-1] == -2
    [card] = await cards(api)
    assert card["stock_ops"] == [-2] and card["stock_net"] == -2


async def test_call_log_is_capped_and_persisted(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    api = await make_api(data_file=data, call_log_limit=3)
    for _ in range(3):
        await api.create()
    assert [c["seq"] for c in await calls(api)] == [2, 3, 4]
    reopened = await make_api(data_file=data, call_log_limit=3)
    assert [c["seq"] for c in await calls(reopened)] == [2, 3, 4]
    await reopened.get_token()
    assert [c["seq"] for c in await calls(reopened)] == [3, 4, 5]
