"""Reading manifests: the loader and `validate` against PyYAML's C loader alone, on the same file, in one run.

    python -m benchmarks.loader_bench [--cards 10000] [--rounds 3]

The file is plan_bench's (N GROUPON cards as `yaml.safe_dump` writes them). Each round times, by process CPU,
PyYAML's C loader alone (`yaml.load` with CSafeLoader), the loader (`load_document`: values, no positions
until one is asked for), the positions of every path (what an error pays once), and the whole validation
(`load_manifest`); the table gives the medians and each figure's ratio to the C loader of its own round.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchmarks.plan_bench import spec
from reconciler.manifest import load_manifest
from reconciler.manifest.loader import load_document


def write_cards(directory: Path, count: int) -> Path:
    path = directory / "cards.yaml"
    cards = {f"card-{n:05d}": spec(n) for n in range(count)}
    path.write_text(yaml.safe_dump({"cards": cards}, allow_unicode=True), encoding="utf-8")
    return path


def cpu(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(directory: Path, rounds: int) -> dict[str, list[float]]:
    """Per figure, its ratio to the C loader in each round (the C loader's own row: its seconds)."""
    text = (directory / "cards.yaml").read_text(encoding="utf-8")
    figures: dict[str, list[float]] = {}
    for _ in range(rounds):
        base = cpu(lambda: yaml.load(text, Loader=yaml.CSafeLoader))
        figures.setdefault("PyYAML C loader alone (s)", []).append(base)
        for name, work in (
            ("loader (values)", lambda: load_document(directory)),
            ("positions of every path", lambda: load_document(directory).positions),
            ("validate (load_manifest)", lambda: load_manifest(directory)),
        ):
            figures.setdefault(name, []).append(cpu(work) / base)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        size = write_cards(Path(scratch), args.cards).stat().st_size
        figures = measure(Path(scratch), args.rounds)
    print(f"{args.cards:,} cards, {size / 1e6:.1f} MB, {args.rounds} rounds (medians; min–max)\n")
    print("| figure | median | min–max |\n|---|---:|---:|")
    for name, values in figures.items():
        unit = "" if name.endswith("(s)") else "×"
        print(f"| {name} | {statistics.median(values):.2f}{unit} | {min(values):.2f}–{max(values):.2f}{unit} |")


if __name__ == "__main__":
    main()
