"""``wxrec emulator``: serve the emulator, or steer one (running, or an account file at rest)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx

from . import controls
from .account_file import AccountFile
from .config import (
    DEMO_APPID,
    DEMO_SECRET,
    LEGACY_COUPONS_ENV,
    EmulatorConfig,
    ReviewMode,
    default_accounts,
    faults_from_env,
    legacy_coupons_from_env,
)
from .model import JSON
from .store import Store, StoreError

DEFAULT_URL = "http://127.0.0.1:8080"


@click.group("emulator")
def emulator_group() -> None:
    """Run the WeChat emulator, or act on one.

    The commands other than serve act as WeChat's users and reviewers would."""


class _Number(click.ParamType[Any]):
    """An argument's number, whose error says what the argument is and what it takes (click's says only "not a
    valid integer range")."""

    def __init__(self, numbers: click.IntRange | click.FloatRange, what: str) -> None:
        self.numbers, self.what = numbers, what
        self.name = numbers.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.numbers.convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r}: give {self.what}", param, ctx)


def _parse_account(text: str) -> tuple[str, str]:
    appid, sep, secret = text.partition(":")
    if not sep or not appid.strip() or not secret:
        # Never echo the value: it holds a secret.
        raise click.BadParameter("expected APPID:SECRET", param_hint="--account")
    return appid.strip(), secret


def _accounts(given: tuple[str, ...]) -> dict[str, str]:
    if not given:
        return default_accounts(os.environ)
    return dict(_parse_account(text) for text in given)


def _describe_account(appid: str, secret: str) -> str:
    if appid == DEMO_APPID and secret == DEMO_SECRET:
        return f"  {appid}  secret {DEMO_SECRET} (the demo account)"
    return f"  {appid}  secret not shown"


@emulator_group.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--account", "account_specs", multiple=True, metavar="APPID:SECRET", help="Account to serve (repeatable)."
)
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), help="Keep the accounts in this JSON file.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for card ids and tokens.")
@click.option(
    "--review",
    default="instant",
    show_default=True,
    help="What review does with a card: instant, manual (wxrec emulator approve|reject), after=SECONDS, "
    "reject[=REASON] or never.",
)
@click.option(
    "--test-account",
    "test_accounts",
    multiple=True,
    metavar="APPID",
    help="Serve APPID as a sandbox test account, whose cards never pass review (repeatable).",
)
@click.option("--token-ttl", default=7200, show_default=True, type=click.IntRange(min=1), help="Token lifetime (s).")
@click.option(
    "--faults",
    metavar="SPEC",
    help="Faults to inject, e.g. 'latency=5ms..40ms,error=-1:0.05,drop=0.02,seed=7' ('none' clears the --data "
    "file's); default: WXREC_EMULATOR_FAULTS, else the --data file's.",
)
@click.option(
    "--legacy-coupons/--no-legacy-coupons",
    default=None,
    help="Create coupons (GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON) as WeChat did before 2021-04-01; "
    f"by default refused, as WeChat does now (default: {LEGACY_COUPONS_ENV}=1 turns it on).",
)
@click.option(
    "--existing-cards",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Start each new account with the cards in FILE (JSON, cards as card/get answers them, with their ids), "
    "e.g. an example's emulator-cards.json.",
)
def serve(
    host: str,
    port: int,
    account_specs: tuple[str, ...],
    data: Path | None,
    seed: int,
    review: str,
    test_accounts: tuple[str, ...],
    token_ttl: int,
    faults: str | None,
    legacy_coupons: bool | None,
    existing_cards: Path | None,
) -> None:
    """Serve the emulated WeChat API over HTTP until interrupted."""
    import uvicorn

    from .app import create_app

    try:
        config = EmulatorConfig(
            accounts=_accounts(account_specs),
            data_file=data,
            seed=seed,
            review=review,
            test_accounts=frozenset(test_accounts),
            token_ttl=token_ttl,
            faults=faults_from_env(os.environ) if faults is None else faults,
            legacy_coupons=legacy_coupons_from_env(os.environ) if legacy_coupons is None else legacy_coupons,
            existing_cards=existing_cards,
        )
        app = create_app(config)
    except ValueError as exc:  # bad --review, --faults or --test-account, unreadable --data or --existing-cards
        raise click.ClickException(str(exc)) from None
    _check_port_free(host, port)
    click.echo(f"wxrec emulator: WeChat API at http://{host}:{port} (review {review}, seed {seed})")
    for appid, secret in config.accounts.items():
        click.echo(_describe_account(appid, secret))
    click.echo(f"  accounts kept in {data}" if data else "  accounts kept in memory only")
    active = app.state.emulator.store.fault_spec
    click.echo(f"  faults: {active}" if active else "  faults: none")
    if config.legacy_coupons:
        click.echo("  coupons: card/create accepts them (legacy mode, as before 2021-04-01)")
    else:
        click.echo("  coupons: card/create refuses them, as WeChat has since 2021-04-01")
    if existing_cards:
        click.echo(f"  a new account starts with the cards in {existing_cards}")
    # No access log: request lines carry access tokens in their query strings. uvicorn runs on uvloop and httptools
    # when installed (`wxrec[serve]`), about 40% less CPU a call; the emulated reset works on both of its HTTP
    # protocols, which refuse to write a header value holding a line break (faults.ConnectionReset).
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _check_port_free(host: str, port: int) -> None:
    """uvicorn reports a taken port with exit 3 and a log line; say it plainly, exit 1, before the banner."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


# ---------------------------------------------------------------- controls


def _target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--data",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Act on this account file (e.g. PATH/.wxrec/emulator.json) instead of a server.",
    )(func)
    return click.option("--url", help=f"Emulator to act on (default {DEFAULT_URL}).")(func)


_appid_option = click.option("--appid", help="Account (default: the only/first one).")


def _control(url: str | None, data: Path | None, path: str, payload: JSON) -> JSON:
    if url and data:
        raise click.UsageError("give --url or --data, not both")
    if data is not None:
        return _control_file(data, path, payload)
    return _control_http(url or DEFAULT_URL, path, payload)


def _control_http(url: str, path: str, payload: JSON) -> JSON:
    body = {k: v for k, v in payload.items() if v is not None}
    try:
        response = httpx.post(f"{url.rstrip('/')}/_emulator/{path}", json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the emulator at {url}: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise click.ClickException(f"{url} did not answer like a wxrec emulator (HTTP {response.status_code})")
    if response.status_code != 200:
        raise click.ClickException(str(answer.get("error", f"HTTP {response.status_code}")))
    return answer


_FILE_OPERATIONS: dict[str, Callable[[Store, JSON], JSON]] = {
    "faults": lambda s, p: controls.set_faults(s, p["spec"]) if "spec" in p else controls.show_faults(s),
    "claim": lambda s, p: controls.claim(s, _file_appid(s, p), p["card_id"], p["count"]),
    "review": lambda s, p: controls.review(s, _file_appid(s, p), p["card_id"], p["result"], p.get("reason")),
    "clock": lambda s, p: controls.advance_clock(s, p["advance"]),
}


def _file_appid(store: Store, payload: JSON) -> str:
    return controls.resolve_appid(store, [], payload.get("appid"))


def _control_file(path: Path, operation: str, payload: JSON) -> JSON:
    if not path.exists():
        raise click.ClickException(f"no emulator account file at {path}")
    try:
        # Under the lock, as the emulators of running applies and plans take their turns at the file.
        with AccountFile(path).locked() as lease:
            store = Store.load(path, review=ReviewMode("manual"))
            answer = _FILE_OPERATIONS[operation](store, payload)
            lease.new_version()
            store.save(path)
    except (StoreError, controls.ControlError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc}") from None
    return answer


def _describe_card(card: JSON) -> str:
    sku = card["sku"]
    return f"{card['card_id']}: {card['status']}, quantity {sku['quantity']} of {sku['total_quantity']}"


@emulator_group.command()
@click.argument("card_id")
@click.argument("count", type=_Number(click.IntRange(min=1), "how many copies users claim, a whole number, 1 or more"))
@_target_options
@_appid_option
def claim(card_id: str, count: int, url: str | None, data: Path | None, appid: str | None) -> None:
    """Let users claim COUNT copies of CARD_ID.

    Lowers its quantity only."""
    card = _control(url, data, "claim", {"appid": appid, "card_id": card_id, "count": count})
    click.echo(f"claimed {count}: {_describe_card(card)}")


@emulator_group.command()
@click.argument("card_id")
@_target_options
@_appid_option
def approve(card_id: str, url: str | None, data: Path | None, appid: str | None) -> None:
    """Approve CARD_ID's pending review now, as a reviewer would."""
    card = _control(url, data, "review", {"appid": appid, "card_id": card_id, "result": "approve"})
    click.echo(_describe_card(card))


@emulator_group.command()
@click.argument("card_id")
@click.option("--reason", help="The reviewer's reason (RefuseReason of the card_not_pass_check event).")
@_target_options
@_appid_option
def reject(card_id: str, reason: str | None, url: str | None, data: Path | None, appid: str | None) -> None:
    """Reject CARD_ID's pending review now, as a reviewer would."""
    body = {"appid": appid, "card_id": card_id, "result": "reject", "reason": reason}
    card = _control(url, data, "review", body)
    click.echo(f"{_describe_card(card)}, reason: {card['refuse_reason']}")


@emulator_group.command()
@click.argument(
    "seconds", type=_Number(click.FloatRange(min=0), "how many seconds to move forward, 0 or more (e.g. 90 or 1.5)")
)
@_target_options
def clock(seconds: float, url: str | None, data: Path | None) -> None:
    """Move the emulator's clock SECONDS forward.

    Tokens expire and timed reviews complete as they would in that time."""
    answer = _control(url, data, "clock", {"advance": seconds})
    moment = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(answer["now"]))
    click.echo(f"emulator clock: {moment} ({answer['offset']:+.0f} s from real time)")


@emulator_group.command()
@click.argument("spec", required=False)
@_target_options
def faults(spec: str | None, url: str | None, data: Path | None) -> None:
    """Show the active faults, or replace them with SPEC.

    '' or 'none' clears them. SPEC is comma-separated, e.g.
    'latency=5ms..40ms,error=-1:0.05,error=40001:0.01,http=503:0.02,
    reset=0.01,drop=0.05,rate=600/min,quota=5000/day,seed=7,paths=/card/create|/card/modifystock'.
    """
    answer = _control(url, data, "faults", {} if spec is None else {"spec": spec})
    click.echo(f"faults: {answer['spec']}" if answer["active"] else "faults: none")
