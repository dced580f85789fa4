"""``wxrec emulator``: serve's set-up, and the controls on an account file or an unreachable server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.emulator.cli import emulator_group

from .support import MakeApi, ticket


def run(*args: str) -> Any:
    return CliRunner().invoke(emulator_group, list(args))


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Captures what serve would hand to uvicorn instead of listening."""
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr("uvicorn.run", fake_run)
    # Nothing listens, so the default port (8080) may be taken on this machine by an emulator a user started.
    monkeypatch.setattr("reconciler.emulator.cli._check_port_free", lambda host, port: None)
    return seen


async def account_file(make_api: MakeApi, tmp_path: Path, **config: Any) -> tuple[Path, str]:
    data = tmp_path / ".wxrec" / "emulator.json"
    api = await make_api(data_file=data, **config)
    return data, await api.create(ticket(sku={"quantity": 10}))


def test_serve_shows_the_demo_secret_only(served: dict[str, Any]) -> None:
    result = run("serve", "--port", "9999", "--account", "wxaaaa:topsecret", "--account", f"{DEMO_APPID}:{DEMO_SECRET}")
    assert result.exit_code == 0, result.output
    assert "wxaaaa" in result.output and "topsecret" not in result.output
    assert DEMO_SECRET in result.output
    assert served["port"] == 9999 and served["host"] == "127.0.0.1"
    assert served["app"].state.emulator.config.accounts == {"wxaaaa": "topsecret", DEMO_APPID: DEMO_SECRET}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "no-colon-here"], "APPID:SECRET"),
        (["--review", "later"], "review mode"),
    ],
)
def test_serve_reports_bad_options_without_a_traceback(served: dict[str, Any], args: list[str], message: str) -> None:
    result = run("serve", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and "no-colon-here" not in result.output
    assert not served


async def test_claim_approve_and_clock_act_on_an_account_file(make_api: MakeApi, tmp_path: Path) -> None:
    data, card_id = await account_file(make_api, tmp_path)
    result = run("claim", card_id, "4", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "quantity 6 of 10" in result.output
    result = run("clock", "3600", "--data", str(data))
    assert result.exit_code == 0 and "+3600 s" in result.output

    reopened = await make_api(data_file=data)
    assert (await reopened.base_info(card_id))["sku"] == {"quantity": 6, "total_quantity": 10}


async def test_approve_and_reject_on_an_account_file(make_api: MakeApi, tmp_path: Path) -> None:
    data, card_id = await account_file(make_api, tmp_path, review="manual")
    result = run("approve", card_id, "--data", str(data))
    assert result.exit_code == 0 and "CARD_STATUS_VERIFY_OK" in result.output
    result = run("reject", card_id, "--data", str(data))
    assert result.exit_code != 0 and "not waiting for review" in result.output


async def test_user_errors_are_messages_not_tracebacks(make_api: MakeApi, tmp_path: Path) -> None:
    data, card_id = await account_file(make_api, tmp_path)
    cases = [
        (["claim", card_id, "11", "--data", str(data)], "only 10 left"),
        (["claim", "pnope", "1", "--data", str(data)], "no card pnope"),
        (["claim", card_id, "1", "--data", str(tmp_path / "missing.json")], "no emulator account file"),
        (["claim", card_id, "1", "--data", str(data), "--url", "http://127.0.0.1:9"], "not both"),
        (["approve", card_id, "--url", "http://127.0.0.1:9"], "cannot reach the emulator"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


async def test_reject_with_a_reason_and_a_test_account_kept_in_an_account_file(
    make_api: MakeApi, tmp_path: Path
) -> None:
    data, card_id = await account_file(make_api, tmp_path, review="manual", test_accounts=frozenset({DEMO_APPID}))
    result = run("approve", card_id, "--data", str(data))
    assert result.exit_code != 0 and "never pass review" in result.output
    result = run("reject", card_id, "--reason", "图片不清晰", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "CARD_STATUS_VERIFY_FAIL" in result.output and "reason: 图片不清晰" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["claim", "pCARD", "abc"], "Invalid value for 'COUNT': 'abc': give how many copies users claim, a whole"),
        (["claim", "pCARD", "0"], "Invalid value for 'COUNT': '0': give how many copies users claim"),
        (["clock", "--", "soon"], "Invalid value for 'SECONDS': 'soon': give how many seconds to move forward"),
    ],
)
def test_a_number_argument_that_is_not_one_says_what_the_argument_takes(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code != 0 and message in result.output, result.output
