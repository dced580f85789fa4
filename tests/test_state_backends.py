"""One contract for every state backend: the file backend and PostgreSQL pass the same tests."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import WxrecError
from reconciler.state import State, StateBackend, code_hash, open_backend
from tests.support import EXAMPLE, with_state_name, wxrec

Fresh = Callable[[], str]


@pytest.fixture(params=["file", "postgres"])
def fresh_location(request: pytest.FixtureRequest, tmp_path: Path) -> Fresh:
    """Makes the location of a new, empty state: a file path, or a PostgreSQL URL with a state name of its own."""
    if request.param == "file":
        return lambda: str(Path(tempfile.mkdtemp(dir=tmp_path)) / "state.json")
    url: str = request.getfixturevalue("postgres_url")
    return lambda: with_state_name(url, f"test-{uuid.uuid4()}")


@pytest.fixture
def location(fresh_location: Fresh) -> str:
    return fresh_location()


def open_state(location: str, manifest_dir: Path | None = None) -> StateBackend:
    """A backend as one run of wxrec opens it: several of them on one location are several runs."""
    directory = manifest_dir or Path(tempfile.gettempdir())
    return open_backend(location, directory, directory / "unused-default.json")


def test_a_new_state_starts_at_serial_1_and_reads_back_whole(location: str) -> None:
    backend = open_state(location)
    assert backend.load() is None
    state = State(appid="wx0123456789abcdef", endpoint="emulator")
    state.resources["cards.a"] = {"id": "p1", "card_type": "CASH", "applied": {"title": "拿铁"}}
    state.intents["qrcodes.b"] = {"action": "create", "started": 1700000000}
    backend.write(state)
    backend.write(state)
    assert state.serial == 2
    loaded = open_state(location).load()
    assert loaded is not None and loaded.to_dict() == state.to_dict()


def test_a_write_after_someone_elses_write_is_refused_and_overwrites_nothing(location: str) -> None:
    first, second = open_state(location), open_state(location)
    first.write(State(appid="wx0123456789abcdef", endpoint="emulator"))
    mine, theirs = first.load(), second.load()
    assert mine is not None and theirs is not None
    theirs.resources["cards.theirs"] = {"id": "p2", "card_type": "CASH"}
    second.write(theirs)
    mine.resources["cards.mine"] = {"id": "p1", "card_type": "CASH"}
    with pytest.raises(WxrecError, match=r"changed under this run: it read serial 1 .* now serial 2") as refused:
        first.write(mine)
    assert "Nothing was overwritten" in str(refused.value)
    assert mine.serial == 1
    stored = open_state(location).load()
    assert stored is not None and set(stored.resources) == {"cards.theirs"} and stored.serial == 2


def test_a_state_of_another_lineage_is_refused_even_at_the_stored_serial(location: str) -> None:
    """Another state (say, from another account's location) must not continue this one's history."""
    backend = open_state(location)
    ours = State(appid="wx0123456789abcdef", endpoint="emulator")
    backend.write(ours)
    other = State(appid="wx0123456789abcdef", endpoint="emulator", serial=ours.serial)
    with pytest.raises(WxrecError, match=f"lineage {ours.lineage}"):
        backend.write(other)
    stored = open_state(location).load()
    assert stored is not None and stored.lineage == ours.lineage


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["load", "write", "fresh"]), st.integers(0, 2)), max_size=12))
def test_interleaved_runs_never_overwrite_a_newer_state(fresh_location: Fresh, steps: list[tuple[str, int]]) -> None:
    """Three runs load, write, or start a state of their own in any order: a write lands exactly when the run
    read the newest state (nothing stored counts as serial 0), and what is stored is always the last write."""
    location = fresh_location()
    runs = [open_state(location) for _ in range(3)]
    held: list[State | None] = [None, None, None]
    stored: dict[str, object] | None = None
    for number, (operation, run) in enumerate(steps):
        if operation == "load":
            held[run] = runs[run].load()
            continue
        state = held[run]
        if operation == "fresh" or state is None:
            state = held[run] = State(appid="wx0123456789abcdef", endpoint="emulator")
        state.resources[f"cards.run{run}"] = {"id": f"p{number}", "card_type": "CASH"}
        follows = (state.serial, state.lineage) == (stored["serial"], stored["lineage"]) if stored else not state.serial
        if follows:
            runs[run].write(state)
            stored = state.to_dict()
        else:
            with pytest.raises(WxrecError, match="changed under this run"):
                runs[run].write(state)
        now = open_state(location).load()
        assert (now.to_dict() if now else None) == stored


HOLDER = """
import sys, time
from pathlib import Path
from reconciler.state import open_backend
backend = open_backend(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[2]) / "unused.json")
with backend.lock(5):
    print("locked", flush=True)
    time.sleep(120)
"""


def locked_out(location: str, timeout: float) -> str:
    """The error of a run that cannot get the lock."""
    with pytest.raises(WxrecError) as refused, open_state(location).lock(timeout):
        pass
    return str(refused.value)


def test_the_lock_names_its_holder_and_dies_with_a_killed_holder(location: str, tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        started = time.monotonic()
        refusal = locked_out(location, timeout=0.5)
        assert time.monotonic() - started >= 0.5, "it waits for the timeout before giving up"
        assert re.search(rf"locked by another run \(lock id [-0-9a-f]+: host .*, pid {holder.pid},", refusal), refusal
        lock_id = refusal.split("lock id ")[1].split(":")[0]
        assert f"`wxrec state unlock . {lock_id}`" in refusal, "the unlock command names the holder's lock id"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    started = time.monotonic()
    with open_state(location).lock(timeout=10):
        assert time.monotonic() - started < 5, "a killed holder's lock is free at once, not after the timeout"


def test_unlock_refuses_while_the_holder_runs_here_and_a_wrong_id(location: str, tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        lock_id = locked_out(location, timeout=0).split("lock id ")[1].split(":")[0]
        with pytest.raises(WxrecError, match=f"pid {holder.pid} on this host still holds the lock"):
            open_state(location).unlock(lock_id)
        with pytest.raises(WxrecError, match="nothing was changed"):
            open_state(location).unlock("not-the-id")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_the_code_ledger_appends_batches_copies_and_drops(location: str) -> None:
    backend = open_state(location)
    first = [code_hash(f"code-{n}") for n in range(100)]
    second = [code_hash(f"code-{n}") for n in range(100, 150)]
    backend.add_code_hashes("codes.spring", first)
    backend.add_code_hashes("codes.spring", second)
    backend.add_code_hashes("codes.other", [code_hash("elsewhere")])
    assert open_state(location).code_hashes("codes.spring") == set(first + second)
    backend.copy_code_hashes("codes.spring", "codes.renamed")
    assert open_state(location).code_hashes("codes.renamed") == set(first + second)
    backend.drop_code_hashes("codes.spring")
    assert open_state(location).code_hashes("codes.spring") == set()
    assert open_state(location).code_hashes("codes.other") == {code_hash("elsewhere")}


def test_history_records_each_write_with_author_and_commit_newest_first(location: str, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    git = ["git", "-C", str(manifests), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "manifests"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    state = State(appid="wx0123456789abcdef", endpoint="emulator")
    open_state(location, manifests).write(state)
    outside_git = tmp_path / "plain"
    outside_git.mkdir()
    open_state(location, outside_git).write(state)
    history = open_state(location).history(10)
    assert [(r.serial, r.commit) for r in history] == [(2, None), (1, head)]
    assert all(r.lineage == state.lineage and "@" in r.author and r.written_at > time.time() - 60 for r in history)
    assert [r.serial for r in open_state(location).history(1)] == [2]


def declaring(directory: Path, *addresses: str) -> Path:
    """Manifests in `directory` declaring `addresses` (gift cards; codes in the first card), as after a rename."""
    example = (EXAMPLE.parent / "gift-codes" / "gift.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(example)["cards"]["gift-card"]
    keys = {kind: [a.split(".")[1] for a in addresses if a.startswith(f"{kind}.")] for kind in ("cards", "codes")}
    cards = {key: spec for key in keys["cards"] or ["gift"]}
    codes = {key: {"card": next(iter(cards)), "file": "gift.txt"} for key in keys["codes"]}
    (directory / "gift.txt").write_text("one\ntwo\n", encoding="utf-8")
    text = yaml.safe_dump({"cards": cards, "codes": codes} if codes else {"cards": cards}, allow_unicode=True)
    (directory / "cards.yaml").write_text(text, encoding="utf-8")
    return directory


def state_with_two_cards(location: str) -> State:
    backend = open_state(location)
    state = State(appid="wx0123456789abcdef", endpoint="emulator")
    cash = {"card_type": "CASH"}
    state.resources = {"cards.a": {"id": "pA", **cash}, "cards.b": {"id": "pB", **cash}, "codes.a": {"card": "a"}}
    backend.write(state)
    backend.add_code_hashes("codes.a", [code_hash("one"), code_hash("two")])
    return state


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("cards.a", "cards.b", "cards.b is already in state"),
        ("cards.missing", "cards.c", "cards.missing is not in state"),
        ("cards.a", "codes.c", "both must be addresses of one kind"),
        ("menu", "cards.c", "both must be addresses of one kind"),
        ("cards.a", "cards.Bad", "both must be addresses of one kind"),
        ("cards.a", "cards.typo", "cards.typo is not declared in the manifests"),
    ],
)
def test_state_mv_refusals_change_nothing(location: str, tmp_path: Path, old: str, new: str, why: str) -> None:
    before = state_with_two_cards(location)
    declaring(tmp_path, "cards.b", "cards.c")
    result = wxrec("state", "mv", tmp_path, old, new, "--state", location)
    assert result.exit_code == 1 and why in result.output, result.output
    after = open_state(location).load()
    assert after is not None and after.to_dict() == before.to_dict()


def test_state_mv_moves_the_record_and_its_ledger_and_keeps_a_backup(location: str, tmp_path: Path) -> None:
    before = state_with_two_cards(location)
    result = wxrec("state", "mv", declaring(tmp_path, "codes.renamed"), "codes.a", "codes.renamed", "--state", location)
    assert result.exit_code == 0 and "WeChat was not touched" in result.output, result.output
    backend = open_state(location)
    after = backend.load()
    assert after is not None and after.serial == before.serial + 1
    assert after.resources["codes.renamed"] == before.resources["codes.a"] and "codes.a" not in after.resources
    assert backend.code_hashes("codes.renamed") == {code_hash("one"), code_hash("two")}
    assert backend.code_hashes("codes.a") == set()
    assert f"Backup: {backup_of(location, before.serial)}" in result.output


def backup_of(location: str, serial: int) -> str:
    return f"{location}.backup" if location.endswith(".json") else f"serial {serial} in "


def test_state_rm_drops_the_ledger_and_history_lists_every_write(location: str, tmp_path: Path) -> None:
    state_with_two_cards(location)
    assert wxrec("state", "rm", tmp_path, "codes.a", "--state", location).exit_code == 0
    assert open_state(location).code_hashes("codes.a") == set()
    shown = wxrec("state", "history", tmp_path, "--state", location, "--format", "json")
    assert [entry["serial"] for entry in json.loads(shown.output)] == [2, 1]
    text = wxrec("state", "history", tmp_path, "--state", location, "--limit", "1").output
    assert text.startswith("2\t") and len(text.splitlines()) == 1


def test_state_rm_drops_a_ledger_left_without_its_record(location: str, tmp_path: Path) -> None:
    """An older wxrec forgot a stock's record but kept its codes ledger: rm is the way to let go of it."""
    before = state_with_two_cards(location)
    open_state(location).add_code_hashes("pay_coupons.old", [code_hash("one")])
    result = wxrec("state", "rm", tmp_path, "pay_coupons.old", "--state", location)
    assert result.exit_code == 0 and "Removed pay_coupons.old's codes ledger (1 code)" in result.output, result.output
    backend = open_state(location)
    after = backend.load()
    assert backend.code_hashes("pay_coupons.old") == set() and backend.code_hashes("codes.a")
    assert after is not None and after.serial == before.serial + 1 and after.resources == before.resources
    nothing = wxrec("state", "rm", tmp_path, "pay_coupons.old", "--state", location)
    assert nothing.exit_code == 1 and "pay_coupons.old is not in state; nothing was changed" in nothing.output
    again = open_state(location).load()
    assert again is not None and again.serial == after.serial


def test_only_wxrec_s_own_directory_is_git_ignored(tmp_path: Path) -> None:
    default = open_backend(None, tmp_path, tmp_path / ".wxrec" / "state.json")
    chosen = open_backend(str(tmp_path / "state" / "wxrec-state.json"), tmp_path, tmp_path / ".wxrec" / "state.json")
    for backend in (default, chosen):
        backend.write(State(appid="wx", endpoint="emulator"))
    assert (tmp_path / ".wxrec" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    assert not (tmp_path / "state" / ".gitignore").exists(), "a --state directory is often committed on purpose"
