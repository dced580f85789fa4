"""The options several commands share, and durations as flags give them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import i18n
from reconciler.endpoints import WECHAT_API
from reconciler.errors import WxrecError

F = TypeVar("F", bound=Callable[..., Any])

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


class Duration(click.ParamType[float]):
    """Seconds, as 90, 90s, 10m or 1h: every option that waits takes a duration the same way."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        match = DURATION.match(str(value).strip())
        if not match:
            self.fail(f"{value!r}: give a duration such as 90s, 10m or 1h", param, ctx)
        return float(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2] or "s"]


def _decorated(command: F, decorators: Sequence[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


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
    type=Duration(),
    default="60s",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for the state lock (e.g. 10s, 2m).",
)
api_option = click.option(
    "--api",
    envvar="WXREC_API",
    default=WECHAT_API,
    show_default=True,
    help="WeChat API base URL, or 'emulator' for the embedded emulator (account kept in "
    ".wxrec/emulator.json). Env: WXREC_API.",
)
pay_api_option = click.option(
    "--pay-api",
    envvar="WXREC_PAY_API",
    default="https://api.mch.weixin.qq.com",
    show_default=True,
    help="WeChat Pay API base URL, for pay_coupons (--api emulator serves both APIs). Env: WXREC_PAY_API.",
)
legacy_coupons_option = click.option(
    "--legacy-coupons",
    is_flag=True,
    envvar="WXREC_LEGACY_COUPONS",
    help="For plan, apply and diff against an emulator served with --legacy-coupons only: let the plan create "
    "coupons, as WeChat did before 2021-04-01 (plan and apply ask the emulator, and stop if it is not in legacy "
    "mode; plans against WeChat itself refuse whatever this says; the embedded emulator follows "
    "WXREC_EMULATOR_LEGACY_COUPONS). Env: WXREC_LEGACY_COUPONS.",
)
destroy_threshold_option = click.option(
    "--destroy-threshold",
    type=click.FloatRange(0, 1),
    default=0.25,
    show_default=True,
    help="Refuse to delete or replace more than this share of the managed cards (3 are always allowed).",
)
qrcode_dir_option = click.option(
    "--qrcode-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where apply writes each QR code's PNG and SVG, and plan looks for them (default: qrcodes/ beside the "
    "manifests).",
)


def _report_language(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Sets the language for the rest of the command (the context closes it: nothing leaks to the next one)."""
    ctx.with_resource(i18n.language(i18n.language_of(value)))


lang_option = click.option(
    "--lang",
    "-lang",
    metavar="zh-CN|en",
    expose_value=False,
    callback=_report_language,
    help="Language of the html and markdown reports (default: WXREC_LANG, then the locale, else en).",
)


embed_logos_option = click.option(
    "--embed-logos",
    is_flag=True,
    help="For --format html only: fetch the cards' logos now and inline them (a logo that fails is drawn as the "
    "brand's initial). Without it the report draws every logo as the initial and nothing is fetched.",
)
REPORT_FORMATS = ("text", "markdown", "json")


def format_option(*, html: bool, json: str = "the plan document (schemas/plan.schema.json)") -> Callable[[F], F]:
    """--format with only the formats the command renders: html, the visual report, where there is a plan to
    review before it runs (plan, diff)."""
    choices = [*REPORT_FORMATS, "html"] if html else list(REPORT_FORMATS)
    visual = "; html, a self-contained visual report" if html else ""
    return click.option(
        "--format",
        "output",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=f"text for a terminal, markdown for a pull-request comment, json: {json}{visual}.",
    )


HERE = Path(".")


def _one_manifest(ctx: click.Context, param: click.Parameter, given: tuple[Path, ...]) -> Path:
    if len(given) > 1:
        raise click.BadParameter("give one manifest directory or file", ctx, param)
    return _some_manifests(ctx, param, given)[0]


def _some_manifests(ctx: click.Context, param: click.Parameter, given: tuple[Path, ...]) -> tuple[Path, ...]:
    """One line naming a path that does not exist, not click's usage message: the path is the mistake."""
    for path in given:
        if not path.exists():
            raise WxrecError(
                f"{path}: no such manifest directory or file (give one, or run in the manifest directory and leave "
                "it out)"
            )
    return given or (HERE,)


# Optional, as Terraform's working directory is: `.` when left out. nargs=-1 lets the arguments after it
# (ADDRESS, CARD_ID) be given alone; the callback allows one.
manifest_argument = click.argument(
    "manifest", nargs=-1, metavar="[MANIFEST]", callback=_one_manifest, type=click.Path(path_type=Path)
)
manifests_argument = click.argument(
    "manifests",
    nargs=-1,
    metavar="[MANIFESTS]...",
    callback=_some_manifests,
    type=click.Path(path_type=Path),
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
    return _decorated(command, _env_options())


def state_env(command: F) -> F:
    return click.option("--env", metavar="NAME", help="The environment whose state (.wxrec/NAME/) to use.")(command)


def import_options(command: F) -> F:
    """The manifest, --env/--var, --api and --state, as plan takes them (for one manifest directory)."""
    return _decorated(command, [manifest_argument, *_env_options(), api_option, pay_api_option, state_location_option])


def account_options(command: F) -> F:
    """The manifests and the account, state and environment they are run against (plan, apply, drift)."""
    return _decorated(command, [manifests_argument, *_env_options(), api_option, pay_api_option, state_location_option])


def reading_options(command: F) -> F:
    """How fast the live account is read (plan, apply, drift)."""
    return _decorated(
        command,
        [
            parallelism_option,
            click.option(
                "--max-rate",
                type=click.FloatRange(min=0.1),
                default=None,
                metavar="CALLS_PER_SECOND",
                help="Never call WeChat faster than this (shared by every call of the run). Default: no budget.",
            ),
        ],
    )


def planning_options(command: F) -> F:
    """What a plan that apply may carry out takes (plan, apply): drift compares the whole live account, so it takes
    none of them."""
    return _decorated(
        command,
        [
            click.option(
                "--refresh",
                "refresh",
                type=click.BOOL,
                default=True,
                show_default=True,
                help="false: plan against state's last-applied values without reading the live account.",
            ),
            click.option(
                "--replace",
                "replace",
                multiple=True,
                metavar="ADDRESS",
                help="Force a new card for ADDRESS (e.g. cards.x), or re-create one deleted outside wxrec. Repeatable.",
            ),
            click.option(
                "--target",
                "target",
                multiple=True,
                metavar="ADDRESS",
                help="Plan and apply only ADDRESS (e.g. qrcodes.door) and what it refers to. Repeatable. Not for "
                "routine use: for recovering from a mistake or a failed apply.",
            ),
            click.option(
                "--exclude",
                "exclude",
                multiple=True,
                metavar="ADDRESS",
                help="Plan and apply all but ADDRESS and what refers to it. Repeatable. Not for routine use.",
            ),
            click.option(
                "--allow-duplicate",
                is_flag=True,
                help="Create cards even where an unmanaged live card has the same type, brand and title, and "
                "WeChat Pay stocks where the codes ledger counts codes uploaded to a stock state lost.",
            ),
            destroy_threshold_option,
            legacy_coupons_option,
        ],
    )
