"""State written by an earlier release loads, plans and is migrated on the first write; a newer one is refused.

tests/fixtures/state-vN/ holds what release N's `wxrec apply` left on disk (see make_state_fixture.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.errors import NewerFormat
from reconciler.state import Provenance
from reconciler.state.migrations import STATE_VERSION, Migration, upgraded
from reconciler.state.postgres import PostgresBackend
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


def newer(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "version": STATE_VERSION + 1}


def refusal(location: str) -> str:
    return (
        f"state at {location} was written by a newer wxrec (format {STATE_VERSION + 1}); "
        f"this wxrec reads up to {STATE_VERSION}: upgrade wxrec"
    )


def test_a_state_file_of_a_newer_format_is_refused_and_kept(tmp_path: Path) -> None:
    shop = installed(FIXTURES[-1], tmp_path)
    state = shop / ".wxrec" / "state.json"
    state.write_text(json.dumps(newer(stored(state))), encoding="utf-8")
    before = state.read_bytes()
    for command in (("plan", shop, "--api", "emulator"), ("apply", shop, "--api", "emulator", "--auto-approve")):
        result = wxrec(*command)
        assert result.exit_code == 1 and refusal(str(state)) in result.output, result.output
    assert state.read_bytes() == before


def stored_in_postgres(url: str, document: dict[str, Any], ledgers: Path) -> PostgresBackend:
    """`document` as the newest serial of the state at `url`, as it was written (a backend writes its own format),
    with the ledgers of `ledgers` (a state.codes directory)."""
    backend = PostgresBackend(url, Provenance(ledgers))
    assert backend.load() is None  # creates the tables
    with psycopg.connect(url.partition("&state_name=")[0], autocommit=True) as db:
        db.execute(
            "INSERT INTO wxrec_states (name, serial, lineage, body, author) VALUES (%s, %s, %s, %s::json, 'test')",
            (backend.name, document["serial"], document["lineage"], json.dumps(document, ensure_ascii=False)),
        )
    for ledger in ledgers.iterdir():
        backend.add_code_hashes(ledger.name.removesuffix(".sha256-64"), [ledger.read_bytes()])
    return backend


def test_a_state_in_postgresql_of_a_newer_format_is_refused(tmp_path: Path, postgres_state: str) -> None:
    shop = installed(FIXTURES[-1], tmp_path)
    written = shop / ".wxrec"
    backend = stored_in_postgres(postgres_state, newer(stored(written / "state.json")), written / "state.codes")
    result = wxrec("plan", shop, "--api", "emulator", "--state", postgres_state)
    assert result.exit_code == 1 and refusal(backend.location) in result.output, result.output
    backend.close()


def step(name: str) -> Migration:
    """A test-only migration that records that it ran, and in which order."""
    return lambda document: {**document, "steps": [*document.get("steps", []), name]}


@pytest.mark.parametrize(("version", "steps"), [(1, ["1→2", "2→3"]), (2, ["2→3"]), (3, [])])
def test_the_chain_runs_every_migration_from_the_documents_format_in_order(version: int, steps: list[str]) -> None:
    chain = (step("1→2"), step("2→3"))
    document = upgraded({"version": version, "serial": 4}, "here", chain)
    assert document == {"version": 3, "serial": 4, **({"steps": steps} if steps else {})}
    with pytest.raises(NewerFormat, match=r"state at here was written by a newer wxrec \(format 4\)"):
        upgraded({"version": 4}, "here", chain)
