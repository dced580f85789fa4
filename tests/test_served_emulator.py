"""The quick start against `wxrec emulator serve`: a real server process, real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_emulator/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the emulator server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_plan_apply_plan_against_the_served_emulator(served: str, example_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["plan", str(example_dir), "--api", served, "--detailed-exitcode"])
    assert first.exit_code == 2 and "Plan: 8 to create" in first.output, first.output
    applied = runner.invoke(cli, ["apply", str(example_dir), "--api", served, "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(cli, ["plan", str(example_dir), "--api", served, "--detailed-exitcode"])
    assert again.exit_code == 0 and "No changes." in again.output, again.output
    live = httpx.get(f"{served}/_emulator/cards").json()["cards"]
    assert len(live) == 4
