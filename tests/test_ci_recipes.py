"""The CI recipes are valid YAML and only call commands and options wxrec really has; the project builds a wheel
and an sdist that pass `twine check`; and each recipe's shell steps, run as GitHub and GitLab run them, install
the wheel built from this checkout and work against the embedded emulator."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import cli
from reconciler.cli.args import terraform_style
from reconciler.emulator import DEMO_SECRET
from tests.support import EXAMPLE, RUN_LEFTOVERS

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
RECIPES = [*sorted((ROOT / "examples" / "ci").glob("*.yml")), ROOT / ".pre-commit-hooks.yaml"]
GIT_IDENTITY = ("-c", "user.email=ci@example.com", "-c", "user.name=ci")


def scripts(node: Any) -> list[str]:
    """Every shell snippet in a workflow: `run:` (GitHub), `script:` (GitLab), `entry:` (pre-commit)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "entry") and isinstance(value, str):
                found.append(value)
            elif key in ("script", "before_script") and isinstance(value, list):
                found += [v for v in value if isinstance(v, str)]
            else:
                found += scripts(value)
    elif isinstance(node, list):
        for item in node:
            found += scripts(item)
    return found


def invocations(script: str) -> list[list[str]]:
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        for part in line.replace("|", ";").replace("&&", ";").replace("||", ";").split(";"):
            words = shlex.split(part.strip(), comments=True) if part.strip() else []
            if words and words[0] == "wxrec":
                redirect = next((i for i, w in enumerate(words) if w in (">", ">>")), len(words))
                calls.append(words[1:redirect])
    return calls


def check(words: list[str]) -> None:
    words = terraform_style(cli, words)  # `-out FILE`, `-refresh=false`: as wxrec reads them
    command: click.Command = cli
    while isinstance(command, click.Group):
        assert words, "a wxrec command without a subcommand"
        name, words = words[0], words[1:]
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"wxrec has no command {name!r}"
        command = sub
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in words:
        if word.startswith("-") and not word.startswith("$"):
            option = word.split("=", 1)[0]
            assert option in known, f"`{command.name}` has no option {option}"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_calls_only_real_commands(recipe: Path) -> None:
    document = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    calls = [call for script in scripts(document) for call in invocations(script)]
    assert calls, f"{recipe.name} calls wxrec nowhere"
    for call in calls:
        check(call)


# --- the project's own distributions


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`python -m build`: the sdist, then the wheel built from that sdist (so a file the sdist lacks is missed)."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", out, ROOT], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    return next(out.glob("*.whl")), next(out.glob("*.tar.gz"))


def test_wheel_and_sdist_metadata_pass_twine_check(dists: tuple[Path, Path]) -> None:
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *dists], capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


def test_wheel_holds_every_module_and_data_file_of_the_package(dists: tuple[Path, Path]) -> None:
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "reconciler"], capture_output=True, text=True, check=True)
    wanted = {name for name in tracked.stdout.splitlines() if not name.endswith(".md")}
    assert wanted
    assert wanted <= set(zipfile.ZipFile(dists[0]).namelist())


# --- the recipes' shell steps, on a throwaway runner


@dataclass
class Step:
    script: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A runner's environment: a fresh virtualenv first on PATH (as setup-python's Python would be), nothing of
    this test process's wxrec settings, and the embedded emulator standing in for WeChat."""
    venv = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "CI")}
    env = {k: v for k, v in env.items() if not k.startswith(("WXREC_", "GITHUB_"))}
    return env | {"PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}", "WXREC_API": "emulator"}


def expression(value: str, context: dict[str, str]) -> str:
    """GitHub's `${{ name }}` in an env value; an unknown name fails the test rather than run with a guess."""
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: context[m[1]], value)


def github_steps(workflow: dict[str, Any], job: str, context: dict[str, str]) -> list[Step]:
    """A job's `run:` steps with their env (workflow's, job's, step's); `uses:` steps are the runner's business."""
    steps = []
    for step in workflow["jobs"][job]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], "an expression goes through env:, never into a script"
            env = {**workflow.get("env", {}), **workflow["jobs"][job].get("env", {}), **step.get("env", {})}
            steps.append(Step(step["run"], {k: expression(str(v), context) for k, v in env.items()}))
    return steps


def gitlab_steps(pipeline: dict[str, Any], job: str) -> list[Step]:
    """A job's before_script and script, one script as the runner joins them, with the variables."""
    spec = pipeline[job]
    lines = [*spec.get("before_script", pipeline.get("before_script", [])), *spec["script"]]
    env = {**pipeline.get("variables", {}), **spec.get("variables", {})}
    return [Step("\n".join(lines), {k: str(v) for k, v in env.items()})]


# How each service runs a script: GitHub's default `run` shell is `bash -e {0}`; GitLab's runner starts its bash
# scripts with pipefail and errexit (gitlab-runner, shells/bash.go).
GITHUB_SHELL = ("bash", "-e")
GITLAB_SHELL = ("bash", "-c", 'set -o pipefail -o errexit\n. "$0"')


def run(step: Step, shell: tuple[str, ...], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = cwd.parent / f"{cwd.name}-step.sh"
    script.write_text(step.script, encoding="utf-8")
    return subprocess.run([*shell, script], cwd=cwd, env=env | step.env, capture_output=True, text=True)


def run_job(steps: list[Step], shell: tuple[str, ...], cwd: Path, env: dict[str, str], wheel: Path) -> None:
    """The steps in order, with WXREC_PACKAGE set (in the file, or GitLab's project variables) to `wheel`."""
    for step in steps:
        done = run(Step(step.script, step.env | {"WXREC_PACKAGE": str(wheel)}), shell, cwd, env)
        assert done.returncode == 0, f"{step.script}\nexit {done.returncode}\n{done.stdout}{done.stderr}"


def git(*args: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """The team's repository: the example's manifests in manifests/ on main."""
    seed = tmp_path / "seed"
    shutil.copytree(EXAMPLE, seed / "manifests", ignore=RUN_LEFTOVERS)
    git("init", "-q", "-b", "main", seed)
    git("add", ".", cwd=seed)
    git("commit", "-qm", "manifests", cwd=seed)
    git("clone", "-q", "--bare", seed, tmp_path / "origin.git")
    return tmp_path / "origin.git"


def checkout(origin: Path, where: Path, ref: str = "main") -> Path:
    """A throwaway runner's checkout. The emulated WeChat account outlives runners, as the real one does: every
    checkout's manifests/.wxrec is the same directory."""
    git("clone", "-q", "--branch", ref, origin, where)
    account = origin.parent / "account"
    account.mkdir(exist_ok=True)
    (where / "manifests" / ".wxrec").symlink_to(account)
    return where


def recipe_jobs(recipe: Path, context: dict[str, str]) -> dict[str, list[Step]]:
    document = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    if recipe == GITHUB:
        return {job: github_steps(document, job, context) for job in document["jobs"]}
    return {
        job: gitlab_steps(document, job)
        for job, spec in document.items()
        if isinstance(spec, dict) and "script" in spec
    }


PULL_REQUEST = {"secrets.WXREC_APPSECRET": DEMO_SECRET, "github.base_ref": "main"}
FORK_PULL_REQUEST = {"secrets.WXREC_APPSECRET": "", "github.base_ref": "main"}


@pytest.mark.parametrize("recipe", [GITHUB, GITLAB], ids=lambda p: p.name)
def test_each_job_first_installs_wxrec_package_and_stops_while_it_is_unset(tmp_path: Path, recipe: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for job, steps in recipe_jobs(recipe, PULL_REQUEST).items():
        install, *_ = steps[0].script.splitlines()
        assert install.startswith("pip install"), f"job {job} does not begin by installing wxrec"
        done = run(Step(install, steps[0].env), GITHUB_SHELL, work, {"PATH": os.environ["PATH"]})
        assert done.returncode != 0
        assert "set WXREC_PACKAGE in" in done.stderr


def test_github_recipe_applies_commits_state_back_checks_drift_and_plans_a_pull_request(
    tmp_path: Path, origin: Path, runner: dict[str, str], dists: tuple[Path, Path]
) -> None:
    jobs = recipe_jobs(GITHUB, PULL_REQUEST)

    applied = checkout(origin, tmp_path / "apply")
    run_job(jobs["apply"], GITHUB_SHELL, applied, runner, dists[0])
    assert json.loads((applied / "apply.json").read_text(encoding="utf-8"))
    assert "wxrec: state after apply" in git("log", "-1", "--format=%s", "main", cwd=origin)
    committed = git("ls-tree", "-r", "--name-only", "main", cwd=origin).splitlines()
    assert "state/wxrec-state.json" in committed
    assert any(name.startswith("manifests/qrcodes/") for name in committed)

    # The next runner starts from the pushed state: nothing drifted (drift exits 2 if anything had).
    summary = tmp_path / "summary.md"
    drift = checkout(origin, tmp_path / "drift")
    run_job(jobs["drift"], GITHUB_SHELL, drift, runner | {"GITHUB_STEP_SUMMARY": str(summary)}, dists[0])
    assert summary.read_text(encoding="utf-8").strip()

    branch = checkout(origin, tmp_path / "branch")
    cards = branch / "manifests" / "cards.yaml"
    cards.write_text(
        cards.read_text(encoding="utf-8").replace("周末拿铁拉花课", "周末拿铁拉花体验课"), encoding="utf-8"
    )
    git("checkout", "-qb", "retitle", cwd=branch)
    git("commit", "-qam", "retitle", cwd=branch)
    git("push", "-q", "origin", "retitle", cwd=branch)
    for name, context in (("plan", PULL_REQUEST), ("fork", FORK_PULL_REQUEST)):
        pull = checkout(origin, tmp_path / name, "retitle")
        run_job(recipe_jobs(GITHUB, context)["plan"], GITHUB_SHELL, pull, runner, dists[0])
        assert "周末拿铁拉花体验课" in (pull / "comment.md").read_text(encoding="utf-8")
        assert (pull / "plan.json").exists() == (name == "plan"), "a fork's pull request gets the offline diff"


def test_gitlab_recipe_validates_plans_applies_and_checks_drift(
    tmp_path: Path, origin: Path, runner: dict[str, str], dists: tuple[Path, Path]
) -> None:
    # The recipe leaves committing state back to the user, so its jobs share one checkout here.
    work = checkout(origin, tmp_path / "work")
    jobs = recipe_jobs(GITLAB, {})
    for job in ("validate", "plan", "apply", "drift"):
        run_job(jobs[job], GITLAB_SHELL, work, runner, dists[0])
    assert "latte-voucher" in (work / "plan.md").read_text(encoding="utf-8")
    assert json.loads((work / "plan.json").read_text(encoding="utf-8"))
    assert json.loads((work / "apply.json").read_text(encoding="utf-8"))
