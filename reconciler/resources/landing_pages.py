"""Landing pages (货架, card/landingpage/create): a shelf of cards behind a url. Create-only (see write_only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import Locate, Problem
from reconciler.i18n import N_
from reconciler.plan import ResourceChange
from reconciler.resources.base import Applier, ApplyContext, schema_fragment
from reconciler.resources.images import LANDING_PAGE_IMAGES
from reconciler.resources.write_only import Sentences, WriteOnlyApplier, WriteOnlyKind, WriteOnlyRecord, api_value


class LandingPages(WriteOnlyKind):
    schema: Mapping[str, Any] = schema_fragment("landing_pages")

    def validate(self, section: Any, locate: Locate) -> list[Problem]:
        return []  # the schema says it all; references are checked for every kind alike

    def applier(self, context: ApplyContext) -> Applier:
        return LandingPageApplier(context)


class LandingPageApplier(WriteOnlyApplier):
    async def create(self, change: ResourceChange) -> str:
        assert change.after is not None
        spec = await self.uploaded(change.after["spec"], LANDING_PAGE_IMAGES)
        body = self.resolved(change, api_value(spec))
        answer = await self.create_once(change, lambda: self._page(body))
        await self.record(change, WriteOnlyRecord(answer["page_id"], answer["url"], spec, body))
        return f"created page {answer['page_id']}: {answer['url']}"

    async def _page(self, body: dict[str, Any]) -> dict[str, Any]:
        page_id, url = await self.context.api.create_landing_page(body)
        return {"page_id": page_id, "url": url}


LANDING_PAGES = LandingPages(
    "landing_pages",
    Sentences(
        new=N_("a new landing page"),
        changed=N_("the landing page changed: WeChat cannot edit it, so a new one is created"),
        old_stays=N_("the old landing page {id} stays live: WeChat offers no way to delete a page"),
        forgotten=N_("removed from the manifests; it stays live: WeChat offers no way to delete a page"),
        lost=N_(
            "{address}: an earlier create lost its answer, so WeChat may have made this landing page; it cannot be "
            "read back. Pass -replace {address} to create it (again)"
        ),
    ),
    layer=1,
    attributes=("url", "page_id"),
    new_badge=N_("new page"),
    panel="shelf",
    images=LANDING_PAGE_IMAGES,
)
