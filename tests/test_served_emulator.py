"""The quick start against `wxrec emulator serve`: a real server process, real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EXISTING_CARDS_FILE
from tests.support import EXAMPLE, served_emulator


@pytest.fixture
def served() -> Iterator[str]:
    with served_emulator("--existing-cards", str(EXAMPLE / EXISTING_CARDS_FILE)) as url:  # the example's coupons
        yield url


def test_plan_apply_plan_against_the_served_emulator(served: str, example_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["plan", str(example_dir), "--api", served, "--detailed-exitcode"])
    assert first.exit_code == 2 and "Plan: 10 to create" in first.output, first.output
    applied = runner.invoke(cli, ["apply", str(example_dir), "--api", served, "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(cli, ["plan", str(example_dir), "--api", served, "--detailed-exitcode"])
    assert again.exit_code == 0 and "No changes." in again.output, again.output
    live = httpx.get(f"{served}/_emulator/cards").json()["cards"]
    assert len(live) == 6, "the three existing coupons, imported, and the three cards made"


def test_a_deeply_nested_body_answers_47001_and_the_server_stays_up(served: str) -> None:
    credentials = {"grant_type": "client_credential", "appid": DEMO_APPID, "secret": DEMO_SECRET}
    token = httpx.post(f"{served}/cgi-bin/stable_token", json=credentials).json()["access_token"]
    deep = b'{"card": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = httpx.post(f"{served}/card/create", params={"access_token": token}, content=deep)
    assert (response.status_code, response.json()["errcode"]) == (200, 47001)
    assert httpx.get(f"{served}/_emulator/health").status_code == 200


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_credentials_in_the_api_url_are_never_shown_nor_stored(
    served: str, example_dir: Path, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    monkeypatch.setenv("WXREC_HTTP_TRANSPORT", transport)
    api = served.replace("http://", "http://alice:s3cr3t-pw@")
    runner = CliRunner()
    saved = example_dir / "plan.json"
    plan = runner.invoke(cli, ["plan", str(example_dir), "--api", api, "-out", str(saved)])
    assert plan.exit_code == 0, plan.output
    shown = served.replace("http://", "http://***@")
    assert f"at {shown}" in plan.output and f"--api {shown}" in plan.output
    without = runner.invoke(cli, ["apply", str(saved), "--auto-approve"])
    assert without.exit_code == 1 and f"made with --api {shown}: a saved plan never keeps" in without.output
    applied = runner.invoke(cli, ["apply", str(saved), "--api", api, "--auto-approve", "-v"])
    assert applied.exit_code == 0, applied.output
    wrong = runner.invoke(cli, ["plan", str(example_dir), "--api", api.replace("http:", "ftp:")])
    assert "give 'emulator' or an http(s) URL" in wrong.output
    written = [saved, *(example_dir / ".wxrec").iterdir()]
    for text in (
        plan.output,
        without.output,
        applied.output,
        wrong.output,
        *(path.read_text(encoding="utf-8") for path in written),
    ):
        assert "s3cr3t" not in text and "alice" not in text


def test_a_plan_against_another_emulator_than_states_is_refused_before_any_card_advice(
    served: str, example_dir: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", str(example_dir), "--api", "emulator", "--auto-approve"]).exit_code == 0
    # The served account has the example's three coupons, not the three cards the embedded one made.
    planned = runner.invoke(cli, ["plan", str(example_dir), "--api", served])
    assert planned.exit_code == 1, planned.output
    cause = f"3 of the 6 cards state manages are missing at {served}: most likely it is another account"
    assert cause in planned.output
    assert planned.output.index(cause) < planned.output.index("to create it again"), "the cause comes first"
    assert "Refused: 3 of the 6 cards state manages are missing" in planned.output
    assert "give --api emulator" in planned.output
    applied = runner.invoke(cli, ["apply", str(example_dir), "--api", served, "--auto-approve"])
    assert applied.exit_code == 1 and "missing at" in applied.output, applied.output
    paths = {call["path"] for call in httpx.get(f"{served}/_emulator/calls").json()["calls"]}
    assert not paths & {"/cgi-bin/menu/create", "/card/create"}, "apply changed nothing"


def test_the_embedded_account_served_plans_no_changes(example_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", str(example_dir), "--api", "emulator", "--auto-approve"]).exit_code == 0
    with served_emulator("--data", str(example_dir / ".wxrec" / "emulator.json")) as url:
        planned = runner.invoke(cli, ["plan", str(example_dir), "--api", url, "--detailed-exitcode"])
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output
    assert "Refused" not in planned.output


def test_drift_against_another_emulator_than_states_is_an_error_not_every_card_deleted(
    served: str, example_dir: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", str(example_dir), "--api", "emulator", "--auto-approve"]).exit_code == 0
    for output in ("text", "json", "markdown"):
        drifted = runner.invoke(cli, ["drift", str(example_dir), "--api", served, "--format", output])
        assert drifted.exit_code == 1, drifted.output
        assert f"no drift verdict: state was written against emulator; this run reads {served}" in drifted.output
        assert f"missing at {served}, which is not where state was written: give --api emulator" in drifted.output
        assert "cards.member" not in drifted.output, "no list of cards deleted outside wxrec"
    # The same account served at another address drifts as before, saying where state was written.
    with served_emulator("--data", str(example_dir / ".wxrec" / "emulator.json")) as url:
        text = runner.invoke(cli, ["drift", str(example_dir), "--api", url])
        markdown = runner.invoke(cli, ["drift", str(example_dir), "--api", url, "--format", "markdown"])
        chinese = runner.invoke(
            cli, ["drift", str(example_dir), "--api", url, "--format", "markdown", "--lang", "zh-CN"]
        )
    assert text.exit_code == 0 and text.output.endswith("In sync.\n"), text.output
    assert f"Warnings:\n  state was written against emulator; this run reads {url}\n" in text.output
    assert markdown.exit_code == 0, markdown.output
    assert f"#### Warnings\n\n- state was written against emulator; this run reads {url}\n" in markdown.output
    assert f"#### 警告\n\n- 状态是针对 emulator 写入的；本次运行读取 {url}\n" in chinese.output
