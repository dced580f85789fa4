"""`--api emulator`: the one module of the reconciler that reaches into the emulator (the `wxrec emulator`
command group aside). The emulator stays independent of the reconciler, and a run against WeChat never
imports it: `connection` imports this module only on the paths that talk to an emulator.

Also the emulator's documented demo account, which a run against any endpoint other than WeChat's may use
when no credentials are given (a served emulator runs the same account).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

import httpx

from reconciler.emulator import (
    DEMO_APPID,
    DEMO_SECRET,
    EXISTING_CARDS_FILE,
    FAULTS_ENV,
    EmulatorConfig,
    ExistingCardsError,
    create_app,
    faults_from_env,
    legacy_coupons_from_env,
)
from reconciler.emulator import faults_in_force as _faults_in_force
from reconciler.emulator.store import StoreError
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.errors import FileError, WxrecError

__all__ = ["DEMO_APPID", "DEMO_SECRET", "transport"]


def transport(
    data_file: Path, manifests: Path, appid: str, secret: str, warn: Callable[[str], None] | None
) -> httpx.AsyncBaseTransport:
    """An emulator in this process whose account is kept in `data_file`; a new account starts with the cards of
    emulator-cards.json in the `manifests` directory, if there is one (so a copy of the directory works on its
    own). `warn` hears of the faults in force there, which stay from one run to the next."""
    existing = manifests / EXISTING_CARDS_FILE
    config = EmulatorConfig(
        accounts={appid: secret},
        data_file=data_file,
        faults=faults_from_env(os.environ),
        legacy_coupons=legacy_coupons(),
        existing_cards=existing if existing.is_file() else None,
    )
    try:
        app = create_app(config)
    except OSError as exc:
        raise FileError("keep the embedded emulator's account in", data_file, exc) from None
    except StoreError as exc:
        raise WxrecError(f"{exc}; move it away to start the emulated account afresh") from None
    except ExistingCardsError as exc:
        raise WxrecError(str(exc)) from None
    if (faults := _faults_in_force(app)) and warn is not None:
        warn(_faults_notice(faults, data_file, bool(config.faults)))
    return FaultTolerantASGITransport(app)


def legacy_coupons() -> bool:
    """Whether the embedded emulator creates coupons as WeChat did before 2021-04-01 (WXREC_EMULATOR_LEGACY_COUPONS);
    the planner lifts its refusal of coupon creates for such an emulator only."""
    return legacy_coupons_from_env(os.environ)


def _faults_notice(spec: str, data_file: Path, from_env: bool) -> str:
    """The faults in force, and the command that clears them, runnable as printed."""
    clear = f"wxrec emulator faults none --data {shlex.quote(str(data_file))}"
    how = f"unset {FAULTS_ENV}, then {clear}" if from_env else clear
    return f"the emulator injects faults: {spec} ({how} clears them)"
