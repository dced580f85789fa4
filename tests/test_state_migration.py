"""State written by an earlier release loads, plans and is migrated on the first write; a newer one is refused.

tests/fixtures/state-vN/ holds what the release writing format N left on disk after `wxrec apply` (see
make_state_fixture.py). Each test runs it in either backend: the file as it is, or its document stored as the
newest serial of a PostgreSQL state, with its ledger of deposited codes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.errors import NewerFormat
from reconciler.state import FileBackend, Provenance
from reconciler.state.migrations import STATE_VERSION, Migration, upgraded
from reconciler.state.postgres import PostgresBackend
from tests.support import apply_ok, wxrec
from tests.test_gitops import edit

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("state-v*"))
BACKENDS = ("file", "postgresql")
EDITED = "cards.breakfast-set"


def installed(fixture: Path, tmp_path: Path) -> Path:
    """The fixture's manifests with its state, ledger, emulator account and QR images where apply left them."""
    shop = tmp_path / "shop"
    shutil.copytree(fixture / "manifests", shop)
    shutil.copytree(fixture / "qrcodes", shop / "qrcodes")
    shutil.copytree(fixture / "state.codes", shop / ".wxrec" / "state.codes")
    for name in ("state.json", "emulator.json"):
        shutil.copy(fixture / name, shop / ".wxrec" / name)
    return shop


def ledgers(state: Path) -> dict[str, set[bytes]]:
    """The code hashes of every ledger beside the state file `state`, by address."""
    addresses = [ledger.name.removesuffix(".sha256-64") for ledger in (state.parent / "state.codes").iterdir()]
    return {address: FileBackend(state).code_hashes(address) for address in addresses}


@dataclass
class Release:
    """A fixture's state in one backend: `options` point wxrec at it; `document()` is the newest state as stored."""

    shop: Path
    backend: FileBackend | PostgresBackend
    options: list[str]
    original: dict[str, Any]
    ledgers: dict[str, set[bytes]]

    def document(self) -> dict[str, Any]:
        if isinstance(self.backend, FileBackend):
            text = self.backend.path.read_text(encoding="utf-8")
        else:
            with psycopg.connect(self.options[1].partition("&state_name=")[0], autocommit=True) as db:
                newest = "SELECT body::text FROM wxrec_states WHERE name = %s ORDER BY serial DESC LIMIT 1"
                (text,) = db.execute(newest, (self.backend.name,)).fetchall()[0]
        document: dict[str, Any] = json.loads(text)
        return document

    def store(self, document: dict[str, Any]) -> None:
        """Replace the newest state with `document`, as an earlier (or later) wxrec would have written it."""
        body = json.dumps(document, ensure_ascii=False)
        if isinstance(self.backend, FileBackend):
            self.backend.path.write_text(body, encoding="utf-8")
            return
        with psycopg.connect(self.options[1].partition("&state_name=")[0], autocommit=True) as db:
            db.execute(
                "INSERT INTO wxrec_states (name, serial, lineage, body, author) VALUES (%s, %s, %s, %s::json, 'test') "
                "ON CONFLICT (name, serial) DO UPDATE SET body = excluded.body",
                (self.backend.name, document["serial"], document["lineage"], body),
            )


@pytest.fixture(
    params=[(fixture, backend) for fixture in FIXTURES for backend in BACKENDS],
    ids=[f"{fixture.name}-{backend}" for fixture in FIXTURES for backend in BACKENDS],
)
def release(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Release]:
    fixture, backend = request.param
    shop = installed(fixture, tmp_path)
    written = shop / ".wxrec"
    original = json.loads((written / "state.json").read_text(encoding="utf-8"))
    kept = ledgers(written / "state.json")
    if backend == "file":
        yield Release(shop, FileBackend(written / "state.json"), [], original, kept)
        return
    url = request.getfixturevalue("postgres_state")
    database = PostgresBackend(url, Provenance(shop))
    assert database.load() is None  # creates the tables
    in_postgres = Release(shop, database, ["--state", url], original, kept)
    in_postgres.store(original)
    for address, hashes in kept.items():
        database.add_code_hashes(address, sorted(hashes))
    shutil.rmtree(written / "state.codes")
    (written / "state.json").unlink()
    yield in_postgres
    database.close()


def no_changes(release: Release) -> None:
    plan = wxrec("plan", release.shop, "--api", "emulator", "--detailed-exitcode", *release.options)
    assert plan.exit_code == 0 and "No changes." in plan.output, plan.output


def test_a_state_of_an_earlier_release_plans_no_changes_and_a_plan_writes_nothing(release: Release) -> None:
    no_changes(release)
    assert release.document() == release.original


def test_the_first_write_stores_the_current_format_keeping_every_record_and_the_ledger(release: Release) -> None:
    edit(release.shop, "含美式咖啡两杯、可颂两个。", "含美式咖啡两杯、可颂两个，可外带。")
    apply_ok(release.shop, *release.options)
    written, expected = release.document(), upgraded(release.original, "fixture")
    assert written["version"] == expected["version"] == STATE_VERSION
    assert {**written, "serial": 0, "resources": {}} == {**expected, "serial": 0, "resources": {}}
    assert set(written["resources"]) == set(expected["resources"])
    unedited = {address: record for address, record in expected["resources"].items() if address != EDITED}
    assert {address: written["resources"][address] for address in unedited} == unedited
    assert written["resources"][EDITED]["id"] == expected["resources"][EDITED]["id"]
    assert release.ledgers["codes.gift-codes"], "the fixture deposited codes"
    assert {address: release.backend.code_hashes(address) for address in release.ledgers} == release.ledgers
    no_changes(release)


def test_a_recorded_proxy_password_leaves_state_at_its_first_write_not_at_a_read(release: Release) -> None:
    """Format 2's migration: state written before wxrec hid an --api URL's credentials kept them at rest."""
    if release.original["version"] >= 2:
        pytest.skip("written after credentials were hidden")
    release.store({**release.original, "endpoint": "https://qa:hunter2@proxy.example/wechat"})
    state = release.backend.load()
    assert state is not None and state.endpoint == "https://***@proxy.example/wechat"
    assert "hunter2" in release.document()["endpoint"], "a read writes nothing"
    release.backend.write(state)
    assert release.document()["endpoint"] == "https://***@proxy.example/wechat"
    assert release.document()["version"] == STATE_VERSION


def test_a_state_of_a_newer_format_is_refused_and_kept(release: Release) -> None:
    newer = {**release.original, "version": STATE_VERSION + 1}
    release.store(newer)
    refusal = (
        f"state at {release.backend.location} was written by a newer wxrec (format {STATE_VERSION + 1}); "
        f"this wxrec reads up to {STATE_VERSION}: upgrade wxrec"
    )
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = wxrec(*command, release.shop, "--api", "emulator", *release.options)
        assert result.exit_code == 1 and refusal in result.output, result.output
    assert release.document() == newer


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
