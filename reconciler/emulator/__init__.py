"""A faithful stand-in for the WeChat card API, written from the API documents alone.

It imports nothing from ``reconciler`` outside this package, so a misunderstanding in the
reconciler cannot hide in the emulator too.
"""

from __future__ import annotations

from .app import create_app, faults_in_force
from .config import DEMO_APPID, DEMO_SECRET, FAULTS_ENV, EmulatorConfig, default_accounts, faults_from_env
from .fault_spec import FaultSpec, parse_faults
from .faults import SimulatedConnectionReset

__all__ = [
    "DEMO_APPID",
    "DEMO_SECRET",
    "FAULTS_ENV",
    "EmulatorConfig",
    "FaultSpec",
    "SimulatedConnectionReset",
    "create_app",
    "default_accounts",
    "faults_from_env",
    "faults_in_force",
    "parse_faults",
]
