"""Print-ready QR images: the PNG decodes back to the url with a real QR decoder (zxing-cpp), its pixels and the
SVG's path both match segno's module matrix with a 4-module quiet zone, and files are deterministic and atomic."""

from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import segno
import zxingcpp

from reconciler.resources.qr_images import write_qr_images

WECHAT_URL = "http://weixin.qq.com/q/7kPYP0rlWvojw9kcsWSy"
CHINESE_URL = "https://mp.weixin.qq.com/活动/春季新品?门店=上海静安店&优惠=买一送一"
_LONG_PREFIX = "https://shop.example.com/landing/spring-campaign?utm_source=wechat&utm_medium=qr&utm_campaign=poster-a"
LONG_URL = _LONG_PREFIX + "&ref=" + "x7" * ((256 - len(_LONG_PREFIX) - 5) // 2)
LONG_URL += "z" * (256 - len(LONG_URL))
URLS = [WECHAT_URL, CHINESE_URL, LONG_URL]
SCALE, BORDER = 10, 4


def test_long_url_fixture_is_256_characters() -> None:
    assert len(LONG_URL) == 256


# --- a strict, stdlib-only PNG reader (non-interlaced greyscale), so the test needs no imaging library ---------


def _read_png(data: bytes) -> tuple[int, int, list[bytes], dict[bytes, bytes]]:
    """Return (width, height, rows of 8-bit grey pixels, non-IDAT chunks), checking signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    idat = b""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IDAT":
            idat += body
        else:
            assert kind not in chunks, f"duplicate {kind!r}"
            chunks[kind] = body
        pos += 12 + length
        if kind == b"IEND":
            break
    assert pos == len(data), "data after IEND"
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (colour, compression, filtering, interlace) == (0, 0, 0, 0), "expected non-interlaced greyscale"
    assert depth in (1, 8)
    stride = (width * depth + 7) // 8
    raw = zlib.decompress(idat)
    assert len(raw) == height * (stride + 1)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 1] if i else 0
            b = previous[i]
            c = previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + predictor) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        previous = line
        if depth == 1:
            rows.append(bytes(255 if line[x >> 3] >> (7 - (x & 7)) & 1 else 0 for x in range(width)))
        else:
            rows.append(bytes(line))
    return width, height, rows, chunks


def decode_png(path: Path) -> list[str]:
    """The texts a real QR decoder (zxing-cpp) reads in a PNG written by wxrec."""
    width, height, rows, _ = _read_png(path.read_bytes())
    image = memoryview(b"".join(rows)).cast("B", shape=(height, width))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def _symbol(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def _dark_cells(matrix: tuple[bytearray, ...] | list[bytearray]) -> set[tuple[int, int]]:
    return {(x, y) for y, row in enumerate(matrix) for x, value in enumerate(row) if value}


# --- the PNG ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS, ids=["wechat", "chinese", "long"])
def test_png_decodes_back_to_the_url_with_zxing(tmp_path: Path, url: str) -> None:
    png, _ = write_qr_images(url, tmp_path, "poster-a")
    width, height, rows, _ = _read_png(png.read_bytes())
    image = memoryview(b"".join(rows)).cast("B", shape=(height, width))
    barcodes = zxingcpp.read_barcodes(image)
    assert len(barcodes) == 1
    (barcode,) = barcodes
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode  # a regular QR code, not Micro QR
    assert barcode.text == url
    assert barcode.ec_level in ("M", "Q", "H")  # error correction M at least


@pytest.mark.parametrize("url", URLS, ids=["wechat", "chinese", "long"])
def test_png_pixels_are_the_module_matrix_black_on_white_with_quiet_zone(tmp_path: Path, url: str) -> None:
    png, _ = write_qr_images(url, tmp_path, "poster-a")
    width, height, rows, chunks = _read_png(png.read_bytes())
    matrix = _symbol(url).matrix
    size = len(matrix)
    assert width == height == (size + 2 * BORDER) * SCALE
    assert set(b"".join(rows)) == {0, 255}  # pure black and white
    for my in range(size + 2 * BORDER):
        for mx in range(size + 2 * BORDER):
            x, y = mx - BORDER, my - BORDER
            dark = 0 <= x < size and 0 <= y < size and bool(matrix[y][x])
            block = {rows[my * SCALE + dy][mx * SCALE + dx] for dy in range(SCALE) for dx in range(SCALE)}
            assert block == {0 if dark else 255}, f"module ({x}, {y})"
    # No timestamp or text chunks that could vary; a physical size so print software lays it out sensibly.
    assert set(chunks) <= {b"IHDR", b"pHYs", b"IEND"}
    if b"pHYs" in chunks:
        ppm_x, ppm_y, unit = struct.unpack(">IIB", chunks[b"pHYs"])
        assert unit == 1 and ppm_x == ppm_y and ppm_x * 0.0254 >= 150  # at least 150 dpi


# --- the SVG ------------------------------------------------------------------------------------------------------


def _path_cells(d: str) -> set[tuple[int, int]]:
    """Cells covered by segno's line path: `M x y` / `m dx dy` moves, `h n` horizontal strokes at row y - 0.5."""
    cells: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", d):
        numbers = [float(n) for n in args.replace(",", " ").split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            (length,) = numbers
            assert length > 0
            cells.update((int(x) + i, int(y - 0.5)) for i in range(int(length)))
            x += length
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return cells


@pytest.mark.parametrize("url", URLS, ids=["wechat", "chinese", "long"])
def test_svg_is_well_formed_and_draws_the_same_matrix(tmp_path: Path, url: str) -> None:
    _, svg = write_qr_images(url, tmp_path, "poster-a")
    root = ET.fromstring(svg.read_bytes())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    matrix = _symbol(url).matrix
    total = (len(matrix) + 2 * BORDER) * SCALE
    assert (root.get("width"), root.get("height")) == (str(total), str(total))
    paths = list(root.iter(f"{ns}path"))
    dark = [p for p in paths if p.get("stroke") in ("#000", "#000000")]
    light = [p for p in paths if p.get("fill") in ("#fff", "#ffffff")]
    assert len(dark) == 1 and light, "expected black modules on a white background"
    expected = {(x + BORDER, y + BORDER) for x, y in _dark_cells(matrix)}
    assert _path_cells(dark[0].get("d", "")) == expected


# --- files, determinism, atomicity, validation -----------------------------------------------------------------


def test_creates_the_directory_and_returns_png_then_svg(tmp_path: Path) -> None:
    directory = tmp_path / "out" / "qr"
    png, svg = write_qr_images(WECHAT_URL, directory, "poster-a")
    assert (png, svg) == (directory / "poster-a.png", directory / "poster-a.svg")
    assert sorted(os.listdir(directory)) == ["poster-a.png", "poster-a.svg"]  # no temp files left behind


def test_same_url_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_qr_images(CHINESE_URL, tmp_path / "one", "poster-a")
    first_bytes = [p.read_bytes() for p in first]
    second = write_qr_images(CHINESE_URL, tmp_path / "two", "poster-a")
    assert [p.read_bytes() for p in second] == first_bytes
    again = write_qr_images(CHINESE_URL, tmp_path / "one", "poster-a")  # overwrite in place
    assert [p.read_bytes() for p in again] == first_bytes
    other = write_qr_images(WECHAT_URL, tmp_path / "one", "poster-b")
    assert [p.read_bytes() for p in other] != first_bytes


def test_a_failed_write_keeps_the_old_images_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    png, svg = write_qr_images(WECHAT_URL, tmp_path, "poster-a")
    before = png.read_bytes(), svg.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_qr_images(LONG_URL, tmp_path, "poster-a")
    assert (png.read_bytes(), svg.read_bytes()) == before
    assert sorted(os.listdir(tmp_path)) == ["poster-a.png", "poster-a.svg"]


@pytest.mark.parametrize(
    "stem",
    ["", "../poster", "..", ".", "a/b", "a\\b", "/abs", "Poster", "-a", "_a", "a.b", "poster a", "poster\n", "海报"],
)
def test_bad_stem_is_refused_before_anything_is_written(tmp_path: Path, stem: str) -> None:
    directory = tmp_path / "out"
    with pytest.raises(ValueError, match="invalid image name"):
        write_qr_images(WECHAT_URL, directory, stem)
    assert not directory.exists()


@pytest.mark.parametrize("stem", ["a", "poster-a", "0", "card_2024-spring"])
def test_good_stems_are_accepted(tmp_path: Path, stem: str) -> None:
    png, svg = write_qr_images(WECHAT_URL, tmp_path, stem)
    assert png.name == f"{stem}.png" and svg.name == f"{stem}.svg"


def test_empty_or_oversized_url_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_qr_images("", tmp_path, "poster-a")
    with pytest.raises(ValueError):
        write_qr_images("https://example.com/?q=" + "x" * 5000, tmp_path, "poster-a")
    assert os.listdir(tmp_path) == []
