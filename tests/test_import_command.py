"""`wxrec import ADDRESS ID` for every kind that can be adopted, through the real HTTP client against a served
emulator: tags and conditional menus made outside wxrec, adopted by id, then planned as "No changes."."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import DEMO_APPID, DEMO_SECRET
from reconciler.wechat.client import StableToken, WeChatClient
from tests.support import served_emulator, wxrec

BUTTONS = [{"type": "view", "name": "会员专区", "url": "https://example.com/vip"}]
MANIFEST = f"""\
account:
  appid: {DEMO_APPID}
menu:
  button:
    - {{type: view, name: 首页, url: "https://example.com/"}}
tags:
  vip:
    name: 高级会员
conditional_menus:
  vip-menu:
    matchrule: {{tag: vip}}
    button:
      - {{type: view, name: 会员专区, url: "https://example.com/vip"}}
"""


async def made_outside_wxrec(url: str) -> tuple[str, str]:
    """The default menu, a tag and a conditional menu for it, as another tool makes them: (tag id, menuid)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = WeChatClient(http, StableToken(DEMO_APPID, DEMO_SECRET))
        await client.post(
            "/cgi-bin/menu/create", {"button": [{"type": "view", "name": "首页", "url": "https://example.com/"}]}
        )
        tag = await client.post("/cgi-bin/tags/create", {"tag": {"name": "高级会员"}}, idempotent=False)
        tag_id = str(tag["tag"]["id"])
        rule = {"tag_id": tag_id}
        menu = await client.post(
            "/cgi-bin/menu/addconditional", {"button": BUTTONS, "matchrule": rule}, idempotent=False
        )
        return tag_id, str(menu["menuid"])


@pytest.fixture
def account(tmp_path: Path) -> Iterator[tuple[Path, str, str, str]]:
    """(manifests, emulator url, the live tag's id, the live conditional menu's menuid)."""
    (tmp_path / "account.yaml").write_text(MANIFEST, encoding="utf-8")
    with served_emulator() as url:
        yield (tmp_path, url, *asyncio.run(made_outside_wxrec(url)))


def state_text(directory: Path) -> str | None:
    path = directory / ".wxrec" / "state.json"
    return path.read_text(encoding="utf-8") if path.exists() else None


def test_a_tag_and_a_conditional_menu_are_imported_by_id_and_plan_no_changes(
    account: tuple[Path, str, str, str],
) -> None:
    directory, url, tag_id, menuid = account
    for address, live_id in (("tags.vip", tag_id), ("conditional_menus.vip-menu", menuid)):
        imported = wxrec("import", directory, address, live_id, "--api", url)
        assert imported.exit_code == 0 and f"Imported {live_id} as {address}." in imported.output, imported.output
    resources = json.loads(state_text(directory) or "{}")["resources"]
    assert resources["tags.vip"] == {"id": tag_id, "name": "高级会员"}
    assert resources["conditional_menus.vip-menu"]["id"] == menuid
    planned = wxrec("plan", directory, "--api", url, "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes." in planned.output, planned.output


@pytest.mark.parametrize(
    ("address", "live_id", "message"),
    [
        ("tags.vip", "999", "tags.vip: 999 is not a tag of this account"),
        ("tags.vip", "2", "tags.vip: tag 2 is one of WeChat's reserved tags"),
        ("conditional_menus.vip-menu", "999", "999 is not a conditional menu of this account"),
        ("tags.gold", "{tag}", "tags.gold is not declared in the manifests"),
        ("menu", "x", "menu cannot be imported: wxrec import adopts cards, tags, conditional_menus, pay_coupons"),
        ("landing_pages.x", "x", "wxrec import adopts cards, tags, conditional_menus, pay_coupons"),
    ],
)
def test_an_import_that_cannot_be_is_a_clear_error_and_changes_nothing(
    account: tuple[Path, str, str, str], address: str, live_id: str, message: str
) -> None:
    directory, url, tag_id, _ = account
    before = state_text(directory)
    refused = wxrec("import", directory, address, live_id.format(tag=tag_id), "--api", url)
    assert refused.exit_code == 1 and message in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert state_text(directory) == before


def test_an_id_another_address_holds_is_refused(account: tuple[Path, str, str, str]) -> None:
    directory, url, tag_id, _ = account
    path = directory / "account.yaml"
    path.write_text(MANIFEST.replace("tags:\n", "tags:\n  gold:\n    name: 金卡会员\n"), encoding="utf-8")
    assert wxrec("import", directory, "tags.vip", tag_id, "--api", url).exit_code == 0
    before = state_text(directory)
    refused = wxrec("import", directory, "tags.gold", tag_id, "--api", url)
    assert refused.exit_code == 1 and f"{tag_id} is already managed as tags.vip" in refused.output, refused.output
    assert state_text(directory) == before
