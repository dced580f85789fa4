"""The emulator provider (reconciler.emulation), part of the CLI wiring: the one module that reaches into the
emulator (the `wxrec emulator` command group aside). The emulator stays independent of the reconciler, and the library
never imports this module: the CLI installs `provider` (loading this module only when a run asks it), a library
caller that runs against an emulator installs it itself.

It holds the embedded emulator (`--api emulator`), the emulator's documented demo account and merchant, which a
run against any endpoint other than WeChat's may use when no credentials are given (a served emulator runs the
same), and asks a served emulator whether it is in legacy-coupons mode.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from reconciler.connection import EMULATOR, checked_url, endpoint_label
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
from reconciler.emulator.pay import (
    DEMO_MCHID,
    DEMO_MERCHANT_CERT_SERIAL,
    DEMO_MERCHANT_PRIVATE_KEY,
    DEMO_PAY_PUBLIC_KEY_ID,
    DEMO_PLATFORM_PRIVATE_KEY,
)
from reconciler.emulator.store import StoreError
from reconciler.emulator.transport import FaultTolerantASGITransport
from reconciler.errors import FileError, WxrecError
from reconciler.pay.credentials import PayCredentials

__all__ = ["DEMO_APPID", "DEMO_MCHID", "DEMO_SECRET", "Provider", "demo_pay_credentials", "provider", "transport"]

# Where a served emulator reports its mode (reconciler/emulator/controls.py, health_route).
HEALTH = "/_emulator/health"


class Provider:
    """reconciler.emulation.Emulators: this module's functions and the emulator's demo values."""

    demo_appid = DEMO_APPID
    demo_secret = DEMO_SECRET
    demo_mchid = DEMO_MCHID

    def transport(
        self,
        data_file: Path,
        manifests: Path,
        appid: str,
        secret: str,
        warn: Callable[[str], None] | None,
        mchid: str,
    ) -> httpx.AsyncBaseTransport:
        return transport(data_file, manifests, appid, secret, warn, mchid)

    def demo_pay_credentials(self, mchid: str) -> PayCredentials:
        return demo_pay_credentials(mchid)

    def legacy_coupons(self, api: str) -> bool | None:
        return legacy_coupons() if api == EMULATOR else served_legacy_coupons(api)


def provider() -> Provider:
    """What the CLI installs (reconciler.emulation.installed), and a library caller with it."""
    return Provider()


def transport(
    data_file: Path,
    manifests: Path,
    appid: str,
    secret: str,
    warn: Callable[[str], None] | None,
    mchid: str = DEMO_MCHID,
) -> httpx.AsyncBaseTransport:
    """An emulator in this process whose account is kept in `data_file`, serving the card API for `appid` and
    WeChat Pay for merchant `mchid` (with the demo merchant's keys); a new account starts with the cards of
    emulator-cards.json in the `manifests` directory, if there is one (so a copy of the directory works on its
    own). `warn` hears of the faults in force there, which stay from one run to the next."""
    existing = manifests / EXISTING_CARDS_FILE
    config = EmulatorConfig(
        accounts={appid: secret},
        merchants=(mchid,),
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


def served_legacy_coupons(api: str) -> bool | None:
    """What the emulator served at `api` reports of its legacy mode (`wxrec emulator serve --legacy-coupons`);
    None when `api` does not answer as an emulator does (a proxy of WeChat, another server)."""
    base, auth = checked_url(api, "--api (or WXREC_API)")
    try:
        response = httpx.get(base + HEALTH, auth=auth, timeout=10)
    except httpx.HTTPError as exc:
        raise WxrecError(f"cannot ask {endpoint_label(api)} whether it is an emulator in legacy mode ({exc})") from None
    try:
        said = response.json().get("legacy_coupons") if response.status_code == 200 else None
    except (ValueError, AttributeError):  # not JSON, or JSON that is no object
        return None
    return said if isinstance(said, bool) else None


def _faults_notice(spec: str, data_file: Path, from_env: bool) -> str:
    """The faults in force, and the command that clears them, runnable as printed."""
    clear = f"wxrec emulator faults none --data {shlex.quote(str(data_file))}"
    how = f"unset {FAULTS_ENV}, then {clear}" if from_env else clear
    return f"the emulator injects faults: {spec} ({how} clears them)"


def demo_pay_credentials(mchid: str) -> PayCredentials:
    """The emulator's demo merchant keys (public demo values, never a real merchant's) for `mchid`: an emulator
    serves its merchants with these keys (`transport(…, mchid=…)`; `wxrec emulator serve` the demo merchant)."""
    merchant = load_pem_private_key(DEMO_MERCHANT_PRIVATE_KEY.encode(), password=None)
    platform = load_pem_private_key(DEMO_PLATFORM_PRIVATE_KEY.encode(), password=None)
    assert isinstance(merchant, RSAPrivateKey) and isinstance(platform, RSAPrivateKey)  # the demo keys are RSA
    return PayCredentials(mchid, DEMO_MERCHANT_CERT_SERIAL, merchant, platform.public_key(), DEMO_PAY_PUBLIC_KEY_ID)
