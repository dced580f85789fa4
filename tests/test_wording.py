"""What wxrec says reads as English: plurals agree with their counts, and no sentence says what did not happen."""

from __future__ import annotations

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
