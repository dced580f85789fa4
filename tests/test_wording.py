"""What wxrec says reads as English: plurals agree with their counts, and no sentence says what did not happen."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reconciler.english import counted
from reconciler.render.card_face import validity
from tests.support import EXAMPLE, RUN_LEFTOVERS, wxrec


@given(st.integers(min_value=0, max_value=10_000))
def test_a_count_takes_the_noun_in_its_number(count: int) -> None:
    words = counted(count, "code").split(" ")
    assert words == [str(count), "code" if count == 1 else "codes"]
    assert counted(count, "QR image", "QR images").endswith("QR image" if count == 1 else "QR images")


def test_a_term_of_days_is_counted_in_english() -> None:
    term = {"base_info.date_info.type": "DATE_TYPE_FIX_TERM"}
    assert validity({**term, "base_info.date_info.fixed_term": 1}) == "Valid 1 day, from the day it is claimed"
    later = {**term, "base_info.date_info.fixed_term": 30, "base_info.date_info.fixed_begin_term": 1}
    assert validity(later) == "Valid 30 days, from 1 day after claiming"


def test_one_code_is_deposited_in_one_call(tmp_path: Path) -> None:
    directory = tmp_path / "gift"
    shutil.copytree(EXAMPLE.parent / "gift-codes", directory, ignore=RUN_LEFTOVERS)
    (directory / "codes" / "gift.txt").write_text("ONLYCODE1\n", encoding="utf-8")
    planned = wxrec("plan", directory, "--api", "emulator")
    assert planned.exit_code == 0, planned.output
    assert "because 1 code to deposit in 1 call of 100" in planned.output
    assert "1 code to deposit," in planned.output


def test_state_history_without_state_says_so(tmp_path: Path) -> None:
    shown = wxrec("state", "history", tmp_path)
    assert (
        shown.exit_code == 0
        and shown.output == f"No state at {tmp_path / '.wxrec' / 'state.json'}: nothing has been applied there yet.\n"
    )


def test_an_empty_plan_without_refresh_does_not_claim_the_live_account_matches(example_dir: Path) -> None:
    assert wxrec("apply", example_dir, "--api", "emulator", "--auto-approve").exit_code == 0
    for output in ("text", "markdown", "html"):
        planned = wxrec("plan", example_dir, "--api", "emulator", "-refresh=false", "--format", output)
        assert planned.exit_code == 0, planned.output
        shown = html.unescape(planned.output)
        assert "live account matches" not in shown and "State's last-applied values match the manifests" in shown
