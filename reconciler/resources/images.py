"""Images from local files: a card's or a landing page's image field may name a JPG or PNG beside the manifests
(`./assets/logo.png`) instead of a WeChat URL. validate checks the file offline; apply uploads it through
media/uploadimg before the card or page and keeps its SHA-256 → URL in state (`State.images`); a plan compares
the URL state recorded for the file's bytes with the live one (a page's: with the one it was made with), so an
unchanged file costs no call (docs/decisions.md, local images)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from reconciler.errors import JsonPath, Locate, Problem, WxrecError
from reconciler.i18n import said
from reconciler.plan import Action, ResourceChange
from reconciler.resources.cards.model import DesiredCard, Flat
from reconciler.state import SaveState, State
from reconciler.wechat.client import Upload, WeChatClient

LOCAL_PREFIXES = ("./", "../")
UPLOAD_PATH = "/cgi-bin/media/uploadimg"
UPLOAD_FIELD = "media"  # wechatpy's and today's document's name (the older guide says `buffer`)
MAX_BYTES = 1024 * 1024  # "上传的图片限制文件大小限制1MB": below 1 MB
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPG"}

# Where images are among a card's canonical fields (or a landing page's keys): the leaf itself (None), each item
# of a list (""), or a key of each item of a list of objects.
Where = Mapping[str, str | None]
CARD_IMAGES: Where = {
    "base_info.logo_url": None,
    "background_pic_url": None,
    "advanced_info.abstract.icon_url_list": "",
    "advanced_info.text_image_list": "image_url",
}
LANDING_PAGE_IMAGES: Where = {"banner": None, "card_list": "thumb_url"}


def is_local(value: Any) -> bool:
    """A path relative to the manifest, not a URL: how a field says "upload this file"."""
    return isinstance(value, str) and value.startswith(LOCAL_PREFIXES)


def sha256_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise WxrecError(f"{path}: cannot read the image ({exc.__class__.__name__})") from None


def map_images(
    fields: Flat, convert: Callable[[str], str], images: Where = CARD_IMAGES, which: Callable[[Any], bool] = is_local
) -> Flat:
    """`fields` with every local image path among them (or every image `which` picks) converted (to its URL)."""

    def one(value: Any) -> Any:
        return convert(value) if which(value) else value

    result = dict(fields)
    for path, where in images.items():
        value = fields.get(path)
        if where is None and path in fields:
            result[path] = one(value)
        elif where == "" and isinstance(value, list):
            result[path] = [one(item) for item in value]
        elif where is not None and isinstance(value, list):
            result[path] = [{**item, where: one(item[where])} if _holds(item, where) else item for item in value]
    return result


def _holds(item: Any, key: str) -> bool:
    return isinstance(item, dict) and key in item


def local_images(
    fields: Flat, images: Where = CARD_IMAGES, which: Callable[[Any], bool] = is_local
) -> dict[str, list[str]]:
    """Field path → the local files it names (or the images `which` picks)."""
    found: dict[str, list[str]] = {}

    def note(path: str) -> Callable[[str], str]:
        def seen(value: str) -> str:
            found.setdefault(path, []).append(value)
            return value

        return seen

    for path in images:
        if path in fields:
            map_images({path: fields[path]}, note(path), images, which)
    return found


# -- validate (offline) ------------------------------------------------------------------------------------------


def image_problems(named: Mapping[JsonPath, Path], locate: Locate) -> list[Problem]:
    """Each local image the path policy accepted exists and is what media/uploadimg takes: a JPG or PNG (by its
    bytes) under 1 MB. Problems name the file."""
    problems = []
    for path, file in named.items():
        reason = _refusal(file)
        if reason is not None:
            problems.append(Problem(locate(path), ".".join(map(str, path)), reason))
    return problems


def _refusal(file: Path) -> str | None:
    try:
        content = file.read_bytes()
    except FileNotFoundError:
        return f"{file}: no such image file"
    except OSError as exc:
        return f"{file}: cannot read the image ({exc.__class__.__name__})"
    if len(content) >= MAX_BYTES:
        return f"{file} is {len(content):,} bytes: media/uploadimg takes images under 1 MB ({MAX_BYTES:,} bytes)"
    if not any(content.startswith(signature) for signature in SIGNATURES):
        return f"{file} is not a JPG or PNG image (by its content): media/uploadimg takes only those"
    return None


# -- plan ----------------------------------------------------------------------------------------------------------


def resolved_cards(
    desired: Mapping[str, DesiredCard], directory: Path, uploaded: Mapping[str, str]
) -> dict[str, DesiredCard]:
    """The cards with each local image whose bytes state knows replaced by the URL it was uploaded as; a file
    not uploaded yet (new, or its bytes changed) keeps its path, which apply uploads."""

    return {
        address: replace(card, fields=known_images(card.fields, directory, uploaded))
        for address, card in desired.items()
    }


def known_images(fields: Flat, directory: Path, uploaded: Mapping[str, str], images: Where = CARD_IMAGES) -> Flat:
    """`fields` with each local image whose bytes state knows replaced by its URL; the others keep their path."""

    def url(value: str) -> str:
        return uploaded.get(sha256_of(directory / value), value)

    return map_images(fields, url, images)


def note_uploads(changes: list[ResourceChange], uploaded: Mapping[str, str]) -> None:
    """Say which images apply uploads: a new one, or a changed one (the live field shows an image wxrec
    uploaded before)."""
    for change in changes:
        if change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE) or change.after is None:
            continue
        change.notes += upload_notes((change.before or {}).get("fields", {}), change.after["fields"], uploaded)


def upload_notes(before: Flat, after: Flat, uploaded: Mapping[str, str], images: Where = CARD_IMAGES) -> list[str]:
    """A note for each local image `after` names: changed when `before` shows an image wxrec uploaded there."""
    ours = set(uploaded.values())
    notes = []
    for path, files in local_images(after, images).items():
        changed = any(url in ours for url in local_images(before, images, _is_text).get(path, ()))
        notes += [_upload_note(path, file, changed) for file in files]
    return notes


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _upload_note(path: str, file: str, changed: bool) -> str:
    if changed:
        return said("{path}: {file} (changed image, uploaded at apply)", path=path, file=file)
    return said("{path}: {file} (new image, uploaded at apply)", path=path, file=file)


# -- apply ---------------------------------------------------------------------------------------------------------


@dataclass
class ImageUploader:
    """Uploads the local images a card names just before the card is created or updated, once per distinct
    file content: state records each upload as soon as WeChat answers."""

    client: WeChatClient
    state: State
    save: SaveState
    directory: Path
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def resolve(self, fields: Flat, images: Where = CARD_IMAGES) -> Flat:
        urls = {file: await self._url(file) for files in local_images(fields, images).values() for file in files}
        return map_images(fields, urls.__getitem__, images)

    async def _url(self, file: str) -> str:
        path = self.directory / file
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise WxrecError(f"{path}: cannot read the image ({exc.__class__.__name__})") from None
        digest = hashlib.sha256(content).hexdigest()
        async with self._locks.setdefault(digest, asyncio.Lock()):  # two cards with one new logo: one upload
            if digest not in self.state.images:
                answer = await self.client.upload(UPLOAD_PATH, Upload(UPLOAD_FIELD, PurePosixPath(file).name, content))
                self.state.images[digest] = str(answer["url"])
                await self.save()
        return self.state.images[digest]
