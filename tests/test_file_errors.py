"""File-system errors are one line naming the path and what to do, never a traceback; QR images lost to one
are drawn again from the url in state by the next apply, which plan announces."""

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
from tests.test_gitops import GOLDEN, UPDATE, stable
from tests.test_qr_images import decode_png

QR_KEYS = ("class-poster", "counter-poster", "follow-us", "window-poster")
OUTPUT_SUFFIXES = {"text": "txt", "markdown": "md", "json": "json"}


def emulator_calls(directory: Path) -> list[dict[str, Any]]:
    data = json.loads((directory / ".wxrec" / "emulator.json").read_text(encoding="utf-8"))
    return list(data["calls"]["entries"])


def one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_qr_images_a_bad_directory_lost_are_drawn_again_from_state(example_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    failed = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--qrcode-dir", blocker / "qr")
    assert failed.exit_code == 1
    for key in QR_KEYS:
        assert f"qrcodes.{key}: create FAILED: created http" in failed.stdout
    assert f"recorded it in state, but cannot write QR images into {blocker / 'qr'}: Not a directory" in failed.stdout
    one_line_error(failed.stderr)

    planned = wxrec("plan", example_dir, "--api", "emulator", "--format", "json", "--detailed-exitcode")
    assert planned.exit_code == 2, "drawing images is a change apply will make"
    changes = json.loads(planned.stdout)["changes"]
    assert [(c["address"], c["action"]) for c in changes] == [(f"qrcodes.{key}", "render") for key in QR_KEYS]
    html = wxrec("plan", example_dir, "--api", "emulator", "--format", "html")
    assert html.stdout.count('data-action="render"') == len(QR_KEYS)

    calls_before = len(emulator_calls(example_dir))
    drawn = apply_ok(example_dir)
    assert f"Apply complete: {len(QR_KEYS)} done, 0 failed." in drawn.stdout
    made = {c["path"] for c in emulator_calls(example_dir)[calls_before:]}
    assert not made & {"/card/qrcode/create", "/cgi-bin/qrcode/create"}, "no WeChat call for an image"
    state = json.loads((example_dir / ".wxrec" / "state.json").read_text(encoding="utf-8"))
    for key in QR_KEYS:
        assert decode_png(example_dir / "qrcodes" / f"{key}.png") == [state["resources"][f"qrcodes.{key}"]["url"]]
    assert "No changes." in wxrec("plan", example_dir, "--api", "emulator").stdout


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_golden_plan_of_a_missing_qr_image(example_dir: Path, output: str) -> None:
    apply_ok(example_dir)
    (example_dir / "qrcodes" / "follow-us.svg").unlink()
    result = wxrec("plan", example_dir, "--api", "emulator", "--format", output)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"plan-render.{OUTPUT_SUFFIXES[output]}"
    text = stable(result.stdout, example_dir)
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


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
    assert len(titles) == len(set(titles)) == 6, "the three existing coupons and the three made, none twice"


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
