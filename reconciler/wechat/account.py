"""The account endpoints beside cards: menu, user tags, test whitelist, landing pages, QR codes."""

from __future__ import annotations

from typing import Any

from reconciler.wechat.client import WeChatClient
from reconciler.wechat.errors import WeChatError

MENU_MISSING = 46003


class AccountApi:
    def __init__(self, client: WeChatClient) -> None:
        self.client = client

    async def menu(self) -> dict[str, Any] | None:
        """The default menu as menu/get answers it, or None when there is none (46003)."""
        try:
            answer = await self.client.get("/cgi-bin/menu/get")
        except WeChatError as exc:
            if exc.errcode == MENU_MISSING:
                return None
            raise
        menu: dict[str, Any] = answer.get("menu") or {}
        return menu

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
