"""Print-ready QR code images (PNG and SVG) rendered locally from the url WeChat returns for a QR code."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

__all__ = ["BORDER", "DPI", "SCALE", "image_paths", "write_qr_images"]

STEM_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
SCALE = 10  # PNG pixels per module
BORDER = 4  # quiet zone, in modules (the minimum ISO/IEC 18004 asks for)
DPI = 300  # recorded in the PNG so print software sizes it sensibly: 10 px/module = ~0.85 mm/module
DARK = "#000"
LIGHT = "#fff"


def write_qr_images(url: str, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>.png` and `<stem>.svg` encoding `url` into `directory` (created if missing); returns
    (png, svg). Print-ready: error correction level M at least, a quiet zone of 4 modules, PNG scale large
    enough for print (e.g. 10 px per module), dark modules black on white. Each file is written atomically
    (temp file in the same directory, then os.replace), so a crash never leaves a half-written image.
    The same url gives byte-identical files (no timestamps/metadata that vary)."""
    if not isinstance(stem, str) or STEM_PATTERN.fullmatch(stem) is None:
        raise ValueError(f"invalid image name {stem!r}: expected a resource key matching [a-z0-9][a-z0-9_-]*")
    if not isinstance(url, str) or not url:
        raise ValueError("cannot render a QR code for an empty url")
    # A regular QR symbol (never Micro QR, which phone cameras do not read); segno raises a ValueError
    # (DataOverflowError) if the url is too long for any version. boost_error may raise the level above M.
    import segno  # only apply draws: plan and validate never load it

    qr = segno.make_qr(url, error="m", boost_error=True)
    png_buffer, svg_buffer = io.BytesIO(), io.BytesIO()
    qr.save(png_buffer, kind="png", scale=SCALE, border=BORDER, dark=DARK, light=LIGHT, dpi=DPI)
    qr.save(svg_buffer, kind="svg", scale=SCALE, border=BORDER, dark=DARK, light=LIGHT)
    png, svg = png_buffer.getvalue(), svg_buffer.getvalue()
    # Render both before writing either, so a rendering error leaves no new file behind.
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    png_path, svg_path = image_paths(directory, stem)
    _write_atomically(png_path, png)
    _write_atomically(svg_path, svg)
    _fsync_directory(directory)
    return png_path, svg_path


def image_paths(directory: Path, stem: str) -> tuple[Path, Path]:
    """Where write_qr_images puts the PNG and the SVG of `stem`."""
    return directory / f"{stem}.png", directory / f"{stem}.svg"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; these files are meant to be shared and printed
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def _fsync_directory(directory: Path) -> None:
    """Make the renames durable (best effort; not possible on every platform)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
