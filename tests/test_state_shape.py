"""A state of the wrong shape, in either backend, is "damaged" with a way back, never a traceback; a state that
loads is one the planner can use."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import DEMO_APPID
from reconciler.emulator.colors import COLORS
from reconciler.errors import WxrecError
from reconciler.manifest import load_manifest
from reconciler.planning import Options, PlanInputs, plan
from reconciler.sources import StateSource
from reconciler.state import FileBackend, Provenance, State
from reconciler.state.migrations import STATE_VERSION
from reconciler.state.postgres import PostgresBackend
from tests.support import EXAMPLE, with_state_name, wxrec

CARD = {
    "id": "pCARD",
    "card_type": "CASH",
    "applied": {"base_info.title": "拿铁满30减8元", "least_cost": 3000},
    "stock": {"mode": "budget", "target": 5000, "ceiling": None},
    "prevent_destroy": True,
    "retire_ids": ["pOLD"],
    "issued_before": 3,
}
SAMPLE: dict[str, Any] = {
    "version": STATE_VERSION,
    "lineage": "4cf4c988-a5bb-450b-9bee-58f88e57b826",
    "serial": 7,
    "appid": DEMO_APPID,
    "endpoint": "emulator",
    "resources": {
        "cards.latte-voucher": CARD,
        "landing_pages.coupon-shelf": {"applied": {"page_title": "优惠"}, "resolved": {}, "id": "1", "url": "u"},
        "qrcodes.counter-poster": {"applied": {}, "resolved": {}, "id": "gQ", "url": "u", "expire_at": 1803392707},
        "codes.gift": {"card_id": "pCARD", "deposited": 600, "target": 400},
        "menu": {"applied": {"button": [{"name": "菜单", "type": "view", "url": "https://example.com"}]}},
        "whitelist": {"applied": {"openid": ["o1"], "username": []}},
    },
    "intents": {
        "cards.breakfast-set": {
            "action": "create",
            "started": 1700000000,
            "after": {"card_type": "CASH", "fields": {}, "stock": {"mode": "refill", "target": 1, "ceiling": None}},
            "retire_ids": [],
            "issued_before": 0,
        },
        "qrcodes.follow-us": {"action": "create", "started": 1700000000},
    },
    "palette": dict(COLORS),
    "plan_key": "5f0c" * 16,
}


def damaged(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def with_resources(**changes: Any) -> bytes:
    return damaged({**SAMPLE, "resources": {**SAMPLE["resources"], **changes}})


WRONG_SHAPES = {
    "null": b"null",
    "a list": b"[]",
    "a string": b'"x"',
    "resources a list": damaged({**SAMPLE, "resources": []}),
    "intents holding a number": damaged({**SAMPLE, "intents": [1]}),
    "a record set to null": with_resources(**{"cards.latte-voucher": None}),
    "a numeric id": with_resources(**{"cards.latte-voucher": {**CARD, "id": 5}}),
    "a stock of another mode": with_resources(**{"cards.latte-voucher": {**CARD, "stock": {"mode": "x", "target": 1}}}),
    "a trailing \\xff": damaged(SAMPLE) + b"\xff",
    "a serial that is not a number": damaged({**SAMPLE, "serial": "7"}),
    "an endpoint that is no URL": damaged({**SAMPLE, "endpoint": "http://[oops"}),
    "nested without end": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("content", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_state_file_of_the_wrong_shape_is_damaged_not_a_traceback(example_dir: Path, content: bytes) -> None:
    state = example_dir / ".wxrec" / "state.json"
    state.parent.mkdir()
    state.write_bytes(content)
    for command in (("plan", example_dir, "--api", "emulator"), ("state", "list", example_dir)):
        result = wxrec(*command)
        assert result.exit_code == 1, result.output
        assert f"{state}: state file is damaged" in result.output
        assert "restore it from a backup (state.json.backup" in result.output
    assert state.read_bytes() == content, "a damaged state is never overwritten"


def test_a_state_file_that_is_a_directory_is_damaged(example_dir: Path) -> None:
    (example_dir / ".wxrec" / "state.json").mkdir(parents=True)
    result = wxrec("apply", example_dir, "--api", "emulator", "--auto-approve")
    assert result.exit_code == 1 and "state.json: state file is damaged (it is a directory)" in result.output


def test_the_sample_is_a_state_that_loads(tmp_path: Path) -> None:
    """The property tests below start from it: it must be right, or every mutation is trivially damaged."""
    (tmp_path / "state.json").write_bytes(damaged(SAMPLE))
    loaded = FileBackend(tmp_path / "state.json").load()
    assert loaded is not None and loaded.to_dict() == SAMPLE


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
REMOVE = object()


def paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    return found


@st.composite
def state_shapes(draw: st.DrawFn) -> Any:
    """Any JSON at all, or the sample with one value anywhere in it replaced by any JSON, or removed."""
    if draw(st.booleans()):
        return draw(JSON)
    document = copy.deepcopy(SAMPLE)
    path = draw(st.sampled_from(paths(SAMPLE)[1:]))
    value = draw(JSON | st.just(REMOVE))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if value is REMOVE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


MANIFEST = load_manifest(EXAMPLE)
NEWER = "was written by a newer wxrec"  # a higher integer version: not damaged


def usable(state: State) -> None:
    """What plan does with a state that loaded (--refresh=false reads only state): no error but a WxrecError."""
    options = Options(refresh=False, manifest_root=EXAMPLE)
    with contextlib.suppress(WxrecError):
        inputs = PlanInputs(MANIFEST, state, DEMO_APPID, "emulator", options, lambda _: set())
        asyncio.run(plan(inputs, StateSource(state)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=state_shapes())
def test_any_state_file_loads_and_plans_or_is_damaged(tmp_path: Path, document: Any) -> None:
    path = tmp_path / f"{uuid.uuid4()}.json"
    path.write_bytes(damaged(document))
    try:
        state = FileBackend(path).load()
    except WxrecError as exc:
        assert "state file is damaged" in str(exc) or NEWER in str(exc)
        return
    assert state is not None
    usable(state)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=state_shapes())
def test_any_state_in_postgresql_loads_or_is_damaged(postgres_url: str, document: Any) -> None:
    url = with_state_name(postgres_url, f"test-{uuid.uuid4()}")
    backend = PostgresBackend(url, Provenance(Path(".")))
    assert backend.load() is None  # creates the tables
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO wxrec_states (name, serial, lineage, body, author) VALUES (%s, 1, 'l', %s::json, 'test')",
            (backend.name, json.dumps(document)),
        )
    try:
        state = backend.load()
    except WxrecError as exc:
        assert f"state at {backend.location} is damaged" in str(exc) or NEWER in str(exc)
        assert "`wxrec state history`" in str(exc) or NEWER in str(exc)
        return
    finally:
        backend.close()
    assert state is not None
    usable(state)
