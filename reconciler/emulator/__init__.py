"""A faithful stand-in for the WeChat card API, written from the API documents alone.

It imports nothing from ``reconciler`` outside this package, so a misunderstanding in the
reconciler cannot hide in the emulator too.
"""

from __future__ import annotations

from .app import create_app, faults_in_force
from .config import (
    DEMO_APPID,
    DEMO_SECRET,
    FAULTS_ENV,
    LEGACY_COUPONS_ENV,
    EmulatorConfig,
    default_accounts,
    faults_from_env,
    legacy_coupons_from_env,
)
from .existing_cards import FILE_NAME as EXISTING_CARDS_FILE
from .existing_cards import ExistingCardsError
from .fault_spec import FaultSpec, parse_faults
from .faults import SimulatedConnectionReset

__all__ = [
    "DEMO_APPID",
    "DEMO_SECRET",
    "EXISTING_CARDS_FILE",
    "FAULTS_ENV",
    "LEGACY_COUPONS_ENV",
    "EmulatorConfig",
    "ExistingCardsError",
    "FaultSpec",
    "SimulatedConnectionReset",
    "create_app",
    "default_accounts",
    "faults_from_env",
    "faults_in_force",
    "legacy_coupons_from_env",
    "parse_faults",
]
