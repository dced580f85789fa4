"""Several accounts in one repository: `wxrec plan accounts/*` through the CLI, side by side, one report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.connection import credentials_of_one, token_source
from reconciler.emulator import EXISTING_CARDS_FILE
from reconciler.render.accounts import Section, Words, exit_code, summary
from reconciler.wechat.client import WECHAT_API, StableToken, StaticToken
from tests.support import EXAMPLE, RUN_LEFTOVERS, served_emulator, wxrec

HILL, LAKE = "wx1111111111111111", "wx2222222222222222"
LAKE_TEA = f"""\
account:
  appid: {LAKE}
cards:
  tea-tasting:
    card_type: MEETING_TICKET
    base_info:
      logo_url: https://mmbiz.qpic.cn/mmbiz/laketea/logo.png
      brand_name: 湖边茶铺
      code_type: CODE_TYPE_QRCODE
      title: 周末品茶会
      color: Color020
      notice: 结账时请出示此券
      description: 每单限用一张
      date_info: {{type: DATE_TYPE_FIX_TERM, fixed_begin_term: 0, fixed_term: 30}}
      sku:
        total_quantity: 300
    meeting_detail: 每周六下午三点，湖边茶铺二楼
"""


@pytest.fixture
def accounts(tmp_path: Path) -> list[Path]:
    """accounts/hill-coffee (the example, on its own appid) and accounts/lake-tea (one card, another appid)."""
    hill, lake = tmp_path / "accounts" / "hill-coffee", tmp_path / "accounts" / "lake-tea"
    shutil.copytree(EXAMPLE, hill, ignore=RUN_LEFTOVERS)
    (hill / "account.yaml").write_text(f"account:\n  appid: {HILL}\n", encoding="utf-8")
    lake.mkdir()
    (lake / "shop.yaml").write_text(LAKE_TEA, encoding="utf-8")
    return [hill, lake]


def state_appid(directory: Path) -> str:
    return str(json.loads((directory / ".wxrec" / "state.json").read_text(encoding="utf-8"))["appid"])


def test_plan_apply_plan_over_two_accounts(accounts: list[Path]) -> None:
    hill, lake = accounts
    first = wxrec("plan", *accounts, "--api", "emulator", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert first.output.startswith(f"=== {hill} ===\nwxrec plan for account {HILL} at emulator\n")
    assert f"=== {lake} ===\nwxrec plan for account {LAKE} at emulator\n" in first.output
    assert "Plan: 10 to create, 0 to update" in first.output and "Plan: 1 to create, 0 to update" in first.output
    assert first.output.endswith("2 accounts: 2 with changes, 0 without changes, 0 failed.\n")

    applied = wxrec("apply", *accounts, "--api", "emulator", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert (state_appid(hill), state_appid(lake)) == (HILL, LAKE)
    assert applied.output.endswith("2 accounts: 2 applied, 0 without changes, 0 failed.\n")

    settled = wxrec("plan", *accounts, "--api", "emulator", "--detailed-exitcode", "--format", "json")
    assert settled.exit_code == 0, settled.output
    document = json.loads(settled.output)
    assert [(a["manifest"], a["plan"]["appid"], a["error"]) for a in document["accounts"]] == [
        (str(hill), HILL, None),
        (str(lake), LAKE, None),
    ]
    assert all(a["plan"]["changes"] == [] for a in document["accounts"])
    drift = wxrec("drift", *accounts, "--api", "emulator")
    assert drift.exit_code == 0 and drift.output.endswith("2 accounts: 0 drifted, 2 in sync, 0 failed.\n")


def test_an_account_that_fails_is_reported_in_its_section_and_the_others_still_run(accounts: list[Path]) -> None:
    hill, lake = accounts
    (lake / "shop.yaml").write_text(LAKE_TEA.replace("total_quantity: 300", "total_quantity: lots"), encoding="utf-8")
    plan = wxrec("plan", *accounts, "--api", "emulator", "--detailed-exitcode", "--format", "markdown")
    assert plan.exit_code == 1, "an error in any account wins over changes in another"
    assert f"| `{hill}` | with changes |\n| `{lake}` | **failed** |" in plan.output
    assert f"{lake / 'shop.yaml'}:16:25: cards.tea-tasting.base_info.sku.total_quantity: 'lots'" in plan.output
    assert f"### wxrec plan for `{HILL}` at `emulator`" in plan.output

    applied = wxrec("apply", *accounts, "--api", "emulator", "--auto-approve", "--format", "json")
    assert applied.exit_code == 1
    documents = json.loads(applied.output)["accounts"]
    assert documents[0]["error"] is None and documents[0]["apply"]["outcomes"]
    assert documents[1]["manifest"] == str(lake) and "1 error in the manifests" in documents[1]["error"]
    assert state_appid(hill) == HILL, "the healthy account was applied"
    assert not (lake / ".wxrec" / "state.json").exists()


def test_each_account_uses_its_own_secret_and_never_the_shared_one(accounts: list[Path]) -> None:
    hill, lake = accounts
    own = {"WXREC_HILL_COFFEE_APPSECRET": "hill-secret", "WXREC_LAKE_TEA_APPSECRET": "lake-secret"}
    # The example's existing coupons are in every new account, as the embedded emulator puts them in hill-coffee's.
    existing = ("--existing-cards", str(hill / EXISTING_CARDS_FILE))
    with served_emulator("--account", f"{HILL}:hill-secret", "--account", f"{LAKE}:lake-secret", *existing) as url:
        planned = wxrec("plan", *accounts, "--api", url, "--detailed-exitcode", env=own)
        assert planned.exit_code == 2, planned.output
        assert planned.output.endswith("2 accounts: 2 with changes, 0 without changes, 0 failed.\n")

        shared = wxrec("plan", *accounts, "--api", url, env={"WXREC_APPSECRET": "hill-secret"})
        assert shared.exit_code == 1
        assert f"no credentials for {LAKE}: set WXREC_LAKE_TEA_APPSECRET (or WXREC_LAKE_TEA_ACCESS_TOKEN)" in (
            shared.output
        )
        assert shared.output.endswith(f"2 accounts: 0 with changes, 0 without changes, 2 failed ({hill}, {lake}).\n")

        alone = wxrec("plan", lake, "--api", url, "--detailed-exitcode", env={"WXREC_APPSECRET": "lake-secret"})
        assert alone.exit_code == 2, "one directory alone falls back to the plain variable"
        named = wxrec(
            "plan", lake, "--api", url, env={"WXREC_APPSECRET": "x", "WXREC_LAKE_TEA_APPSECRET": "lake-secret"}
        )
        assert named.exit_code == 0, "its own variable comes first"


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        ("plan", ("-out", "plan.json"), "-out saves the plan of one account"),
        ("plan", ("--state", "state.json"), "--state names one state file"),
        ("apply", ("--plan", "README.md", "--auto-approve"), "--plan applies the saved plan of one account"),
    ],
)
def test_options_for_one_account_are_refused_with_several(
    accounts: list[Path], command: str, extra: tuple[str, ...], message: str
) -> None:
    result = wxrec(command, *accounts, "--api", "emulator", *extra)
    assert result.exit_code == 1 and message in result.output
    assert not any((a / ".wxrec" / "state.json").exists() for a in accounts)


def test_two_directories_with_one_name_are_refused(accounts: list[Path], tmp_path: Path) -> None:
    twin = tmp_path / "elsewhere" / "lake_tea"
    shutil.copytree(accounts[1], twin)
    result = wxrec("plan", accounts[1], twin, "--api", "emulator")
    assert result.exit_code == 1
    assert f"{accounts[1]} and {twin} share the credential name WXREC_LAKE_TEA_APPSECRET" in result.output


def test_validate_reports_every_account(accounts: list[Path]) -> None:
    good = wxrec("validate", *accounts)
    assert good.exit_code == 0 and good.output.endswith("2 accounts: 2 valid, 0 invalid.\n")
    assert "Valid: 6 cards, 1 landing page, 4 QR codes, 1 menu, 1 whitelist in 3 files." in good.output
    assert "Valid: 1 card in 1 file." in good.output


PLAN = Words("with changes", "without changes")


@pytest.mark.parametrize(
    ("outcomes", "detailed", "code"),
    [
        ([(None, False), (None, False)], True, 0),
        ([(None, True), (None, False)], True, 2),
        ([(None, True), (None, False)], False, 0),
        ([("boom", False), (None, True)], True, 1),
        ([("boom", False), (None, False)], False, 1),
    ],
)
def test_one_exit_code_covers_all_accounts(outcomes: list[tuple[str | None, bool]], detailed: bool, code: int) -> None:
    sections = [Section(f"a{i}", "", error, changed) for i, (error, changed) in enumerate(outcomes)]
    assert exit_code(sections, detailed) == code


def test_the_summary_names_the_failed_accounts() -> None:
    sections = [Section("a", "", None, True), Section("b", "", "boom"), Section("c", "")]
    assert summary(sections, PLAN) == "3 accounts: 1 with changes, 1 without changes, 1 failed (b)."


def test_an_accounts_own_secret_wins_over_every_shared_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXREC_ACCESS_TOKEN", "token-of-another-account")
    monkeypatch.setenv("WXREC_APPSECRET", "secret-of-another-account")
    monkeypatch.setenv("WXREC_LAKE_TEA_APPSECRET", "lake-tea-secret")
    source = token_source("wxlaketea", WECHAT_API, credentials_of_one(Path("accounts/lake-tea")))
    assert isinstance(source, StableToken) and source._secret == "lake-tea-secret"
    monkeypatch.delenv("WXREC_LAKE_TEA_APPSECRET")
    shared = token_source("wxlaketea", WECHAT_API, credentials_of_one(Path("accounts/lake-tea")))
    assert isinstance(shared, StaticToken), "with no variable of its own, one directory uses the shared ones"
