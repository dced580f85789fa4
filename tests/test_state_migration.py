"""State written by an earlier release loads, plans and is migrated on the first write; a newer one is refused.

tests/fixtures/state-vN/ holds what release N's `wxrec apply` left on disk (see make_state_fixture.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import wxrec

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("state-v*"))


def installed(fixture: Path, tmp_path: Path) -> Path:
    """The fixture's manifests with its state, ledger, emulator account and QR images where apply left them."""
    shop = tmp_path / "shop"
    shutil.copytree(fixture / "manifests", shop)
    shutil.copytree(fixture / "qrcodes", shop / "qrcodes")
    shutil.copytree(fixture / "state.codes", shop / ".wxrec" / "state.codes")
    for name in ("state.json", "emulator.json"):
        shutil.copy(fixture / name, shop / ".wxrec" / name)
    return shop


def stored(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_a_state_of_an_earlier_release_plans_no_changes_against_its_account(fixture: Path, tmp_path: Path) -> None:
    shop = installed(fixture, tmp_path)
    before = (shop / ".wxrec" / "state.json").read_bytes()
    plan = wxrec("plan", shop, "--api", "emulator", "--detailed-exitcode")
    assert plan.exit_code == 0 and "No changes." in plan.output, plan.output
    assert (shop / ".wxrec" / "state.json").read_bytes() == before, "plan never writes state"
