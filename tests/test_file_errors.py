"""File-system errors are one line naming the path and what to do, never a traceback."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import filelock
import pytest

from tests.support import apply_ok, wxrec


def one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_a_full_disk_stops_apply_with_one_line_and_the_next_apply_finishes(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkstemp = tempfile.mkstemp
    writes = [0]

    def disk_fills_up(*args: Any, **kwargs: Any) -> tuple[int, str]:
        """The disk is full from the fourth state write on (the emulator's own file is spared)."""
        writes[0] += kwargs.get("prefix") == ".state-"
        if writes[0] > 3 and kwargs.get("prefix") == ".state-":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", disk_fills_up)
    full = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--format", "json")
    assert full.exit_code == 1
    state_file = example_dir / ".wxrec" / "state.json"
    expected = f"cannot write state {state_file}: No space left on device; free some space on that disk, then run apply"
    assert expected in one_line_error(full.stderr)
    report = json.loads(full.stdout)
    planned = {c["address"] for c in report["plan"]["changes"]}
    assert {o["address"] for o in report["apply"]["outcomes"]} == planned, "every planned action has an outcome"
    assert report["apply"]["summary"]["not attempted"] > 0 and expected in report["apply"]["stopped"]

    monkeypatch.setattr(tempfile, "mkstemp", real_mkstemp)
    apply_ok(example_dir)
    assert "No changes." in wxrec("plan", example_dir, "--api", "emulator").stdout
    data = json.loads((example_dir / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    titles = [c["base"]["title"] for c in next(iter(data["accounts"].values()))["cards"]]
    assert len(titles) == len(set(titles)) == 4, "no card made twice"


def test_a_read_only_lock_file_is_one_line(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock_file = example_dir / ".wxrec" / "state.json.lock"

    def read_only(self: filelock.BaseFileLock, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(lock_file))

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)
    for command in (("apply", example_dir, "--api", "emulator", "--auto-approve"), ("state", "rm", example_dir, "x.y")):
        result = wxrec(*command)
        assert result.exit_code == 1
        error = one_line_error(result.stderr)
        assert f"cannot lock state with {lock_file}: Read-only file system; " in error
        assert "--state" in error, "says where else state can live"


def test_saving_a_plan_into_a_missing_directory_is_one_line(example_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "p.json"
    result = wxrec("plan", example_dir, "--api", "emulator", "-out", target)
    assert result.exit_code == 1
    assert one_line_error(result.stderr) == (
        f"Error: cannot save the plan to {target}: No such file or directory; its directory does not exist: "
        "create it or choose another path"
    )


def test_any_other_file_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = wxrec("export", blocker / "shop", "--api", "emulator")
    assert result.exit_code == 1
    assert one_line_error(result.stderr).startswith(f"Error: cannot use {blocker / 'shop'}: ")
