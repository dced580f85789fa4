"""`--embed-logos`: fetch the cards' logos while rendering, so the HTML report can show them without ever
loading anything when it is opened. A logo that cannot be had quickly is drawn as the brand's initial:
a report is never worth failing a plan for."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

TIMEOUT_SECONDS = 5.0  # for all logos together
MAX_BYTES = 512 * 1024  # WeChat's own logo limit is 1 MB at 300×300; a logo this large is not one to inline
# The signature of each raster type a browser draws from a data: URI (SVG is left out: it is a document).
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def logo_urls(plan: dict[str, Any]) -> list[str]:
    """Every logo url the plan's cards show, before or after, once each, in order."""
    return [url for url in _logos(plan) if url.startswith(("http://", "https://"))]


def _logos(plan: dict[str, Any]) -> list[str]:
    logos: dict[str, None] = {}
    for change in plan["changes"]:
        for side in (change["before"], change["after"]):
            logo = ((side or {}).get("fields") or {}).get("base_info.logo_url")
            if isinstance(logo, str):
                logos[logo] = None
    return list(logos)


def local_logos(plan: dict[str, Any], directory: Path) -> dict[str, str]:
    """path → data: URI for each logo the plan's cards name as a local image (uploaded at apply): read from the
    manifests' directory, where validate found it, whatever --embed-logos says."""
    found = {}
    for logo in _logos(plan):
        if not logo.startswith(("./", "../")):
            continue
        try:
            body = (directory / logo).read_bytes()
        except OSError:
            continue  # the report draws the brand's initial; validate has said what is wrong with the file
        kind = image_type(body)
        if kind:
            found[logo] = f"data:{kind};base64,{base64.b64encode(body).decode('ascii')}"
    return found


async def fetch_logos(
    urls: list[str], transport: httpx.AsyncBaseTransport | None = None, timeout: float = TIMEOUT_SECONDS
) -> dict[str, str]:
    """url → data: URI for each logo that arrived in time as a PNG, JPEG, GIF or WebP image."""
    async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=True) as client:
        tasks = [asyncio.ensure_future(_fetch(client, url)) for url in urls]
        done, pending = await asyncio.wait(tasks, timeout=timeout) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return {url: uri for url, task in zip(urls, tasks, strict=True) if task in done and (uri := task.result())}


async def _fetch(client: httpx.AsyncClient, url: str) -> str | None:
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                return None
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    return None
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError):
        return None
    kind = image_type(body)
    return f"data:{kind};base64,{base64.b64encode(body).decode('ascii')}" if kind else None


def missed(urls: list[str], fetched: dict[str, str]) -> list[str]:
    """The logos that could not be had, as a warning may show them: a signed logo URL carries its secret in
    the query and a private one in user:password@, so neither is shown."""
    return [shown_url(url) for url in urls if url not in fetched]


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def image_type(body: bytes) -> str | None:
    """The image type the bytes really are (not what the server says)."""
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in SIGNATURES.items() if body.startswith(signature)), None)
