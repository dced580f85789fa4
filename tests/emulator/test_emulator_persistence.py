"""The data file: loaded at start, saved atomically after every change, secrets never in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET, EmulatorConfig, create_app

from .support import Api, FakeTime, MakeApi, ticket


async def test_cards_tokens_and_clock_survive_a_restart(make_api: MakeApi, fake_time: FakeTime, tmp_path: Path) -> None:
    data = tmp_path / ".wxrec" / "emulator.json"
    first = await make_api(data_file=data)
    card_id = await first.create(ticket(sku={"quantity": 10}))
    await first.post("/card/modifystock", {"card_id": card_id, "increase_stock_value": 5})
    await first.control("claim", {"card_id": card_id, "count": 2})
    await first.control("clock", {"advance": 600})
    token = await first.token()
    assert data.exists()

    second = await make_api(data_file=data)
    answer = await second.post("/card/get", {"card_id": card_id}, token=token)
    assert answer["errcode"] == 0, "the token issued before the restart still works"
    base = answer["card"]["scenic_ticket"]["base_info"]
    assert base["sku"] == {"quantity": 13, "total_quantity": 15}
    health = (await second.client.get("/_emulator/health")).json()
    assert health["now"] == fake_time.now + 600
    assert await second.create() != card_id, "the id counter continues"


async def test_saves_are_atomic_and_hold_no_secret(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    api = await make_api(data_file=data)
    await api.create()
    text = data.read_text(encoding="utf-8")
    assert DEMO_SECRET not in text
    assert json.loads(text)["format"] == "wxrec-emulator/1"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["emulator.json", "emulator.json.lock"], "no temporary file left behind"
    assert DEMO_SECRET not in (tmp_path / "emulator.json.lock").read_text(encoding="utf-8")


async def test_reads_do_not_rewrite_the_file(make_api: MakeApi, tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    api = await make_api(data_file=data)
    card_id = await api.create()
    before = data.stat().st_mtime_ns
    data.write_text(data.read_text(encoding="utf-8"), encoding="utf-8")
    marker = data.stat().st_mtime_ns
    await api.post("/card/get", {"card_id": card_id})
    await api.post("/card/batchget", {"offset": 0, "count": 10})
    assert data.stat().st_mtime_ns == marker and marker >= before


def test_an_unreadable_data_file_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    data.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable emulator data file"):
        create_app(EmulatorConfig(data_file=data))


async def test_without_a_data_file_nothing_is_written(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await api.create()
    assert list(tmp_path.iterdir()) == []


async def test_two_emulators_on_one_file_keep_each_others_changes(make_api: MakeApi, tmp_path: Path) -> None:
    """The embedded emulators of a plan and an apply, side by side on one account file: a faulted read, which
    is saved, never writes back a copy without the other's cards; each sees what the other did."""
    data = tmp_path / "emulator.json"
    faults = "error=-1:0.3,seed=4,paths=/card/batchget"
    applier = await make_api(data_file=data, faults=faults)
    planner = await make_api(data_file=data, faults=faults)
    made = []
    for _ in range(8):
        made.append(await applier.create())
        await planner.post("/card/batchget", {"offset": 0, "count": 50})
    saved = json.loads(data.read_text(encoding="utf-8"))
    assert {c["card_id"] for c in saved["accounts"][DEMO_APPID]["cards"]} == set(made)
    listed: dict[str, Any] = {}
    while listed.get("errcode") != 0:
        listed = await planner.post("/card/batchget", {"offset": 0, "count": 50})
    assert sorted(listed["card_id_list"]) == sorted(made), "the planner sees the applier's cards"
    assert (await planner.control("claim", {"card_id": made[0], "count": 3})).status_code == 200
    assert (await applier.base_info(made[0]))["sku"]["quantity"] == 97, "and the applier the planner's claim"
    seqs = [c["seq"] for c in json.loads(data.read_text(encoding="utf-8"))["calls"]["entries"]]
    assert len(seqs) == len(set(seqs)), "calls in two processes never share a seq (nor a fault draw)"
