"""The `wxrec` command: parse, call, render, exit code. The work happens in engine and below."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
import jsonschema
from httpx_aiohttp import AiohttpTransport

from reconciler import __version__
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app, faults_from_env
from reconciler.emulator.cli import emulator_group
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.engine import (
    ApplyReport,
    Observer,
    Options,
    Outcome,
    apply_plan,
    check_state_binding,
    drift_report,
    make_plan,
    offline_plan,
    plan_for_apply,
    stale_reasons,
)
from reconciler.errors import WxrecError
from reconciler.manifest import Manifest, load_manifest, load_schema, state_dir
from reconciler.manifest.base import load_base_manifest
from reconciler.plan import Plan
from reconciler.render.drift import render_drift_markdown, render_drift_text
from reconciler.render.html import render_html
from reconciler.render.logos import fetch_logos, logo_urls
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_plan, summary_line
from reconciler.state import FileBackend, State, StateBackend, ensure_state_dir
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import WECHAT_API, StableToken, StaticToken, TokenSource, WeChatClient
from reconciler.wechat.limiter import CallLimiter

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
    refresh: bool
    max_rate: float | None = None
    qrcode_dir: Path | None = None
    wait_for_review: float = 0.0

    def backend(self) -> StateBackend:
        return _state_backend(self.manifest_path, self.state_path)

    def limiter(self) -> CallLimiter:
        return CallLimiter(self.parallelism, self.max_rate)

    def options(self) -> Options:
        return Options(
            replace=frozenset(self.replace),
            parallelism=self.parallelism,
            allow_duplicate=self.allow_duplicate,
            destroy_threshold=self.destroy_threshold,
            refresh=self.refresh,
            qrcode_dir=self.qrcode_dir or state_dir(self.manifest_path).parent / "qrcodes",
            wait_for_review=self.wait_for_review,
        )


DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


def _seconds(text: str) -> float:
    match = DURATION.match(text.strip())
    if not match:
        raise WxrecError(f"--wait-for-review {text!r}: give a duration such as 90s, 10m or 1h")
    return float(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2] or "s"]


def _connection_options() -> list[Callable[[F], F]]:
    return [
        click.argument("manifest", type=click.Path(exists=True, path_type=Path)),
        click.option(
            "--api",
            envvar="WXREC_API",
            default=WECHAT_API,
            show_default=True,
            help="WeChat API base URL, or 'emulator' for the embedded emulator (account kept in "
            ".wxrec/emulator.json). Env: WXREC_API.",
        ),
        click.option(
            "--state",
            "state_path",
            type=click.Path(path_type=Path),
            help="State file (default: .wxrec/state.json beside the manifests).",
        ),
    ]


def run_options(command: F) -> F:
    """The options plan and apply share."""
    decorators = [
        *_connection_options(),
        click.option(
            "--format",
            "output",
            type=click.Choice(["text", "markdown", "json", "html"]),
            default="text",
            show_default=True,
            help="text for a terminal, markdown for a pull-request comment, json (schemas/plan.schema.json), "
            "html (plan only: a self-contained visual report).",
        ),
        click.option(
            "--refresh",
            "-refresh",
            "refresh",
            type=click.BOOL,
            default=True,
            show_default=True,
            help="false: plan against state's last-applied values without reading the live account.",
        ),
        click.option(
            "--replace",
            "-replace",
            "replace",
            multiple=True,
            metavar="ADDRESS",
            help="Force a new card for ADDRESS (e.g. cards.x), or re-create one deleted outside wxrec.",
        ),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=16,
            show_default=True,
            help="Concurrent WeChat calls while reading live cards.",
        ),
        click.option(
            "--max-rate",
            type=click.FloatRange(min=0.1),
            default=None,
            metavar="CALLS_PER_SECOND",
            help="Never call WeChat faster than this (shared by every call of the run). Default: no budget.",
        ),
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

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's usage errors exit 2, which `--detailed-exitcode` reserves for "changes present": use 1."""
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_ERROR)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def run_options_for_import(command: F) -> F:
    """The manifest, --api and --state, as plan takes them."""
    for decorator in reversed(_connection_options()):
        command = decorator(command)
    return command


@dataclass
class Terminal(Observer):
    """How much to say and how: a progress bar on a terminal, a line per event in CI or a pipe."""

    quiet: bool = False
    verbose: bool = False

    @property
    def interactive(self) -> bool:
        return sys.stderr.isatty() and os.environ.get("CI") != "true" and not self.quiet

    def reading(self, total: int) -> Callable[[], None]:
        if not self.interactive or total < 20:
            return lambda: None
        bar = click.progressbar(length=total, label="Reading cards", file=sys.stderr)
        done = [0]

        def advance() -> None:
            done[0] += 1
            bar.update(1)
            if done[0] == total:
                bar.render_finish()

        return advance

    def applied(self, outcome: Outcome) -> None:
        if not self.quiet or not outcome.ok:
            mark = "ok" if outcome.ok else "FAILED"
            click.echo(f"{outcome.address}: {outcome.action} {mark}: {outcome.message}")


def _terminal() -> Terminal:
    found = click.get_current_context().find_root().obj
    return found if isinstance(found, Terminal) else Terminal()


@click.group(cls=WxrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wxrec")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log every WeChat API call (path, errcode, time) to stderr.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Plan and apply YAML manifests to a WeChat Official Account's cards."""
    ctx.obj = Terminal(quiet=quiet, verbose=verbose)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logging.getLogger("wxrec").addHandler(handler)
        logging.getLogger("wxrec").setLevel(logging.DEBUG)


cli.add_command(emulator_group)


@cli.command()
@click.argument("manifest", type=click.Path(exists=True, path_type=Path))
def validate(manifest: Path) -> None:
    """Check the manifests without touching the network; report every error with file:line:column."""
    loaded = load_manifest(manifest)
    files = len(loaded.document.files)
    click.echo(f"Valid: {len(loaded.cards)} card(s) in {files} file(s).")


embed_logos_option = click.option(
    "--embed-logos",
    is_flag=True,
    help="--format html: fetch the cards' logos now and inline them (a logo that fails is drawn as the brand's "
    "initial). Without it the report draws every logo as the initial and nothing is fetched.",
)


@cli.command()
@run_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 only when there are none.")
@click.option(
    "--out",
    "-out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (JSON) for `wxrec apply MANIFEST --plan FILE`.",
)
@embed_logos_option
def plan(detailed_exitcode: bool, out: Path | None, embed_logos: bool, **kwargs: Any) -> None:
    """Show what apply would change. Never writes state."""
    settings = RunSettings(manifest_path=kwargs.pop("manifest"), **kwargs)
    result = asyncio.run(_plan(settings))
    _emit_plan(result, settings.output, embed_logos=embed_logos)
    if result.refusals:
        raise WxrecError("the plan was refused (see above)")
    if out is not None:
        out.write_text(_plan_json(result) + "\n", encoding="utf-8")
        if settings.output == "text":
            api = "" if settings.api == WECHAT_API else f" --api {settings.api}"
            command = f"wxrec apply {settings.manifest_path}{api} --plan {out}"
            click.echo(f"Saved the plan to {out}; apply exactly it with `{command}`.")
    click.get_current_context().exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


@cli.command()
@run_options
def drift(**kwargs: Any) -> None:
    """Compare the live account with the manifests and state: exit 0 in sync, 2 drifted, 1 error.

    Tells changes made in WeChat by hand from edits to the manifests; claims under a refill target are
    reported as stock to refill, never as drift."""
    settings = RunSettings(manifest_path=kwargs.pop("manifest"), **kwargs)
    _refuse_html(settings.output, "drift")
    result = asyncio.run(_plan(settings))
    report = drift_report(result, settings.backend().load())
    if settings.output == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True))
    elif settings.output == "markdown":
        click.echo(render_drift_markdown(report), nl=False)
    else:
        click.echo(render_drift_text(report), nl=False)
    click.get_current_context().exit(EXIT_OK if report["in_sync"] else EXIT_CHANGES)


@cli.command()
@click.argument("base")
@click.argument("manifest", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "output", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the manifests differ.")
@embed_logos_option
def diff(base: str, manifest: Path, output: str, detailed_exitcode: bool, embed_logos: bool) -> None:
    """Classify the manifest changes since BASE (a git ref, or a directory) as plan would: offline, no credentials.

    For pull requests from forks, which get no secrets in CI: a reviewer still sees that a one-line edit
    replaces a live card."""
    head = load_manifest(manifest)
    before = load_base_manifest(base, manifest)
    stored = _state_backend(manifest, None).load()
    palette = stored.palette if stored else {}
    result = asyncio.run(offline_plan(before, head, f"manifests at {base}", palette))
    _emit_plan(result, output, title="wxrec diff", embed_logos=embed_logos)
    if result.refusals:
        raise WxrecError("apply would refuse these changes (see above)")
    click.get_current_context().exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


@cli.command()
@click.argument("which", type=click.Choice(["manifest", "plan"]), default="manifest")
def schema(which: str) -> None:
    """Print the JSON Schema of manifests (for editors) or of plan documents."""
    click.echo(json.dumps(load_schema(which), ensure_ascii=False, indent=2))


@cli.command()
@run_options
@click.option("--auto-approve", is_flag=True, help="Skip the confirmation prompt (never implies --allow-destroy).")
@click.option("--allow-destroy", is_flag=True, help="Permit deletes and replaces.")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the state lock.",
)
@click.option(
    "--qrcode-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write each QR code's PNG and SVG (default: qrcodes/ beside the manifests).",
)
@click.option(
    "--wait-for-review",
    type=str,
    default="0s",
    show_default=True,
    metavar="DURATION",
    help="Wait up to this long (e.g. 90s, 10m) for WeChat's review before actions that need an approved card.",
)
@click.option(
    "--plan",
    "saved_plan",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply exactly this saved plan (`plan -out`); refused if state or a live value it relied on changed.",
)
def apply(
    auto_approve: bool,
    allow_destroy: bool,
    lock_timeout: float,
    saved_plan: Path | None,
    wait_for_review: str,
    **kwargs: Any,
) -> None:
    """Make the changes the plan shows, in a safe order, recording each in state."""
    settings = RunSettings(manifest_path=kwargs.pop("manifest"), wait_for_review=_seconds(wait_for_review), **kwargs)
    _refuse_html(settings.output, "apply")
    if not auto_approve and not sys.stdin.isatty():
        raise WxrecError("no terminal to confirm on: pass --auto-approve to apply without a prompt")
    saved = _read_saved_plan(saved_plan) if saved_plan else None
    report = asyncio.run(_apply(settings, auto_approve, allow_destroy, lock_timeout, saved))
    if report is not None and report.failed:
        raise WxrecError(f"{len(report.failed)} action(s) failed (see above); state records what was done")


@cli.command("import")
@run_options_for_import
@click.argument("address")
@click.argument("card_id")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True)
def import_(manifest: Path, api: str, state_path: Path | None, address: str, card_id: str, lock_timeout: float) -> None:
    """Adopt the live card CARD_ID under ADDRESS (declared in the manifest); the next plan shows the differences."""
    asyncio.run(_import(manifest, api, state_path, address, card_id, lock_timeout))


async def _import(
    manifest_path: Path, api: str, state_path: Path | None, address: str, card_id: str, lock_timeout: float
) -> None:
    manifest = load_manifest(manifest_path)
    key = address.removeprefix("cards.")
    if not address.startswith("cards.") or key not in manifest.cards:
        raise WxrecError(f"{address} is not a card the manifest declares (addresses look like cards.KEY)")
    backend = _state_backend(manifest.root, state_path)
    appid = _appid(manifest, api)
    with backend.lock(lock_timeout):
        async with connect(api, manifest, appid) as (card_api, endpoint):
            current = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(current, appid, endpoint)
            owner = next((a for a, r in current.resources.items() if r.get("id") == card_id), None)
            if owner is not None:
                raise WxrecError(f"{card_id} is already managed as {owner}")
            if address in current.resources:
                raise WxrecError(f"{address} already has {current.resources[address]['id']} in state")
            live = await card_api.get(card_id)
            if live is None:
                raise WxrecError(f"{card_id} does not exist in account {appid}")
            wanted = manifest.cards[key]["card_type"]
            if live["card_type"] != wanted:
                raise WxrecError(f"{card_id} is a {live['card_type']} card; {address} declares {wanted}")
            lifecycle = manifest.cards[key].get("lifecycle") or {}
            current.resources[address] = {
                "id": card_id,
                "card_type": wanted,
                "applied": {},  # nothing applied yet: the next plan shows every managed field that differs
                "stock": None,
                "prevent_destroy": bool(lifecycle.get("prevent_destroy", False)),
            }
            backend.write_with_backup(current)
    click.echo(f"Imported {card_id} as {address}. Run `wxrec plan` to see how it differs from the manifest.")


@cli.group()
def state() -> None:
    """Inspect and repair state (list, show, rm, unlock)."""


def _state_backend(manifest: Path, state_path: Path | None) -> StateBackend:
    return FileBackend(state_path or state_dir(manifest) / "state.json")


state_path_option = click.option("--state", "state_path", type=click.Path(path_type=Path), help="State file.")
manifest_argument = click.argument("manifest", type=click.Path(exists=True, path_type=Path))


def _loaded(backend: StateBackend) -> State:
    loaded = backend.load()
    if loaded is None:
        raise WxrecError(f"no state at {backend.location}")
    return loaded


@state.command("list")
@manifest_argument
@state_path_option
def state_list(manifest: Path, state_path: Path | None) -> None:
    """Every address in state with its live id."""
    for address, record in sorted(_loaded(_state_backend(manifest, state_path)).resources.items()):
        click.echo(f"{address}\t{record.get('id', '')}")


@state.command("show")
@manifest_argument
@click.argument("address")
@state_path_option
def state_show(manifest: Path, address: str, state_path: Path | None) -> None:
    """What state holds for ADDRESS, as JSON."""
    record = _loaded(_state_backend(manifest, state_path)).resources.get(address)
    if record is None:
        raise WxrecError(f"{address} is not in state")
    click.echo(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True))


@state.command("rm")
@manifest_argument
@click.argument("address")
@state_path_option
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True)
def state_rm(manifest: Path, address: str, state_path: Path | None, lock_timeout: float) -> None:
    """Stop managing ADDRESS without deleting anything in WeChat (a backup of the old state is kept)."""
    backend = _state_backend(manifest, state_path)
    with backend.lock(lock_timeout):
        current = _loaded(backend)
        record = current.resources.pop(address, None)
        if record is None:
            raise WxrecError(f"{address} is not in state; nothing was changed")
        backup = backend.write_with_backup(current)
    click.echo(f"Removed {address} ({record.get('id')}) from state; WeChat was not touched. Backup: {backup}")


@state.command("unlock")
@manifest_argument
@click.argument("lock_id")
@state_path_option
def state_unlock(manifest: Path, lock_id: str, state_path: Path | None) -> None:
    """Break the lock LOCK_ID of a run that died (the lock error names the id)."""
    _state_backend(manifest, state_path).unlock(lock_id)
    click.echo(f"Lock {lock_id} broken.")


def main() -> None:
    cli(prog_name="wxrec")


async def _plan(settings: RunSettings) -> Plan:
    manifest = load_manifest(settings.manifest_path)
    backend = settings.backend()
    appid = _appid(manifest, settings.api)
    if not settings.refresh:
        endpoint = _endpoint_label(settings.api)
        return await make_plan(manifest, None, backend.load(), appid, endpoint, settings.options(), _terminal())
    async with connect(settings.api, manifest, appid, settings.limiter()) as (api, endpoint):
        plan_result = await make_plan(manifest, api, backend.load(), appid, endpoint, settings.options(), _terminal())
    plan_result.warnings += _ci_warnings(backend)
    return plan_result


def _endpoint_label(api: str) -> str:
    return EMULATOR if api == EMULATOR else api.rstrip("/")


def _read_saved_plan(path: Path) -> Plan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(document, load_schema("plan"))
        return Plan.from_dict(document)
    except (ValueError, jsonschema.ValidationError) as exc:
        reason = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
        raise WxrecError(f"{path}: not a wxrec plan ({reason})") from None


def _plan_json(plan_result: Plan) -> str:
    return json.dumps(plan_result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)


async def _apply(
    settings: RunSettings, auto_approve: bool, allow_destroy: bool, lock_timeout: float, saved: Plan | None
) -> ApplyReport | None:
    """Plan under the lock, show it, get approval, apply. With --format json, one document at the end:
    {"settled", "plan", "apply"} (apply is null when nothing ran)."""
    manifest = load_manifest(settings.manifest_path)
    backend = settings.backend()
    appid = _appid(manifest, settings.api)
    as_json = settings.output == "json"
    report: ApplyReport | None = None
    # The lock comes first: the embedded emulator loads its account file when it starts, so under the lock
    # it sees what an apply that held the lock before wrote.
    with backend.lock(lock_timeout):
        async with connect(settings.api, manifest, appid, settings.limiter()) as (api, endpoint):
            state = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(state, appid, endpoint)
            if saved is None:
                messages, plan_result = await plan_for_apply(
                    manifest, api, state, backend, endpoint, settings.options()
                )
            else:
                messages, plan_result = [], await _check_saved(saved, state, api, appid, endpoint, settings)
            plan_result.warnings += _ci_warnings(backend)
            if not as_json:
                for message in messages:
                    click.echo(message)
                _emit_plan(plan_result, settings.output)
            try:
                if plan_result.refusals:
                    raise WxrecError("the plan was refused (see above); nothing was changed")
                if plan_result.has_changes:
                    allow_destroy = _confirm(plan_result, auto_approve, allow_destroy)
                    if plan_result.destructive and not allow_destroy:
                        addresses = ", ".join(c.address for c in plan_result.destructive)
                        raise WxrecError(f"the plan deletes or replaces {addresses}; pass --allow-destroy to permit it")
                    observer = Observer() if as_json else _terminal()
                    report = await apply_plan(plan_result, api, state, backend, settings.options(), observer)
            finally:
                if as_json:
                    document = {
                        "settled": messages,
                        "plan": plan_result.to_dict(),
                        "apply": report.to_dict() if report else None,
                    }
                    click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    if report is not None and not as_json:
        _emit_report(report)
    return report


def _confirm(plan_result: Plan, auto_approve: bool, allow_destroy: bool) -> bool:
    """Ask for 'yes' unless auto-approved; an interactive 'yes' also permits destruction."""
    if auto_approve:
        return allow_destroy
    answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise WxrecError("apply cancelled; nothing was changed")
    return True


async def _check_saved(
    saved: Plan, state: State, api: CardApi, appid: str, endpoint: str, settings: RunSettings
) -> Plan:
    """A saved plan applies only to the account, endpoint, state and live values it was made from."""
    if (saved.appid, saved.endpoint) != (appid, endpoint):
        raise WxrecError(f"the plan is for {saved.appid} at {saved.endpoint}, not {appid} at {endpoint}")
    if not saved.refreshed:
        raise WxrecError("the plan was made with --refresh=false, without reading WeChat: make a refreshed plan")
    if any(address.startswith("cards.") for address in state.intents):
        raise WxrecError(
            "an interrupted run left creates to settle, which a saved plan cannot account for: run `wxrec apply` "
            "(without --plan) to settle them, then make a new plan"
        )
    reasons = await stale_reasons(saved, state, api, settings.parallelism)
    if reasons:
        raise WxrecError("the saved plan is stale; nothing was changed:\n  " + "\n  ".join(reasons))
    saved.palette = await api.colours()
    return saved


def _emit_plan(plan_result: Plan, output: str, *, title: str = "wxrec plan", embed_logos: bool = False) -> None:
    if output == "json":
        click.echo(_plan_json(plan_result))
    elif output == "html":
        document = plan_result.to_dict()
        logos = asyncio.run(fetch_logos(logo_urls(document))) if embed_logos else {}
        click.echo(render_html(document, palette=plan_result.palette, logos=logos, title=title), nl=False)
    elif output == "markdown":
        click.echo(render_markdown(plan_result.to_dict(), title=title), nl=False)
    elif _terminal().quiet:
        for refusal in plan_result.refusals:
            click.echo(f"Refused: {refusal}")
        click.echo(summary_line(plan_result.to_dict()))
    else:
        click.echo(render_plan(plan_result.to_dict(), color=_colour(), title=title), nl=False)


def _refuse_html(output: str, command: str) -> None:
    """The HTML report is for reviewing a plan before it runs: `plan` and `diff` make it."""
    if output == "html":
        raise WxrecError(f"--format html is for plan and diff, not {command}: use text, markdown or json")


def _colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR (https://no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _emit_report(report: ApplyReport) -> None:
    """The outcome of each action was printed as it happened; this is the closing line."""
    done = len(report.outcomes) - len(report.failed)
    click.echo(f"Apply complete: {done} done, {len(report.failed)} failed.")


def _ci_warnings(backend: StateBackend) -> list[str]:
    """A throwaway CI runner forgets `.wxrec/` (git-ignored by default): say so before state is lost."""
    if os.environ.get("CI") != "true" or not isinstance(backend, FileBackend) or ".wxrec" not in backend.path.parts:
        return []
    return [
        f"CI=true and state is {backend.location}, which is not committed by default: runners are throwaway. "
        "Keep state with --state on a path you commit back (see examples/ci/), or the next run starts empty"
    ]


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
        try:
            secret = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WxrecError(f"WXREC_APPSECRET_FILE={secret_file}: cannot read it ({exc.strerror})") from None
    if not secret and appid == DEMO_APPID and api != WECHAT_API:
        secret = DEMO_SECRET
    if not secret:
        raise WxrecError(f"no credentials for {appid}: set WXREC_APPSECRET (or WXREC_ACCESS_TOKEN)")
    return StableToken(appid, secret)


def http_transport() -> httpx.AsyncBaseTransport:
    """The HTTP transport under httpx's API, chosen by measurement (benchmarks/README.md): aiohttp's spends
    about half the client CPU per call of httpx's own at high parallelism. WXREC_HTTP_TRANSPORT=httpx
    selects httpx's own."""
    if os.environ.get("WXREC_HTTP_TRANSPORT") == "httpx":
        return httpx.AsyncHTTPTransport(limits=HTTP_LIMITS)
    return AiohttpTransport(limits=HTTP_LIMITS)


HTTP_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)


@asynccontextmanager
async def connect(
    api: str, manifest: Manifest, appid: str, limiter: CallLimiter | None = None
) -> AsyncIterator[tuple[CardApi, str]]:
    """The card API for `api`: the embedded emulator in this process, or an HTTP endpoint."""
    timeout = httpx.Timeout(30.0, connect=10.0)
    if api == EMULATOR:
        secret = os.environ.get("WXREC_APPSECRET") or DEMO_SECRET
        config = EmulatorConfig(
            accounts={appid: secret},
            data_file=manifest.state_dir / "emulator.json",
            faults=faults_from_env(os.environ),
        )
        transport: httpx.AsyncBaseTransport = FaultTolerantASGITransport(create_app(config))
        ensure_state_dir(manifest.state_dir)
        async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API, timeout=timeout) as http:
            yield CardApi(WeChatClient(http, StableToken(appid, secret), limiter=limiter)), EMULATOR
        return
    base = api.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise WxrecError(f"--api (or WXREC_API) {api!r}: give 'emulator' or an http(s) URL")
    tokens = _token_source(appid, base)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, transport=http_transport()) as http:
        yield CardApi(WeChatClient(http, tokens, limiter=limiter)), base
