"""pay_coupons under faults: answers dropped after WeChat Pay made the change, resets, 500s and 503s."""

from __future__ import annotations

from pathlib import Path

from benchmarks.pay_campaign import PAY_FAULTS, run_pay_campaign


async def test_pay_fault_campaign_duplicates_no_stock_and_overshoots_no_budget(tmp_path: Path) -> None:
    figures = await run_pay_campaign(rounds=60, seed=5, faults=PAY_FAULTS, directory=tmp_path)
    assert figures.faults_injected["drop"] > 0 and figures.faults_injected["reset"] > 0, figures.table()
    assert figures.lost_creates_adopted + figures.lost_creates_resent > 0, figures.table()
    assert figures.duplicated_stocks == 0 and figures.budgets_overshot == 0, figures.table()
    assert figures.ok, f"{figures.table()}\n{figures.final_plan}"
