"""Environments end to end: the same manifests applied to the test account, then production, through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.errors import WxrecError
from reconciler.settings import environment_state
from tests.support import EXAMPLE, RUN_LEFTOVERS, apply_ok, wxrec

ENVIRONMENTS = EXAMPLE.parent / "environments"
TEST_APPID, PROD_APPID = "wx7e57000000000001", "wx0123456789abcdef"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS, target, ignore=RUN_LEFTOVERS)
    return target


def state_of(directory: Path, env: str) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / ".wxrec" / env / "state.json").read_text(encoding="utf-8"))


def emulator_cards(directory: Path, env: str) -> dict:  # type: ignore[type-arg]
    """The embedded emulator's account file of one environment: its appid and what WeChat holds."""
    return json.loads((directory / ".wxrec" / env / "emulator.json").read_text(encoding="utf-8"))


def plan_json(directory: Path, *options: str) -> dict:  # type: ignore[type-arg]
    result = wxrec("plan", directory, "--api", "emulator", "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_test_then_prod_with_their_own_values_state_and_account(shop: Path) -> None:
    test_plan = plan_json(shop, "--env", "test")
    assert test_plan["appid"] == TEST_APPID
    apply_ok(shop, "--env", "test")
    test_state = state_of(shop, "test")
    assert test_state["appid"] == TEST_APPID
    assert not (shop / ".wxrec" / "state.json").exists(), "an environment's state never goes to the shared place"

    prod_plan = wxrec("plan", shop, "--api", "emulator", "--env", "prod", "--detailed-exitcode")
    assert prod_plan.exit_code == 2, "production is untouched by the test apply"
    assert f"for account {PROD_APPID}" in prod_plan.output
    assert 'base_info.title: "拿铁拉花课"' in prod_plan.output and "stock: 200 (budget)" in prod_plan.output
    apply_ok(shop, "--env", "prod")
    prod_state = state_of(shop, "prod")
    assert prod_state["appid"] == PROD_APPID and prod_state["lineage"] != test_state["lineage"]
    test_card, prod_card = (s["resources"]["cards.latte-class"]["id"] for s in (test_state, prod_state))
    assert test_card != prod_card
    assert state_of(shop, "test") == test_state, "applying prod leaves test's state alone"

    for env, title in (("test", "测试·拿铁拉花课"), ("prod", "拿铁拉花课")):
        settled = wxrec("plan", shop, "--api", "emulator", "--env", env, "--detailed-exitcode")
        assert settled.exit_code == 0 and "No changes." in settled.output, settled.output
        listed = wxrec("state", "list", shop, "--env", env)
        card = state_of(shop, env)["resources"]["cards.latte-class"]["id"]
        assert listed.output.splitlines()[0] == f"cards.latte-class\t{card}"
        assert title in json.dumps(emulator_cards(shop, env), ensure_ascii=False)


def test_a_var_override_changes_the_plan_and_keeps_the_var_type(shop: Path) -> None:
    apply_ok(shop, "--env", "test")
    plan = wxrec("plan", shop, "--api", "emulator", "--env", "test", "--var", "class_seats=80")
    assert plan.exit_code == 0, plan.output
    assert "stock" in plan.output and "50 → 80" in plan.output, plan.output


def test_vars_without_env_are_refused_before_anything_is_written(shop: Path) -> None:
    result = wxrec("plan", shop, "--api", "emulator")
    assert result.exit_code == 1
    assert f"{shop / 'shop.yaml'}:7:10: account.appid: undefined var 'appid'" in result.output
    missing = wxrec("apply", shop, "--api", "emulator", "--env", "staging", "--auto-approve")
    assert missing.exit_code == 1 and "env/staging.yaml: no such file" in missing.output
    assert not (shop / ".wxrec").exists()


def test_an_unused_var_is_a_warning_on_stderr_only(shop: Path) -> None:
    result = wxrec("validate", shop, "--env", "test", "--var", "tpyo=1")
    assert result.exit_code == 0
    assert result.stderr == "Warning: --var: var 'tpyo' is not used by the manifests\n"
    assert result.stdout == "Valid: 1 card, 1 whitelist in 1 file.\n"


def test_diff_and_saved_plans_read_the_same_environment(shop: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(shop, base)
    shop.joinpath("shop.yaml").write_text(
        shop.joinpath("shop.yaml").read_text(encoding="utf-8").replace("拿铁拉花课", "拿铁奶泡课"), encoding="utf-8"
    )
    diff = wxrec("diff", base, shop, "--env", "test", "--detailed-exitcode")
    assert diff.exit_code == 2, diff.output
    assert '"测试·拿铁拉花课" → "测试·拿铁奶泡课"' in diff.output

    saved = tmp_path / "plan.json"
    planned = wxrec("plan", shop, "--api", "emulator", "--env", "test", "--var", "title_prefix=试 用", "-out", saved)
    assert f"`wxrec apply {saved}`" in planned.output  # the plan remembers --api, --env and --var
    applied = wxrec("apply", shop, "--api", "emulator", "--env", "prod", "--auto-approve", "--plan", saved)
    assert applied.exit_code == 1, "a plan of the test account never applies to production"
    assert "the plan was made with --env test, not --env prod" in applied.output
    applied = wxrec("apply", saved, "--auto-approve")
    assert applied.exit_code == 0 and "试 用" in applied.output, applied.output


@pytest.mark.parametrize(
    ("location", "kept"),
    [
        ("postgresql://u@db/wxrec", "postgresql://u@db/wxrec?state_name=prod"),
        ("postgresql://u@db/wxrec?sslmode=require", "postgresql://u@db/wxrec?sslmode=require&state_name=prod"),
        ("postgresql://u@db/wxrec?state_name=shop-prod", "postgresql://u@db/wxrec?state_name=shop-prod"),
        ("state/prod/state.json", "state/prod/state.json"),
        ("state/wxrec-prod.json", "state/wxrec-prod.json"),
    ],
)
def test_a_shared_state_location_is_kept_apart_per_environment(location: str, kept: str) -> None:
    assert environment_state(location, "prod") == kept


@pytest.mark.parametrize(
    "location",
    [
        "state/wxrec-state.json",
        "state/production.json",
        "postgresql://u:secret@db/wxrec?state_name=shop",
        "postgresql://prod.example/wxrec?state_name=shared",
    ],
)
def test_a_state_location_that_does_not_name_the_environment_is_refused(location: str) -> None:
    with pytest.raises(WxrecError) as refused:
        environment_state(location, "prod")
    assert "every environment would share that state" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_state_commands_refuse_an_environment_name_that_climbs_out(shop: Path) -> None:
    result = wxrec("state", "list", shop, "--env", "../../tmp")
    assert result.exit_code == 1 and "an environment name matches" in result.output


@pytest.mark.parametrize(
    ("location", "env"),
    [("state/prod-eu/state.json", "prod-eu"), ("postgresql://h/db?state_name=shop-prod_eu", "prod_eu")],
)
def test_environment_names_with_dashes_and_underscores_are_recognised(location: str, env: str) -> None:
    assert environment_state(location, env) == location


def test_validate_without_env_names_the_environments_there_are(shop: Path) -> None:
    result = wxrec("validate", shop)
    assert result.exit_code == 1
    assert "undefined var" in result.output
    assert "the environments here are prod, test: add --env prod" in result.output
    assert wxrec("validate", shop, "--env", "prod").exit_code == 0  # the hint, as printed, works


def test_an_undefined_var_with_env_given_gets_no_environment_hint(shop: Path) -> None:
    (shop / "env" / "prod.yaml").write_text("vars: {}\n", encoding="utf-8")
    result = wxrec("validate", shop, "--env", "prod")
    assert result.exit_code == 1 and "undefined var" in result.output
    assert "environments here" not in result.output


def test_state_list_without_env_hints_at_the_environments(shop: Path) -> None:
    apply_ok(shop, "--env", "test")
    result = wxrec("state", "list", shop)
    assert result.exit_code == 1
    assert "state.json. No --env was given; the environments here are prod, test: add --env prod" in result.output
    listed = wxrec("state", "list", shop, "--env", "test")
    assert listed.exit_code == 0 and "cards." in listed.stdout and "environments here" not in listed.output


@pytest.mark.parametrize(
    "command",
    [
        ["show", "cards.member"],
        ["rm", "cards.member"],
        ["mv", "cards.member", "cards.vip"],
        ["history"],
    ],
    ids=lambda command: command[0],
)
def test_every_state_command_without_env_hints_at_the_environments(shop: Path, command: list[str]) -> None:
    apply_ok(shop, "--env", "test")
    result = wxrec("state", command[0], shop, *command[1:])
    assert "No --env was given; the environments here are prod, test: add --env prod" in result.output
    assert "environments here" not in wxrec("state", command[0], shop, *command[1:], "--env", "test").output
