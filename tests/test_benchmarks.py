"""Small, fast runs of the benchmarks, so that they keep working (the figures come from `python -m benchmarks.…`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks import table
from benchmarks.deposit_bench import measure as measure_deposit
from benchmarks.loader_bench import measure, write_cards
from benchmarks.plan_bench import cpu_per_card, populate, timed_plan
from tests.support import served_emulator


def test_deposit_bench_deposits_each_code_once(tmp_path: Path) -> None:
    with served_emulator() as url:
        row = measure_deposit(url, tmp_path, 1_000, 8, latency_ms=1)
    assert row.held == 1_000 and row.deposit_calls == 10, "every code sent in exactly one deposit call"
    assert row.calls >= 2 * row.deposit_calls, "each deposit is checked with checkcode"
    assert row.seconds > 0 and row.bound > 0


def test_plan_bench_plans_no_changes_and_counts_calls(tmp_path: Path) -> None:
    with served_emulator() as url:
        asyncio.run(populate(url, tmp_path, 30))
        seconds, calls, rss = timed_plan(url, tmp_path, 8)
    assert calls >= 30, "one card/get per managed card"
    assert seconds > 0 and rss > 0


def test_diff_cpu_figures_plan_nothing_for_equal_cards_and_a_change_for_changed_nested_fields() -> None:
    # cpu_per_card asserts per card that the plan is empty, or (nested_change) that it holds a change.
    assert cpu_per_card(20) > 0
    assert cpu_per_card(20, nested_change=True) > 0


def test_the_issue_19_table_measures_each_figure_against_its_baseline() -> None:
    """benchmarks.table at a tiny size: every row is measured, with a baseline from the same run."""
    figures = [
        table.version_figure(runs=1),
        table.validate_figure(cards=20, runs=1),
        *table.per_call_figures(calls=40),
        *table.plan_figures(cards=10, latency_ms=1),
        table.typical_figure(latency_ms=1),
        *table.deposit_figures(codes=200, latency_ms=1),
    ]
    assert all(figure.value > 0 and figure.baseline > 0 for figure in figures)
    names = [figure.name for figure in figures]
    assert "client CPU per card/get, wxrec" in names and any(name.startswith("typical") for name in names)
    assert table.table(figures).count("\n") == len(figures) + 1


def test_loader_bench_times_each_figure_against_the_c_loader(tmp_path: Path) -> None:
    write_cards(tmp_path, 20)
    figures = measure(tmp_path, 1)
    assert set(figures) == {
        "PyYAML C loader alone (s)",
        "loader (values)",
        "positions of every path",
        "validate (load_manifest)",
    }
    assert all(len(values) == 1 and values[0] >= 0 for values in figures.values())
