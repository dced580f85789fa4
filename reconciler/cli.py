"""The `wxrec` command: parse, call, render, exit code. The work happens in engine and below."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from reconciler import __version__
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app
from reconciler.emulator.cli import emulator_group
from reconciler.engine import (
    ApplyReport,
    Options,
    apply_plan,
    check_state_binding,
    make_plan,
    settle_interrupted,
)
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest, load_manifest
from reconciler.plan import Plan
from reconciler.render.text import render_plan
from reconciler.state import FileBackend, State
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, StableToken, StaticToken, TokenSource, WeChatClient

EMULATOR = "emulator"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RunSettings:
    manifest_path: Path
    api: str
    state_path: Path | None
    output: str
    replace: tuple[str, ...]
    parallelism: int
    allow_duplicate: bool
    destroy_threshold: float

    def options(self) -> Options:
        return Options(
            replace=frozenset(self.replace),
            parallelism=self.parallelism,
            allow_duplicate=self.allow_duplicate,
            destroy_threshold=self.destroy_threshold,
        )


def run_options(command: F) -> F:
    """The options plan and apply share."""
    decorators = [
        click.argument("manifest", type=click.Path(exists=True, path_type=Path)),
        click.option(
            "--api",
            envvar="WXREC_API",
            default=WECHAT_API,
            show_default=True,
            help="WeChat API base URL, or 'emulator' for the embedded emulator (account kept in .wxrec/emulator.json).",
        ),
        click.option(
            "--state",
            "state_path",
            type=click.Path(path_type=Path),
            help="State file (default: .wxrec/state.json beside the manifests).",
        ),
        click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True),
        click.option(
            "--replace",
            "-replace",
            "replace",
            multiple=True,
            metavar="ADDRESS",
            help="Force a new card for ADDRESS (e.g. cards.x), or re-create one deleted outside wxrec.",
        ),
        click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True),
        click.option(
            "--allow-duplicate",
            is_flag=True,
            help="Create cards even where an unmanaged live card has the same type, brand and title.",
        ),
        click.option(
            "--destroy-threshold",
            type=click.FloatRange(0, 1),
            default=0.25,
            show_default=True,
            help="Refuse to delete or replace more than this share of the managed cards (3 are always allowed).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


class UserError(click.ClickException):
    """A WxrecError shown as `Error: ...` with exit 1 and no traceback."""

    exit_code = EXIT_ERROR


class WxrecGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WxrecError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=WxrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wxrec")
def cli() -> None:
    """Plan and apply YAML manifests to a WeChat Official Account's cards."""


cli.add_command(emulator_group)


@cli.command()
@click.argument("manifest", type=click.Path(exists=True, path_type=Path))
def validate(manifest: Path) -> None:
    """Check the manifests without touching the network; report every error with file:line:column."""
    loaded = load_manifest(manifest)
    files = len(loaded.document.files)
    click.echo(f"Valid: {len(loaded.cards)} card(s) in {files} file(s).")


@cli.command()
@run_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 only when there are none.")
def plan(detailed_exitcode: bool, **kwargs: Any) -> None:
    """Show what apply would change. Never writes state."""
    settings = RunSettings(manifest_path=kwargs.pop("manifest"), **kwargs)
    result = asyncio.run(_plan(settings))
    _emit_plan(result, settings.output)
    if result.refusals:
        raise WxrecError("the plan was refused (see above)")
    click.get_current_context().exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


@cli.command()
@run_options
@click.option("--auto-approve", is_flag=True, help="Skip the confirmation prompt (never implies --allow-destroy).")
@click.option("--allow-destroy", is_flag=True, help="Permit deletes and replaces.")
@click.option("--lock-timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for the state lock.")
def apply(auto_approve: bool, allow_destroy: bool, lock_timeout: float, **kwargs: Any) -> None:
    """Make the changes the plan shows, in a safe order, recording each in state."""
    settings = RunSettings(manifest_path=kwargs.pop("manifest"), **kwargs)
    if not auto_approve and not sys.stdin.isatty():
        raise WxrecError("no terminal to confirm on: pass --auto-approve to apply without a prompt")
    report = asyncio.run(_apply(settings, auto_approve, allow_destroy, lock_timeout))
    if report is not None and report.failed:
        raise WxrecError(f"{len(report.failed)} action(s) failed (see above); state records what was done")


def main() -> None:
    cli(prog_name="wxrec")


async def _plan(settings: RunSettings) -> Plan:
    manifest = load_manifest(settings.manifest_path)
    backend = _backend(settings, manifest)
    appid = _appid(manifest, settings.api)
    async with connect(settings.api, manifest, appid) as (api, endpoint):
        plan_result = await make_plan(manifest, api, backend.load(), appid, endpoint, settings.options())
    return plan_result


async def _apply(
    settings: RunSettings, auto_approve: bool, allow_destroy: bool, lock_timeout: float
) -> ApplyReport | None:
    manifest = load_manifest(settings.manifest_path)
    backend = _backend(settings, manifest)
    appid = _appid(manifest, settings.api)
    async with connect(settings.api, manifest, appid) as (api, endpoint):
        with backend.lock(lock_timeout):
            state = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(state, appid, endpoint)
            for message in await settle_interrupted(api, state, backend, settings.options()):
                click.echo(message)
            plan_result = await make_plan(manifest, api, state, appid, endpoint, settings.options())
            _emit_plan(plan_result, settings.output)
            if plan_result.refusals:
                raise WxrecError("the plan was refused (see above); nothing was changed")
            if not plan_result.has_changes:
                return None
            allow_destroy = _confirm(plan_result, auto_approve, allow_destroy)
            if plan_result.destructive and not allow_destroy:
                addresses = ", ".join(c.address for c in plan_result.destructive)
                raise WxrecError(f"the plan deletes or replaces {addresses}; pass --allow-destroy to permit it")
            report = await apply_plan(plan_result, api, state, backend, settings.options())
    _emit_report(report, settings.output)
    return report


def _confirm(plan_result: Plan, auto_approve: bool, allow_destroy: bool) -> bool:
    """Ask for 'yes' unless auto-approved; an interactive 'yes' also permits destruction."""
    if auto_approve:
        return allow_destroy
    answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise WxrecError("apply cancelled; nothing was changed")
    return True


def _emit_plan(plan_result: Plan, output: str) -> None:
    document = plan_result.to_dict()
    if output == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        click.echo(render_plan(document, color=sys.stdout.isatty()), nl=False)


def _emit_report(report: ApplyReport, output: str) -> None:
    if output == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    for outcome in report.outcomes:
        mark = "ok" if outcome.ok else "FAILED"
        click.echo(f"{outcome.address}: {outcome.action} {mark}: {outcome.message}")
    done = len(report.outcomes) - len(report.failed)
    click.echo(f"Apply complete: {done} done, {len(report.failed)} failed.")


def _backend(settings: RunSettings, manifest: Manifest) -> FileBackend:
    return FileBackend(settings.state_path or manifest.state_dir / "state.json")


def _appid(manifest: Manifest, api: str) -> str:
    appid = manifest.appid or os.environ.get("WXREC_APPID")
    if appid:
        return appid
    if api != WECHAT_API:
        return DEMO_APPID
    raise WxrecError("no account: set account.appid in the manifest or WXREC_APPID")


def _token_source(appid: str, api: str) -> TokenSource:
    """WXREC_ACCESS_TOKEN, else WXREC_APPSECRET (or the file in WXREC_APPSECRET_FILE); the demo account's
    published secret serves emulators that run it."""
    token = os.environ.get("WXREC_ACCESS_TOKEN")
    if token:
        return StaticToken(token)
    secret = os.environ.get("WXREC_APPSECRET")
    secret_file = os.environ.get("WXREC_APPSECRET_FILE")
    if not secret and secret_file:
        secret = Path(secret_file).read_text(encoding="utf-8").strip()
    if not secret and appid == DEMO_APPID and api != WECHAT_API:
        secret = DEMO_SECRET
    if not secret:
        raise WxrecError(f"no credentials for {appid}: set WXREC_APPSECRET (or WXREC_ACCESS_TOKEN)")
    return StableToken(appid, secret)


@asynccontextmanager
async def connect(api: str, manifest: Manifest, appid: str) -> AsyncIterator[tuple[CardApi, str]]:
    """The card API for `api`: the embedded emulator in this process, or an HTTP endpoint."""
    timeout = httpx.Timeout(30.0, connect=10.0)
    if api == EMULATOR:
        secret = os.environ.get("WXREC_APPSECRET") or DEMO_SECRET
        config = EmulatorConfig(accounts={appid: secret}, data_file=manifest.state_dir / "emulator.json")
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=create_app(config))
        manifest.state_dir.mkdir(parents=True, exist_ok=True)
        async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API, timeout=timeout) as http:
            yield CardApi(WeChatClient(http, StableToken(appid, secret))), EMULATOR
        return
    base = api.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise WxrecError(f"--api {api!r}: give 'emulator' or an http(s) URL")
    tokens = _token_source(appid, base)
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
        yield CardApi(WeChatClient(http, tokens)), base
