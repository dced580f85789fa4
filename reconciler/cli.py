"""The `wxrec` command: parse, call, render, exit code. The work happens in engine and below."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shlex
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import click
import httpx
from httpx_aiohttp import AiohttpTransport

from reconciler import __version__, saved_plan
from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app, faults_from_env
from reconciler.emulator.cli import emulator_group
from reconciler.emulator.store import StoreError
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.engine import (
    ApplyReport,
    Observer,
    Options,
    Outcome,
    apply_plan,
    check_refusals,
    check_state_binding,
    drift_report,
    make_plan,
    offline_plan,
    plan_for_apply,
)
from reconciler.errors import FileError, WxrecError
from reconciler.manifest import Manifest, load_manifest, load_schema, load_variables, manifest_directory, state_dir
from reconciler.manifest.base import load_base_manifest
from reconciler.manifest.loader import Document
from reconciler.plan import Plan
from reconciler.render import accounts as several
from reconciler.render.drift import render_drift_markdown, render_drift_text
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_plan, summary_line
from reconciler.resources.adoption import adopted_record, import_refusal, unsettled
from reconciler.resources.cards.model import live_card
from reconciler.state import POSTGRES_SCHEMES, FileBackend, State, StateBackend, ensure_state_dir, open_backend
from reconciler.wechat.cards import CardApi
from reconciler.wechat.client import (
    FORCE_REFRESH_ENV,
    WECHAT_API,
    StableToken,
    StaticToken,
    TokenSource,
    WeChatClient,
    public_url,
    split_userinfo,
)
from reconciler.wechat.limiter import CallLimiter

EMULATOR = "emulator"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RunSettings:
    manifest_path: Path
    api: str
    state_location: str | None
    output: str
    replace: tuple[str, ...]
    parallelism: int
    allow_duplicate: bool
    destroy_threshold: float
    refresh: bool
    max_rate: float | None = None
    qrcode_dir: Path | None = None
    wait_for_review: float = 0.0
    env: str | None = None
    var: tuple[str, ...] = ()
    credentials: Credentials = field(default_factory=lambda: Credentials())

    def manifest(self) -> Manifest:
        return _load(self.manifest_path, self.env, self.var)

    def backend(self) -> StateBackend:
        return _state_backend(self.manifest_path, self.state_location, self.env)

    def limiter(self) -> CallLimiter:
        return CallLimiter(self.parallelism, self.max_rate)

    def options(self) -> Options:
        return Options(
            replace=frozenset(self.replace),
            parallelism=self.parallelism,
            allow_duplicate=self.allow_duplicate,
            destroy_threshold=self.destroy_threshold,
            refresh=self.refresh,
            qrcode_dir=self.qrcode_dir or _default_qrcode_dir(self.manifest_path, self.env),
            wait_for_review=self.wait_for_review,
            manifest_root=manifest_directory(self.manifest_path),
        )


DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


def _seconds(text: str) -> float:
    match = DURATION.match(text.strip())
    if not match:
        raise WxrecError(f"--wait-for-review {text!r}: give a duration such as 90s, 10m or 1h")
    return float(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2] or "s"]


state_location_option = click.option(
    "--state",
    "state_location",
    envvar="WXREC_STATE",
    metavar="PATH|URL",
    help="State file (default: .wxrec/state.json beside the manifests), or a postgresql:// URL "
    "(password from PGPASSWORD or ~/.pgpass; ?state_name=NAME keeps several states in one database). Env: WXREC_STATE.",
)


parallelism_option = click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=16,
    show_default=True,
    help="Concurrent WeChat calls: reading cards, the changes of one apply step, code deposits.",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the state lock.",
)
api_option = click.option(
    "--api",
    envvar="WXREC_API",
    default=WECHAT_API,
    show_default=True,
    help="WeChat API base URL, or 'emulator' for the embedded emulator (account kept in "
    ".wxrec/emulator.json). Env: WXREC_API.",
)


def _env_options() -> list[Callable[[F], F]]:
    return [
        click.option(
            "--env",
            metavar="NAME",
            help="Environment: vars from env/NAME.yaml beside the manifests; state in .wxrec/NAME/.",
        ),
        click.option(
            "--var",
            multiple=True,
            metavar="NAME=VALUE",
            help="Set the var NAME for ${var.NAME} (over env/NAME.yaml). Repeatable.",
        ),
    ]


def env_options(command: F) -> F:
    """--env and --var, for every command that loads manifests."""
    for decorator in reversed(_env_options()):
        command = decorator(command)
    return command


def _connection_options(several: bool = False) -> list[Callable[[F], F]]:
    manifest = (
        click.argument("manifests", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
        if several
        else click.argument("manifest", type=click.Path(exists=True, path_type=Path))
    )
    return [
        manifest,
        *_env_options(),
        api_option,
        state_location_option,
    ]


destroy_threshold_option = click.option(
    "--destroy-threshold",
    type=click.FloatRange(0, 1),
    default=0.25,
    show_default=True,
    help="Refuse to delete or replace more than this share of the managed cards (3 are always allowed).",
)


def run_options(command: F) -> F:
    """The options plan and apply share."""
    decorators = [
        *_connection_options(several=True),
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
        parallelism_option,
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
        destroy_threshold_option,
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
        except OSError as exc:
            if exc.filename is None:  # not a file-system error (a socket's, say): not ours to explain
                raise
            # A file this run needed and no place above explains: still one line, naming it.
            raise UserError(str(FileError("use", exc.filename, exc))) from None

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
            mark = "ok" if outcome.ok else outcome.status.upper()
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
@click.argument("manifests", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@env_options
def validate(manifests: tuple[Path, ...], env: str | None, var: tuple[str, ...]) -> None:
    """Check the manifests without touching the network; report every error with file:line:column."""
    if len(manifests) > 1:
        _validate_several(manifests, env, var)
        return
    click.echo(_validity(manifests[0], env, var))


def _validity(manifest: Path, env: str | None, var: tuple[str, ...]) -> str:
    loaded = _load(manifest, env, var)
    files = len(loaded.document.files)
    return f"Valid: {len(loaded.cards)} card(s) in {files} file(s)."


qrcode_dir_option = click.option(
    "--qrcode-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where apply writes each QR code's PNG and SVG, and plan looks for them (default: qrcodes/ beside the "
    "manifests).",
)
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
@qrcode_dir_option
def plan(detailed_exitcode: bool, out: Path | None, embed_logos: bool, **kwargs: Any) -> None:
    """Show what apply would change. Never writes state. Several MANIFESTs: one account each, planned side by side."""
    accounts = _accounts(kwargs.pop("manifests"), kwargs)
    if len(accounts) > 1:
        if out is not None:
            raise WxrecError("-out saves the plan of one account: with several manifest directories, plan each alone")
        if kwargs["output"] == "html":
            raise WxrecError("--format html draws the plan of one account: with several directories, plan each alone")
        _plan_several(accounts, detailed_exitcode)
        return
    settings = accounts[0]
    result = asyncio.run(_plan(settings))
    _emit_plan(result, settings.output, embed_logos=embed_logos)
    if result.refusals:
        raise WxrecError("the plan was refused (see above)")
    if out is not None:
        try:
            out.write_text(saved_plan.dumps(result) + "\n", encoding="utf-8")
        except OSError as exc:
            raise FileError("save the plan to", out, exc) from None
        if settings.output == "text":
            api = "" if settings.api == WECHAT_API else f" --api {_endpoint_label(settings.api)}"
            command = f"wxrec apply {settings.manifest_path}{api}{_env_arguments(settings)} --plan {out}"
            click.echo(f"Saved the plan to {out}; apply exactly it with `{command}`.")
    click.get_current_context().exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


@cli.command()
@run_options
def drift(**kwargs: Any) -> None:
    """Compare the live account with the manifests and state: exit 0 in sync, 2 drifted, 1 error.

    Tells changes made in WeChat by hand from edits to the manifests; claims under a refill target are
    reported as stock to refill, never as drift."""
    _refuse_html(kwargs["output"], "drift")
    accounts = _accounts(kwargs.pop("manifests"), kwargs)
    if len(accounts) > 1:
        _drift_several(accounts)
        return
    settings = accounts[0]
    report = asyncio.run(_drift(settings))
    click.echo(_drift_text(report, settings.output), nl=False)
    click.get_current_context().exit(EXIT_OK if report["in_sync"] else EXIT_CHANGES)


async def _drift(settings: RunSettings) -> dict[str, Any]:
    result = await _plan(settings)
    return drift_report(result, settings.backend().load())


def _drift_text(report: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if output == "markdown":
        return render_drift_markdown(report)
    return render_drift_text(report)


@cli.command()
@click.argument("base")
@click.argument("manifest", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "output", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the manifests differ.")
@destroy_threshold_option
@env_options
@embed_logos_option
def diff(
    base: str,
    manifest: Path,
    output: str,
    detailed_exitcode: bool,
    destroy_threshold: float,
    env: str | None,
    var: tuple[str, ...],
    embed_logos: bool,
) -> None:
    """Classify the manifest changes since BASE (a git ref, or a directory) as plan would: offline, no credentials.

    For pull requests from forks, which get no secrets in CI: a reviewer still sees that a one-line edit
    replaces a live card."""
    head = _load(manifest, env, var)
    before = load_base_manifest(base, manifest, load_variables(manifest, env, _overrides(var)))
    stored = _state_backend(manifest, None, env).load()
    palette = stored.palette if stored else {}
    options = Options(refresh=False, destroy_threshold=destroy_threshold)
    result = asyncio.run(offline_plan(before, head, f"manifests at {base}", palette, options))
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
@lock_timeout_option
@qrcode_dir_option
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
    "saved_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply exactly this saved plan (`plan -out`); refused if it was altered, or if state or a live value it "
    "relied on changed. The safety rules are checked again.",
)
def apply(
    auto_approve: bool,
    allow_destroy: bool,
    lock_timeout: float,
    saved_path: Path | None,
    wait_for_review: str,
    **kwargs: Any,
) -> None:
    """Make the changes the plan shows, in a safe order, recording each in state. Several MANIFESTs: one account
    each, applied one after another, each under its own lock."""
    _refuse_html(kwargs["output"], "apply")
    accounts = _accounts(kwargs.pop("manifests"), {**kwargs, "wait_for_review": _seconds(wait_for_review)})
    if not auto_approve and not sys.stdin.isatty():
        raise WxrecError("no terminal to confirm on: pass --auto-approve to apply without a prompt")
    if len(accounts) > 1:
        if saved_path is not None:
            raise WxrecError("--plan applies the saved plan of one account: give one manifest directory")
        _apply_several(accounts, auto_approve, allow_destroy, lock_timeout)
        return
    settings = accounts[0]
    saved = saved_plan.read(saved_path) if saved_path else None
    report = asyncio.run(_apply(settings, auto_approve, allow_destroy, lock_timeout, saved))
    if report is not None and report.failed:
        raise WxrecError(_not_done(report))


@cli.command("import")
@run_options_for_import
@click.argument("address")
@click.argument("card_id")
@lock_timeout_option
def import_(address: str, card_id: str, lock_timeout: float, **kwargs: Any) -> None:
    """Adopt the live card CARD_ID under ADDRESS (declared in the manifest); the next plan shows the differences."""
    asyncio.run(_import(kwargs.pop("manifest"), address, card_id, lock_timeout, **kwargs))


async def _import(
    manifest_path: Path,
    address: str,
    card_id: str,
    lock_timeout: float,
    api: str,
    state_location: str | None,
    env: str | None,
    var: tuple[str, ...],
) -> None:
    manifest = _load(manifest_path, env, var)
    key = address.removeprefix("cards.")
    if not address.startswith("cards.") or key not in manifest.cards:
        raise WxrecError(f"{address} is not a card the manifest declares (addresses look like cards.KEY)")
    backend = _state_backend(manifest.root, state_location, env)
    credentials = _credentials_of_one(manifest_path)
    appid = _appid(manifest, api, credentials)
    with backend.lock(lock_timeout):
        async with connect(api, manifest, appid, credentials=credentials) as (card_api, endpoint):
            current = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(current, appid, endpoint)
            if current.resources.get(address, {}).get("id") == card_id:
                raise WxrecError(f"{address} already has {card_id} in state")
            if address in current.intents:
                raise WxrecError(unsettled(address))
            raw = await card_api.get(card_id)
            card = manifest.cards[key]
            live = live_card(raw, None) if raw is not None else None
            refusal = import_refusal(address, card_id, card["card_type"], live, current.resources)
            if refusal:
                raise WxrecError(refusal)
            protected = bool((card.get("lifecycle") or {}).get("prevent_destroy", False))
            current.resources[address] = adopted_record(card_id, card["card_type"], protected)
            backend.write_with_backup(current)
    click.echo(f"Imported {card_id} as {address}. Run `wxrec plan` to see how it differs from the manifest.")


@cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@api_option
@state_location_option
@click.option("--force", is_flag=True, help="Overwrite an earlier export (its files, state's cards and menu).")
@parallelism_option
@lock_timeout_option
def export(
    directory: Path, api: str, state_location: str | None, force: bool, parallelism: int, lock_timeout: float
) -> None:
    """Write manifests and state for the live account into DIRECTORY: `wxrec plan DIRECTORY` then says "No changes"."""
    asyncio.run(_export(directory, api, state_location, force, parallelism, lock_timeout))


async def _export(
    directory: Path, api: str, state_location: str | None, force: bool, parallelism: int, lock_timeout: float
) -> None:
    # pypinyin's dictionary takes 0.2 s to load: only export needs it.
    from reconciler.export import export_account, read_account, refuse_to_clobber, write_export

    directory.mkdir(parents=True, exist_ok=True)  # first: state's default place is inside it
    backend = _state_backend(directory, state_location)
    refuse_to_clobber(directory, backend.load(), force)
    nothing_yet = Manifest(directory, Document())  # the manifests do not exist yet: export writes them
    credentials = _credentials_of_one(directory)
    appid = _appid(nothing_yet, api, credentials)
    with backend.lock(lock_timeout):
        current = backend.load()
        refuse_to_clobber(directory, current, force)  # again under the lock: another run may have written since
        async with connect(api, nothing_yet, appid, CallLimiter(parallelism), credentials) as (card_api, endpoint):
            check_state_binding(current, appid, endpoint)
            live = await read_account(card_api, parallelism, _terminal().reading)
        exported = export_account(appid, live)
        backup = write_export(directory, exported, backend, current or State(appid=appid, endpoint=endpoint))
    files = ", ".join(sorted(exported.files))
    menu = " and the menu" if "menu" in exported.resources else ""
    click.echo(f"Exported {len(exported.cards)} card(s){menu} of {appid} to {directory} ({files}).")
    click.echo(f"State: {backend.location}" + (f" (the previous state is kept in {backup})" if backup else ""))
    for note in exported.notes:
        click.echo(f"Note: {note}")
    click.echo(f'`wxrec plan {directory}` now says "No changes."')


@cli.group()
def state() -> None:
    """Inspect and repair state (list, show, history, mv, rm, unlock)."""


def _state_backend(manifest: Path, state_location: str | None, env: str | None = None) -> StateBackend:
    return open_backend(_environment_state(state_location, env), manifest, state_dir(manifest, env) / "state.json")


def _environment_state(location: str | None, env: str | None) -> str | None:
    """With --env, a --state given once for every environment (WXREC_STATE in CI) must still keep them apart:
    a PostgreSQL URL without a state_name gets the environment's; a state_name or a path must name it."""
    if location is None or env is None:
        return location
    if location.startswith(POSTGRES_SCHEMES):
        names = [value for key, value in parse_qsl(urlsplit(location).query) if key == "state_name"]
        if not names:
            return f"{location}{'&' if '?' in location else '?'}state_name={env}"
        named = _names_environment(names[0], env)
    else:
        path = Path(location)
        named = any(_names_environment(part, env) for part in (*path.parent.parts, path.stem))
    if named:
        return location
    shown = "a PostgreSQL state of another name" if location.startswith(POSTGRES_SCHEMES) else location
    raise WxrecError(
        f"--env {env} with --state {shown}: every environment would share that state. Name {env}'s own, "
        f"e.g. state/{env}/state.json or ?state_name={env}"
    )


def _names_environment(name: str, env: str) -> bool:
    """`prod` is named by `prod`, `shop-prod` or `prod_state`, not by `production`."""
    return re.search(rf"(^|[-_.]){re.escape(env)}($|[-_.])", name) is not None


def _default_qrcode_dir(manifest: Path, env: str | None) -> Path:
    """`qrcodes/` beside the manifests, `qrcodes/ENV/` for an environment: each account has its own codes."""
    directory = state_dir(manifest).parent / "qrcodes"
    return directory / env if env else directory


def _load(manifest: Path, env: str | None, var: tuple[str, ...]) -> Manifest:
    """The manifests with their vars filled in; a var set but never used is a warning on stderr."""
    loaded = load_manifest(manifest, load_variables(manifest, env, _overrides(var)))
    for warning in loaded.document.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return loaded


def _overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            raise WxrecError(f"--var {pair!r}: give NAME=VALUE")
        overrides[name] = value
    return overrides


def _state_env(command: F) -> F:
    return click.option("--env", metavar="NAME", help="The environment whose state (.wxrec/NAME/) to use.")(command)


manifest_argument = click.argument("manifest", type=click.Path(exists=True, path_type=Path))


def _loaded(backend: StateBackend) -> State:
    loaded = backend.load()
    if loaded is None:
        raise WxrecError(f"no state at {backend.location}")
    return loaded


@state.command("list")
@manifest_argument
@state_location_option
@_state_env
def state_list(manifest: Path, state_location: str | None, env: str | None) -> None:
    """Every address in state with its live id."""
    for address, record in sorted(_loaded(_state_backend(manifest, state_location, env)).resources.items()):
        # A codes entry has no id of its own: it names the card its codes are in.
        click.echo(f"{address}\t{record.get('id') or record.get('card_id', '')}")


@state.command("show")
@manifest_argument
@click.argument("address")
@state_location_option
@_state_env
def state_show(manifest: Path, address: str, state_location: str | None, env: str | None) -> None:
    """What state holds for ADDRESS, as JSON."""
    record = _loaded(_state_backend(manifest, state_location, env)).resources.get(address)
    if record is None:
        raise WxrecError(f"{address} is not in state")
    click.echo(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True))


@state.command("rm")
@manifest_argument
@click.argument("address")
@state_location_option
@lock_timeout_option
@_state_env
def state_rm(manifest: Path, address: str, state_location: str | None, lock_timeout: float, env: str | None) -> None:
    """Stop managing ADDRESS without deleting anything in WeChat (a backup of the old state is kept)."""
    backend = _state_backend(manifest, state_location, env)
    with backend.lock(lock_timeout):
        current = _loaded(backend)
        record = current.resources.pop(address, None)
        if record is None:
            raise WxrecError(f"{address} is not in state; nothing was changed")
        backup = backend.write_with_backup(current)
        backend.drop_code_hashes(address)
    click.echo(f"Removed {address} ({record.get('id')}) from state; WeChat was not touched. Backup: {backup}")


MOVABLE_ADDRESS = re.compile(r"^([a-z_]+)\.([a-z0-9][a-z0-9_-]*)$")


@state.command("mv")
@manifest_argument
@click.argument("old")
@click.argument("new")
@state_location_option
@lock_timeout_option
@_state_env
def state_mv(
    manifest: Path, old: str, new: str, state_location: str | None, lock_timeout: float, env: str | None
) -> None:
    """Give OLD's record (and its ledger of deposited codes) the address NEW, after renaming a key in the
    manifests; WeChat is not touched (a backup of the old state is kept)."""
    old_match, new_match = MOVABLE_ADDRESS.match(old), MOVABLE_ADDRESS.match(new)
    if old_match is None or new_match is None or old_match[1] != new_match[1]:
        raise WxrecError(f"cannot move {old} to {new}: both must be addresses of one kind, such as cards.a to cards.b")
    backend = _state_backend(manifest, state_location, env)
    with backend.lock(lock_timeout):
        current = _loaded(backend)
        if old not in current.resources:
            raise WxrecError(f"{old} is not in state; nothing was changed")
        if new in current.resources:
            raise WxrecError(f"{new} is already in state ({current.resources[new].get('id')}); nothing was changed")
        if old in current.intents:
            raise WxrecError(unsettled(old))
        current.resources[new] = current.resources.pop(old)
        # Copy, write, then drop: a crash in between leaves a spare ledger, never a record without its codes.
        backend.copy_code_hashes(old, new)
        try:
            backup = backend.write_with_backup(current)
        except BaseException:
            backend.drop_code_hashes(new)
            raise
        backend.drop_code_hashes(old)
    click.echo(f"Moved {old} to {new} in state; WeChat was not touched. Backup: {backup}")


@state.command("history")
@manifest_argument
@state_location_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many writes to show.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_state_env
def state_history(manifest: Path, state_location: str | None, limit: int, output: str, env: str | None) -> None:
    """Every write of state, newest first: serial, when, who, and the git commit of the manifests."""
    revisions = _state_backend(manifest, state_location, env).history(limit)
    if output == "json":
        click.echo(json.dumps([r.to_dict() for r in revisions], ensure_ascii=False, indent=2))
        return
    for revision in revisions:
        when = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(revision.written_at))
        click.echo(f"{revision.serial}\t{when}\t{revision.author}\t{revision.commit or '-'}")


@state.command("unlock")
@manifest_argument
@click.argument("lock_id")
@state_location_option
@_state_env
def state_unlock(manifest: Path, lock_id: str, state_location: str | None, env: str | None) -> None:
    """Break the lock LOCK_ID of a run that died (the lock error names the id)."""
    _state_backend(manifest, state_location, env).unlock(lock_id)
    click.echo(f"Lock {lock_id} broken.")


def main() -> None:
    cli(prog_name="wxrec")


async def _plan(settings: RunSettings) -> Plan:
    manifest = settings.manifest()
    backend = settings.backend()
    appid = _appid(manifest, settings.api, settings.credentials)
    if not settings.refresh:
        endpoint = _endpoint_label(settings.api)
        return await make_plan(
            manifest, None, backend.load(), appid, endpoint, settings.options(), _terminal(), ledger=backend.code_hashes
        )
    async with connect(settings.api, manifest, appid, settings.limiter(), settings.credentials) as (api, endpoint):
        plan_result = await make_plan(
            manifest, api, backend.load(), appid, endpoint, settings.options(), _terminal(), ledger=backend.code_hashes
        )
    plan_result.warnings += _ci_warnings(backend)
    return plan_result


def _endpoint_label(api: str) -> str:
    """How the API is shown and recorded: never with the credentials a URL may hold."""
    return EMULATOR if api == EMULATOR else public_url(api.rstrip("/"))


def _plan_json(plan_result: Plan) -> str:
    return json.dumps(plan_result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)


async def _apply(
    settings: RunSettings,
    auto_approve: bool,
    allow_destroy: bool,
    lock_timeout: float,
    saved: saved_plan.SavedPlan | None,
    documents: list[dict[str, Any]] | None = None,
) -> ApplyReport | None:
    """Plan under the lock, show it, get approval, apply. With --format json, one document at the end:
    {"settled", "plan", "apply"} (apply is null when nothing ran), or added to `documents` when given."""
    manifest = settings.manifest()
    backend = settings.backend()
    appid = _appid(manifest, settings.api, settings.credentials)
    as_json = settings.output == "json"
    report: ApplyReport | None = None
    # The lock comes first: nothing is read (state, live cards) while another apply still changes them.
    with backend.lock(lock_timeout):
        async with connect(settings.api, manifest, appid, settings.limiter(), settings.credentials) as (api, endpoint):
            state = backend.load() or State(appid=appid, endpoint=endpoint)
            check_state_binding(state, appid, endpoint)
            if saved is None:
                messages, plan_result = await plan_for_apply(
                    manifest, api, state, backend, endpoint, settings.options()
                )
            else:
                plan_result = await saved_plan.checked(saved, state, api, endpoint, manifest, settings.options())
                messages = []
            plan_result.warnings += _ci_warnings(backend)
            if not as_json:
                for message in messages:
                    click.echo(message)
                _emit_plan(plan_result, settings.output)
            try:
                check_refusals(plan_result)  # before asking
                if plan_result.has_changes:
                    allowed = _confirm(plan_result, auto_approve, allow_destroy)
                    options = replace(settings.options(), allow_destroy=allowed)
                    observer = Observer() if as_json else _terminal()
                    report = await apply_plan(plan_result, api, state, backend, options, observer)
            finally:
                if as_json:
                    document = {
                        "settled": messages,
                        "plan": plan_result.to_dict(),
                        "apply": report.to_dict() if report else None,
                    }
                    if documents is None:
                        click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
                    else:
                        documents.append(document)
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


def _emit_plan(plan_result: Plan, output: str, *, title: str = "wxrec plan", embed_logos: bool = False) -> None:
    click.echo(_plan_text(plan_result, output, title, embed_logos), nl=False)


def _plan_text(
    plan_result: Plan, output: str, title: str = "wxrec plan", embed_logos: bool = False, share: int = 1
) -> str:
    if output == "json":
        return _plan_json(plan_result) + "\n"
    if output == "html":
        # jinja2 and the templates load only for this format: every other command starts faster.
        from reconciler.render.html import render_html
        from reconciler.render.logos import fetch_logos, logo_urls

        document = plan_result.to_dict()
        logos = asyncio.run(fetch_logos(logo_urls(document))) if embed_logos else {}
        return render_html(document, palette=plan_result.palette, logos=logos, title=title)
    if output == "markdown":
        return render_markdown(plan_result.to_dict(), title=title, share=share)
    if _terminal().quiet:
        refused = "".join(f"Refused: {refusal}\n" for refusal in plan_result.refusals)
        return refused + summary_line(plan_result.to_dict()) + "\n"
    return render_plan(plan_result.to_dict(), color=_colour(), title=title)


def _refuse_html(output: str, command: str) -> None:
    """The HTML report is for reviewing a plan before it runs: `plan` and `diff` make it."""
    if output == "html":
        raise WxrecError(f"--format html is for plan and diff, not {command}: use text, markdown or json")


def _colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR (https://no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _emit_report(report: ApplyReport) -> None:
    """The outcome of each action was printed as it happened; this is the closing line."""
    click.echo(f"Apply complete: {report.summary()}.")


def _not_done(report: ApplyReport) -> str:
    if report.stopped:
        return f"{len(report.failed)} action(s) not done: {report.stopped}"
    return f"{len(report.failed)} action(s) not done (see above); state records what was done"


def _ci_warnings(backend: StateBackend) -> list[str]:
    """A throwaway CI runner forgets `.wxrec/` (git-ignored by default): say so before state is lost."""
    if os.environ.get("CI") != "true" or not isinstance(backend, FileBackend) or ".wxrec" not in backend.path.parts:
        return []
    return [
        f"CI=true and state is {backend.location}, which is not committed by default: runners are throwaway. "
        "Keep state with --state on a path you commit back (see examples/ci/), or the next run starts empty"
    ]


@dataclass(frozen=True)
class Credentials:
    """Where an account's appid and secret come from in the environment: WXREC_APPSECRET for one manifest
    directory; WXREC_<NAME>_APPSECRET (NAME from the directory) first, and for several directories only."""

    prefixes: tuple[str, ...] = ("WXREC_",)

    def get(self, name: str) -> tuple[str, str] | None:
        """(variable, value) of the first of the prefixed variables that is set."""
        for prefix in self.prefixes:
            value = os.environ.get(prefix + name)
            if value:
                return prefix + name, value
        return None

    def value(self, name: str) -> str | None:
        found = self.get(name)
        return found[1] if found else None

    def names(self, name: str) -> str:
        return " or ".join(prefix + name for prefix in self.prefixes)

    def source(self) -> Credentials:
        """The first prefix that sets any credential. An account's own variables are never mixed with the shared
        ones: a shared WXREC_ACCESS_TOKEN must not win over WXREC_<NAME>_APPSECRET and change another account."""
        for prefix in self.prefixes:
            if any(os.environ.get(prefix + name) for name in CREDENTIAL_NAMES):
                return Credentials((prefix,))
        return self


CREDENTIAL_NAMES = ("ACCESS_TOKEN", "APPSECRET", "APPSECRET_FILE")


def _appid(manifest: Manifest, api: str, credentials: Credentials = Credentials()) -> str:
    appid = manifest.appid or credentials.value("APPID")
    if appid:
        return appid
    if api != WECHAT_API:
        return DEMO_APPID
    raise WxrecError(f"no account: set account.appid in the manifest or {credentials.names('APPID')}")


def _token_source(appid: str, api: str, credentials: Credentials) -> TokenSource:
    """WXREC_ACCESS_TOKEN, else WXREC_APPSECRET (or the file in WXREC_APPSECRET_FILE); the demo account's
    published secret serves emulators that run it."""
    credentials = credentials.source()
    token = credentials.value("ACCESS_TOKEN")
    if token:
        return StaticToken(token)
    secret = credentials.value("APPSECRET")
    secret_file = credentials.get("APPSECRET_FILE")
    if not secret and secret_file:
        try:
            secret = Path(secret_file[1]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WxrecError(f"{secret_file[0]}={secret_file[1]}: cannot read it ({exc.strerror})") from None
    if not secret and appid == DEMO_APPID and api != WECHAT_API:
        secret = DEMO_SECRET
    if not secret:
        names = f"{credentials.names('APPSECRET')} (or {credentials.names('ACCESS_TOKEN')})"
        raise WxrecError(f"no credentials for {appid}: set {names}")
    return stable_token(appid, secret)


def stable_token(appid: str, secret: str) -> StableToken:
    """Normal-mode tokens; forced refreshes only when the user allows them in WXREC_TOKEN_FORCE_REFRESH."""
    allowed = os.environ.get(FORCE_REFRESH_ENV, "").strip().lower()
    if allowed not in ("", "0", "1", "false", "true", "no", "yes"):
        raise WxrecError(f"{FORCE_REFRESH_ENV}={allowed!r}: give 1 (allow forced token refreshes) or 0")
    return StableToken(appid, secret, force_refresh=allowed in ("1", "true", "yes"))


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
    api: str,
    manifest: Manifest,
    appid: str,
    limiter: CallLimiter | None = None,
    credentials: Credentials = Credentials(),
) -> AsyncIterator[tuple[CardApi, str]]:
    """The card API for `api`: the embedded emulator in this process, or an HTTP endpoint."""
    timeout = httpx.Timeout(30.0, connect=10.0)
    if api == EMULATOR:
        secret = credentials.value("APPSECRET") or DEMO_SECRET
        data_file = manifest.state_dir / "emulator.json"
        config = EmulatorConfig(accounts={appid: secret}, data_file=data_file, faults=faults_from_env(os.environ))
        try:
            transport: httpx.AsyncBaseTransport = FaultTolerantASGITransport(create_app(config))
        except OSError as exc:
            raise FileError("keep the embedded emulator's account in", data_file, exc) from None
        except StoreError as exc:
            raise WxrecError(f"{exc}; move it away to start the emulated account afresh") from None
        ensure_state_dir(manifest.state_dir)
        async with httpx.AsyncClient(transport=transport, base_url=WECHAT_API, timeout=timeout) as http:
            yield CardApi(WeChatClient(http, stable_token(appid, secret), limiter=limiter)), EMULATOR
        return
    endpoint = _endpoint_label(api)
    if not endpoint.startswith(("http://", "https://")):
        raise WxrecError(f"--api (or WXREC_API) {endpoint!r}: give 'emulator' or an http(s) URL")
    try:
        base, auth = split_userinfo(api.rstrip("/"))
        httpx.URL(base)  # what the client would refuse with a traceback: a bad port, an unclosed [
    except (ValueError, httpx.InvalidURL) as exc:
        raise WxrecError(f"--api (or WXREC_API) {endpoint!r}: not a URL ({exc})") from None
    tokens = _token_source(appid, base, credentials)
    async with httpx.AsyncClient(base_url=base, auth=auth, timeout=timeout, transport=http_transport()) as http:
        yield CardApi(WeChatClient(http, tokens, limiter=limiter)), endpoint


# Several accounts: `wxrec plan accounts/*`. Each manifest directory is its own account, with its own state,
# lock, client, limiter and credentials; one report has a section per account and one exit code covers all.

PLAN_WORDS = several.Words("with changes", "without changes")
DRIFT_WORDS = several.Words("drifted", "in sync")


def account_name(manifest: Path) -> str:
    """NAME in WXREC_<NAME>_APPSECRET: the directory's (or file's) name, upper-case, other characters as _."""
    resolved = manifest.resolve()
    return re.sub(r"[^A-Z0-9]", "_", (resolved.name if resolved.is_dir() else resolved.stem).upper())


def _accounts(manifests: tuple[Path, ...], options: dict[str, Any]) -> list[RunSettings]:
    """One RunSettings per manifest directory. Alone, a directory also falls back to the plain WXREC_APPSECRET;
    among several, only its own variables count, so no account ever runs with another's secret."""
    if len(manifests) == 1:
        return [RunSettings(manifest_path=manifests[0], credentials=_credentials_of_one(manifests[0]), **options)]
    if options.get("state_location") is not None:
        raise WxrecError("--state names one state file: with several manifest directories each keeps its own")
    _refuse_shared(manifests, account_name, "share the credential name WXREC_{}_APPSECRET")
    _refuse_shared(manifests, lambda m: str(state_dir(m).resolve()), "would share the state in {}")
    return [
        RunSettings(manifest_path=m, credentials=Credentials((f"WXREC_{account_name(m)}_",)), **options)
        for m in manifests
    ]


def _credentials_of_one(manifest: Path) -> Credentials:
    return Credentials((f"WXREC_{account_name(manifest)}_", "WXREC_"))


def _env_arguments(settings: RunSettings) -> str:
    """--env and --var as given, so a printed command reads the same manifests."""
    env = f" --env {settings.env}" if settings.env else ""
    return env + "".join(f" --var {shlex.quote(pair)}" for pair in settings.var)


def _refuse_shared(manifests: tuple[Path, ...], key: Callable[[Path], str], problem: str) -> None:
    seen: dict[str, Path] = {}
    for manifest in manifests:
        first = seen.setdefault(key(manifest), manifest)
        if first != manifest:
            raise WxrecError(f"{first} and {manifest} {problem.format(key(manifest))}: rename one directory")


def _validate_several(manifests: tuple[Path, ...], env: str | None, var: tuple[str, ...]) -> None:
    sections = []
    for manifest in manifests:
        try:
            sections.append(several.Section(str(manifest), _validity(manifest, env, var) + "\n"))
        except WxrecError as exc:
            sections.append(several.Section(str(manifest), "", str(exc)))
    click.echo(several.render_text(sections, several.Words("", "valid", "invalid")), nl=False)
    click.get_current_context().exit(several.exit_code(sections, detailed=False))


def _plan_several(accounts: list[RunSettings], detailed_exitcode: bool) -> None:
    async def one(settings: RunSettings) -> tuple[several.Section, Plan | None]:
        label = str(settings.manifest_path)
        try:
            result = await _plan(settings)
        except WxrecError as exc:
            return several.Section(label, "", str(exc)), None
        refused = "the plan was refused (see above)" if result.refusals else None
        # One comment holds every account's plan: each folds to its share of the comment's limit.
        body = _plan_text(result, settings.output, share=len(accounts))
        return several.Section(label, body, refused, result.has_changes), result

    async def all_accounts() -> list[tuple[several.Section, Plan | None]]:
        return await asyncio.gather(*(one(settings) for settings in accounts))

    outcomes = asyncio.run(all_accounts())
    sections = [section for section, _ in outcomes]
    if accounts[0].output == "json":
        plans = [
            {"manifest": s.label, "plan": result.to_dict() if result else None, "error": s.error}
            for s, result in outcomes
        ]
        _emit_json({"format_version": 1, "accounts": plans})
    else:
        _emit_sections(sections, accounts[0].output, PLAN_WORDS, "wxrec plan")
    click.get_current_context().exit(several.exit_code(sections, detailed_exitcode))


def _drift_several(accounts: list[RunSettings]) -> None:
    async def one(settings: RunSettings) -> tuple[several.Section, dict[str, Any] | None]:
        label = str(settings.manifest_path)
        try:
            report = await _drift(settings)
        except WxrecError as exc:
            return several.Section(label, "", str(exc)), None
        return several.Section(label, _drift_text(report, settings.output), None, not report["in_sync"]), report

    async def all_accounts() -> list[tuple[several.Section, dict[str, Any] | None]]:
        return await asyncio.gather(*(one(settings) for settings in accounts))

    outcomes = asyncio.run(all_accounts())
    sections = [section for section, _ in outcomes]
    if accounts[0].output == "json":
        drifts = [{"manifest": s.label, "drift": report, "error": s.error} for s, report in outcomes]
        _emit_json({"format_version": 1, "accounts": drifts})
    else:
        _emit_sections(sections, accounts[0].output, DRIFT_WORDS, "wxrec drift")
    click.get_current_context().exit(several.exit_code(sections, detailed=True))


def _apply_several(accounts: list[RunSettings], auto_approve: bool, allow_destroy: bool, lock_timeout: float) -> None:
    """One account after another: each prompt and each line of progress belongs to one section. A failure is
    reported in its section and the next account still runs."""
    as_json = accounts[0].output == "json"
    sections, documents = [], []
    for settings in accounts:
        label = str(settings.manifest_path)
        if not as_json:
            click.echo(f"=== {label} ===")
        collected: list[dict[str, Any]] = []
        error, applied = None, False
        try:
            report = asyncio.run(_apply(settings, auto_approve, allow_destroy, lock_timeout, None, collected))
            applied = report is not None
            if report is not None and report.failed:
                error = _not_done(report)
        except WxrecError as exc:
            error = str(exc)
        if error is not None and not as_json:
            click.echo(f"Error: {error}")
        if not as_json:
            click.echo()
        sections.append(several.Section(label, "", error, applied))
        documents.append({**(collected[0] if collected else {}), "manifest": label, "error": error})
    if as_json:
        _emit_json({"format_version": 1, "accounts": documents})
    else:
        click.echo(several.summary(sections, several.Words("applied", "without changes")))
    click.get_current_context().exit(several.exit_code(sections, detailed=False))


def _emit_sections(sections: list[several.Section], output: str, words: several.Words, title: str) -> None:
    if output == "markdown":
        click.echo(several.render_markdown(sections, words, title), nl=False)
    else:
        click.echo(several.render_text(sections, words), nl=False)


def _emit_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
