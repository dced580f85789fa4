"""The account endpoints beside cards: menu, user tags, test whitelist, landing pages, QR codes."""

from __future__ import annotations

from typing import Any

from reconciler.wechat.client import WeChatClient
from reconciler.wechat.errors import WeChatError

MENU_MISSING = 46003
NOT_CONDITIONAL_MENU = 65301


class AccountApi:
    def __init__(self, client: WeChatClient) -> None:
        self.client = client

    async def menu(self) -> dict[str, Any] | None:
        """The default menu as menu/get answers it, or None when there is none (46003)."""
        answer = await self.menu_config()
        return None if answer is None else dict(answer.get("menu") or {})

    async def menu_config(self) -> dict[str, Any] | None:
        """menu/get's whole answer: the default `menu` and the `conditionalmenu` list; None without a menu."""
        try:
            return await self.client.get("/cgi-bin/menu/get")
        except WeChatError as exc:
            if exc.errcode == MENU_MISSING:
                return None
            raise

    async def add_conditional_menu(self, body: dict[str, Any]) -> str:
        """menu/addconditional → the new menu's menuid. Not idempotent: a retry would publish a second menu."""
        answer = await self.client.post("/cgi-bin/menu/addconditional", body, idempotent=False)
        return str(answer["menuid"])

    async def delete_conditional_menu(self, menuid: str) -> None:
        """menu/delconditional; a menu already gone (65301) is what was asked for."""
        try:
            await self.client.post("/cgi-bin/menu/delconditional", {"menuid": menuid})
        except WeChatError as exc:
            if exc.errcode != NOT_CONDITIONAL_MENU:
                raise

    async def console_menu(self) -> dict[str, Any]:
        """get_current_selfmenu_info: also sees a menu made in the MP console, which menu/get cannot."""
        return await self.client.get("/cgi-bin/get_current_selfmenu_info")

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.client.post("/cgi-bin/menu/create", menu)

    async def delete_menu(self) -> None:
        await self.client.get("/cgi-bin/menu/delete")

    async def tags(self) -> list[dict[str, Any]]:
        """tags/get: every tag, WeChat's reserved ones included, as {id, name, count}."""
        answer = await self.client.get("/cgi-bin/tags/get")
        return list(answer.get("tags") or [])

    async def create_tag(self, name: str) -> str:
        """tags/create → the new tag's id. Not idempotent: a retried create is refused as a duplicate name."""
        answer = await self.client.post("/cgi-bin/tags/create", {"tag": {"name": name}}, idempotent=False)
        return str(answer["tag"]["id"])

    async def update_tag(self, tag_id: str, name: str) -> None:
        await self.client.post("/cgi-bin/tags/update", {"tag": {"id": int(tag_id), "name": name}})

    async def delete_tag(self, tag_id: str) -> None:
        await self.client.post("/cgi-bin/tags/delete", {"tag": {"id": int(tag_id)}})

    async def set_whitelist(self, openid: list[str], username: list[str]) -> None:
        await self.client.post("/card/testwhitelist/set", {"openid": openid, "username": username})

    async def create_landing_page(self, page: dict[str, Any]) -> tuple[str, str]:
        """card/landingpage/create → (page_id, url). Not idempotent: every call makes a new page."""
        answer = await self.client.post("/card/landingpage/create", page, idempotent=False)
        return str(answer["page_id"]), str(answer["url"])

    async def create_card_qrcode(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.post("/card/qrcode/create", body, idempotent=False)

    async def create_scene_qrcode(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.post("/cgi-bin/qrcode/create", body, idempotent=False)
