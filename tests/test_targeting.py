"""--target and --exclude: the closure both ways (pure, over the example's references), and plan and apply
scoped end to end against the embedded emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator import DEMO_APPID
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.plan import Plan
from reconciler.planning import Options, PlanInputs, plan
from reconciler.targeting import Targeting
from tests.support import EXAMPLE, apply_ok, wxrec
from tests.test_cli_e2e import edit, state_of
from tests.test_planning_pipeline import InMemory

ROUTINE = "not for routine use"


def planned(**targeting: frozenset[str]) -> Plan:
    """The example's first plan (an empty account), scoped as given."""
    options = Options(qrcode_dir=EXAMPLE / "qrcodes", targeting=Targeting(**targeting))
    inputs = PlanInputs(load_manifest(EXAMPLE), None, DEMO_APPID, "memory", options, lambda _: set())
    return asyncio.run(plan(inputs, InMemory()))


def addresses(result: Plan) -> set[str]:
    return {c.address for c in result.changes}


def test_a_target_keeps_what_it_refers_to_and_nothing_else() -> None:
    assert addresses(planned(target=frozenset({"qrcodes.counter-poster"}))) == {
        "qrcodes.counter-poster",
        "cards.latte-voucher",
    }
    # The menu links to the landing page, which shows three cards.
    assert addresses(planned(target=frozenset({"menu"}))) == {
        "menu",
        "landing_pages.coupon-shelf",
        "cards.latte-voucher",
        "cards.weekday-discount",
        "cards.latte-art-class",
    }


def test_an_exclusion_drops_what_refers_to_it_and_keeps_the_rest() -> None:
    whole = addresses(planned())
    scoped = planned(exclude=frozenset({"cards.latte-voucher"}))
    dropped = {
        "cards.latte-voucher",
        "qrcodes.counter-poster",
        "qrcodes.window-poster",
        "landing_pages.coupon-shelf",
        "menu",
    }
    assert addresses(scoped) == whole - dropped
    assert "cards.weekday-discount" in addresses(scoped)


def test_a_scoped_plan_says_so_and_never_reads_as_the_whole_account() -> None:
    scoped = planned(target=frozenset({"qrcodes.follow-us"})).to_dict()
    assert scoped["targeting"] == {"target": ["qrcodes.follow-us"], "exclude": []}
    assert ROUTINE in scoped["warnings"][0]
    assert "targeting" not in planned().to_dict()


@pytest.mark.parametrize("option", ["target", "exclude"])
def test_an_address_that_names_nothing_is_refused(option: str) -> None:
    with pytest.raises(WxrecError, match=r"cards\.typo: neither declared in the manifests nor held in state"):
        planned(**{option: frozenset({"cards.typo"})})


def test_target_and_exclude_together_are_refused() -> None:
    with pytest.raises(WxrecError, match="cannot be used together"):
        Targeting(frozenset({"menu"}), frozenset({"whitelist"}))


graphs = st.dictionaries(st.sampled_from("abcdefgh"), st.sets(st.sampled_from("abcdefgh"), max_size=3), max_size=8)


@given(graphs, st.sets(st.sampled_from("abcdefgh"), min_size=1, max_size=3))
def test_a_targeted_scope_holds_everything_its_members_refer_to(graph: dict[str, set[str]], target: set[str]) -> None:
    in_scope = Targeting(target=frozenset(target)).in_scope(graph)
    assert all(in_scope(address) for address in target)
    assert all(in_scope(ref) for address in "abcdefgh" if in_scope(address) for ref in graph.get(address, ()))


@given(graphs, st.sets(st.sampled_from("abcdefgh"), min_size=1, max_size=3))
def test_an_excluded_scope_holds_nothing_that_refers_to_what_it_dropped(
    graph: dict[str, set[str]], exclude: set[str]
) -> None:
    in_scope = Targeting(exclude=frozenset(exclude)).in_scope(graph)
    assert not any(in_scope(address) for address in exclude)
    assert all(in_scope(ref) for address in "abcdefgh" if in_scope(address) for ref in graph.get(address, ()))
    # Nothing more is dropped than what refers, directly or not, to an excluded address.
    for address in set("abcdefgh") - exclude:
        if not any(a in exclude for a in graph.get(address, ())) and all(in_scope(r) for r in graph.get(address, ())):
            assert in_scope(address)


def test_apply_of_a_targeted_qr_code_creates_its_card_and_nothing_else(example_dir: Path) -> None:
    apply_ok(example_dir, "--target", "qrcodes.class-poster")
    assert set(state_of(example_dir)["resources"]) == {"cards.latte-art-class", "qrcodes.class-poster"}
    rest = wxrec("plan", example_dir, "--api", "emulator")
    assert "cards.latte-art-class" not in rest.output and "+ cards.farm-tour will be created" in rest.output


def test_apply_excluding_a_card_leaves_out_what_shows_it(example_dir: Path) -> None:
    apply_ok(example_dir, "--exclude", "cards.latte-voucher")
    assert set(state_of(example_dir)["resources"]) == {
        "cards.weekday-discount",
        "cards.breakfast-set",
        "cards.member",
        "cards.latte-art-class",
        "cards.farm-tour",
        "qrcodes.class-poster",
        "qrcodes.follow-us",
        "whitelist",
    }


@pytest.mark.parametrize("output", ["text", "markdown", "json", "html"])
def test_every_format_carries_the_warning_and_no_claim_about_the_rest(example_dir: Path, output: str) -> None:
    apply_ok(example_dir, "--target", "qrcodes.follow-us")
    result = wxrec("plan", example_dir, "--api", "emulator", "--target", "qrcodes.follow-us", "--format", output)
    assert result.exit_code == 0, result.output
    assert ROUTINE in result.output
    if output == "json":
        assert json.loads(result.output)["targeting"]["target"] == ["qrcodes.follow-us"]
    else:
        assert "No changes to the targeted resources" in result.output
        assert "matches the manifests" not in result.output


def test_a_saved_plan_remembers_its_targeting(example_dir: Path) -> None:
    saved = example_dir / "p.json"
    made = wxrec("plan", example_dir, "--api", "emulator", "-target", "qrcodes.follow-us", "-out", saved)
    assert made.exit_code == 0, made.output
    assert json.loads(saved.read_text(encoding="utf-8"))["targeting"]["target"] == ["qrcodes.follow-us"]
    again = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve", "--plan", saved, "--exclude", "menu")
    assert again.exit_code == 1 and "keeps the targeting it was made with" in again.output
    result = apply_ok(example_dir, "--plan", saved)
    assert ROUTINE in result.output
    assert set(state_of(example_dir)["resources"]) == {"qrcodes.follow-us"}


def test_a_replace_that_would_strand_what_is_left_out_is_refused(example_dir: Path) -> None:
    apply_ok(example_dir)
    edit(example_dir, "title: 周末拿铁拉花课", "title: 周末拿铁拉花体验课")  # a ticket's title: a replace
    result = wxrec("plan", example_dir, "--api", "emulator", "--target", "cards.latte-art-class")
    assert result.exit_code == 1
    assert "qrcodes.class-poster refers to cards.latte-art-class, which this plan replaces" in result.output
    excluded = wxrec("plan", example_dir, "--api", "emulator", "--exclude", "qrcodes.class-poster")
    assert excluded.exit_code == 1
    assert "qrcodes.class-poster refers to cards.latte-art-class, which this plan replaces" in excluded.output
    both = wxrec(
        "plan",
        example_dir,
        "--api",
        "emulator",
        "--target",
        "qrcodes.class-poster",
        "--target",
        "landing_pages.coupon-shelf",
    )
    assert both.exit_code == 0, both.output
