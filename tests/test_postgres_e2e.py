"""wxrec with its state in PostgreSQL, through the real CLI against the emulator."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psycopg
import pytest

from reconciler.errors import WxrecError
from reconciler.state import Provenance, State
from reconciler.state.postgres import PostgresBackend
from tests.support import apply_ok, wxrec
from tests.test_faults_e2e import live_cards, many_cards, wxrec_process


def test_apply_then_plan_says_no_changes_and_nothing_is_kept_on_disk(example_dir: Path, postgres_state: str) -> None:
    apply_ok(example_dir, "--state", postgres_state)
    plan = wxrec("plan", example_dir, "--api", "emulator", "--detailed-exitcode", env={"WXREC_STATE": postgres_state})
    assert plan.exit_code == 0 and "No changes" in plan.output, plan.output
    assert not (example_dir / ".wxrec" / "state.json").exists()
    listed = wxrec("state", "list", example_dir, "--state", postgres_state).output.splitlines()
    assert sum(line.startswith("cards.") for line in listed) == 6, "three made, three existing coupons imported"
    history = json.loads(wxrec("state", "history", example_dir, "--format", "json", "--limit", "1000").output)
    assert history == [], "without --state, history is the (empty) file backend's"
    history = json.loads(
        wxrec("state", "history", example_dir, "--state", postgres_state, "--format", "json", "--limit", "1000").output
    )
    assert [entry["serial"] for entry in history] == list(range(len(history), 0, -1))


def test_the_password_is_never_printed(example_dir: Path) -> None:
    url = "postgresql://wxrec:hunter2-s3cret@127.0.0.1:1/wxrec?password=hunter2-s3cret&connect_timeout=2"
    for args in (["plan", example_dir, "--api", "emulator"], ["state", "list", example_dir]):
        result = wxrec(*args, "--state", url)
        assert result.exit_code == 1 and "cannot connect to PostgreSQL" in result.output, result.output
        assert "hunter2" not in result.output and "postgresql://wxrec@127.0.0.1:1/wxrec" in result.output


def test_two_applies_in_two_processes_one_waits_and_nothing_is_duplicated(tmp_path: Path, postgres_state: str) -> None:
    directory = tmp_path / "shop"
    many_cards(directory, 10)
    runs = [
        wxrec_process(directory, "apply", "--auto-approve", "--lock-timeout", "120", "--state", postgres_state)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Apply complete: 10 done" in out for out in outputs) == 1, outputs
    assert sum("No changes." in out for out in outputs) == 1, outputs
    assert len(live_cards(directory)) == 10


def database_of(state_url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(state_url.partition("&state_name=")[0], autocommit=True)


def test_unlock_ends_a_hung_holders_session_so_it_can_no_longer_write(tmp_path: Path, postgres_state: str) -> None:
    hung = PostgresBackend(postgres_state, Provenance(tmp_path))
    with hung.lock(timeout=1):
        state = hung.load() or State(appid="wx0123456789abcdef", endpoint="emulator")
        with database_of(postgres_state) as db:
            moved = "UPDATE wxrec_locks SET host = 'vanished-host' WHERE name = %s RETURNING lock_id"
            (lock_id,) = db.execute(moved, (hung.name,)).fetchall()[0]
        broken = wxrec("state", "unlock", tmp_path, str(lock_id), "--state", postgres_state)
        assert broken.exit_code == 0, broken.output
        taker = PostgresBackend(postgres_state, Provenance(tmp_path))
        with taker.lock(timeout=2):
            taker.write(taker.load() or State(appid="wx0123456789abcdef", endpoint="emulator"))
        with pytest.raises(WxrecError, match="changed under this run"):
            hung.write(state)


def test_bodies_of_a_runs_intermediate_writes_are_retired_but_history_is_kept(
    tmp_path: Path, postgres_state: str
) -> None:
    backend = PostgresBackend(postgres_state, Provenance(tmp_path))
    state = State(appid="wx0123456789abcdef", endpoint="emulator")
    with backend.lock(timeout=1):
        for _ in range(130):
            backend.write(state)
    with backend.lock(timeout=1):
        backend.write_with_backup(state)
    with backend.lock(timeout=1):
        for _ in range(101):
            backend.write(state)
    with database_of(postgres_state) as db:
        rows = db.execute(
            "SELECT serial FROM wxrec_states WHERE name = %s AND body IS NOT NULL ORDER BY serial", (backend.name,)
        ).fetchall()
    kept = [serial for (serial,) in rows]
    assert kept == [130, 131, *range(133, 233)], "each run's last state and the last 100 keep their bodies"
    assert len(backend.history(1000)) == 232
    loaded = backend.load()
    assert loaded is not None and loaded.serial == 232


def test_kill_9_mid_apply_then_rerun_converges_without_duplicates(tmp_path: Path, postgres_state: str) -> None:
    directory = tmp_path / "shop"
    many_cards(directory, 30)
    backend = PostgresBackend(postgres_state, Provenance(tmp_path))
    for pause in (0.1, 0.3):
        before = next(iter(backend.history(1)), None)
        process = wxrec_process(directory, "apply", "--auto-approve", "--state", postgres_state, faults="latency=40ms")
        deadline = time.monotonic() + 30
        while next(iter(backend.history(1)), None) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(pause)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert 0 < len(live_cards(directory)) < 30, "the kills should land mid-apply"
    final = wxrec_process(directory, "apply", "--auto-approve", "--lock-timeout", "5", "--state", postgres_state)
    output = final.communicate(timeout=120)[0].decode()
    assert final.returncode == 0, output
    cards = live_cards(directory)
    assert sorted(str(c["base"]["title"]) for c in cards) == [f"门票{n:02d}" for n in range(30)]
    state = backend.load()
    assert state is not None and state.intents == {}
    assert {r["id"] for r in state.resources.values()} == {c["card_id"] for c in cards}
