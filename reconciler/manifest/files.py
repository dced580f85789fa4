"""Files a manifest names (a codes `file:`, a card's local images): one path policy for all of them.

`wxrec diff` runs on pull requests from forks, and whatever a manifest names is read, counted and may end up in
a report. So a named file is relative to the manifest that names it and stays inside the manifests' directory,
symlinks followed; an absolute path or one that leaves the directory is refused unless
WXREC_ALLOW_FILES_OUTSIDE=1 says otherwise, for a repository that shares files between manifest directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reconciler.errors import JsonPath, Problem
from reconciler.manifest.loader import Document
from reconciler.resources.images import is_local

ALLOW_OUTSIDE = "WXREC_ALLOW_FILES_OUTSIDE"
# The fields whose value names a file ("*": any key or index).
FILE_FIELDS: tuple[JsonPath, ...] = (("codes", "*", "file"), ("pay_coupons", "*", "codes", "file"))
# The fields that hold an image URL, or instead a file relative to the manifest: `./logo.png`, `../shared/bg.jpg`.
IMAGE_FIELDS: tuple[JsonPath, ...] = (
    ("cards", "*", "base_info", "logo_url"),
    ("cards", "*", "background_pic_url"),
    ("cards", "*", "advanced_info", "abstract", "icon_url_list", "*"),
    ("cards", "*", "advanced_info", "text_image_list", "*", "image_url"),
    ("landing_pages", "*", "banner"),
    ("landing_pages", "*", "card_list", "*", "thumb_url"),
)


class FileOutside(Exception):
    """A named file the policy refuses; the message says why and how to allow it."""


def outside_allowed() -> bool:
    return os.environ.get(ALLOW_OUTSIDE) == "1"


def named_file(named: str, manifest: Path) -> Path:
    """The file `named` by a field of the manifest file `manifest`, relative to its directory (the manifests'
    directory: they are read non-recursively). Raises FileOutside when the policy refuses it."""
    directory = manifest.parent
    if "\0" in named:  # no file has such a name: every os call raises ValueError on it
        raise FileOutside(f"{named!r} holds a NUL character: no file has that name")
    path = directory / named
    if outside_allowed():
        return path
    if Path(named).is_absolute():
        raise FileOutside(f"{named!r} is an absolute path: {_RULE}")
    if not path.resolve().is_relative_to(directory.resolve()):
        raise FileOutside(f"{named!r} leads outside the manifests' directory (symlinks followed): {_RULE}")
    return path


_RULE = f"a manifest names files inside its own directory (set {ALLOW_OUTSIDE}=1 to allow others)"


def named_files(document: Document) -> tuple[dict[JsonPath, Path], list[Problem]]:
    """The path of every file-naming field the policy accepts, and a located problem for each it refuses.
    A value that is not text is left to the schema."""
    found: dict[JsonPath, Path] = {}
    problems: list[Problem] = []
    fields = [(pattern, False) for pattern in FILE_FIELDS] + [(pattern, True) for pattern in IMAGE_FIELDS]
    for pattern, image in fields:
        for path, value in _matches(document.data, pattern, ()):
            if not isinstance(value, str) or (image and not is_local(value)):
                continue
            location = document.locate(path)
            if location is None:
                continue
            try:
                found[path] = named_file(value, Path(location.file))
            except FileOutside as exc:
                problems.append(Problem(location, ".".join(map(str, path)), str(exc)))
    return found, problems


def image_files(named: dict[JsonPath, Path]) -> dict[JsonPath, Path]:
    """The local images among the named files."""
    return {path: file for path, file in named.items() if any(_fits(path, pattern) for pattern in IMAGE_FIELDS)}


def _fits(path: JsonPath, pattern: JsonPath) -> bool:
    return len(path) == len(pattern) and all(part in ("*", key) for key, part in zip(path, pattern, strict=True))


def _matches(value: Any, pattern: JsonPath, path: JsonPath) -> Iterator[tuple[JsonPath, Any]]:
    if not pattern:
        yield path, value
        return
    items: Iterable[tuple[str | int, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        if pattern[0] in ("*", key):
            yield from _matches(item, pattern[1:], (*path, key))
