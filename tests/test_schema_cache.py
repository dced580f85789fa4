"""The compiled manifest check is kept in the cache directory and read back; the cache is only ever a shortcut."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifest import schema_check
from reconciler.manifest.schema_check import compiled_check, passes

SCHEMA: dict[str, Any] = {
    "$id": "https://wxrec.dev/schemas/test.schema.json",
    "type": "object",
    "properties": {"quantity": {"type": "integer", "minimum": 0}, "title": {"type": "string", "pattern": "\\S"}},
    "additionalProperties": False,
}
GOOD, BAD = {"quantity": 3, "title": "品鉴会"}, {"quantity": 3.0, "title": " "}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv("WXREC_CACHE_DIR", str(directory))
    schema_check._check_for.cache_clear()
    yield directory
    schema_check._check_for.cache_clear()


def _no_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_schema: Any) -> str:
        raise AssertionError("the schema was compiled again instead of read from the cache")

    monkeypatch.setattr(schema_check, "_generated", refuse)
    schema_check._check_for.cache_clear()


def test_a_second_run_reads_the_compiled_check_instead_of_compiling(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compiled_check(SCHEMA)
    assert [p.name.startswith("manifest-check-") for p in cache.iterdir()] == [True]
    _no_generation(monkeypatch)
    second = compiled_check(SCHEMA)
    assert (passes(first, GOOD), passes(first, BAD)) == (passes(second, GOOD), passes(second, BAD)) == (True, False)


def test_another_schema_gets_its_own_entry(cache: Path) -> None:
    looser = {**SCHEMA, "additionalProperties": True}
    assert not passes(compiled_check(SCHEMA), {**GOOD, "extra": 1})
    assert passes(compiled_check(looser), {**GOOD, "extra": 1})
    assert len(list(cache.iterdir())) == 2


def test_a_damaged_entry_is_compiled_again_and_replaced(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_check(SCHEMA)
    (entry,) = cache.iterdir()
    for damage in (b"", b"not marshal data", entry.read_bytes()[:100]):
        entry.write_bytes(damage)
        schema_check._check_for.cache_clear()
        check = compiled_check(SCHEMA)
        assert (passes(check, GOOD), passes(check, BAD)) == (True, False)
    _no_generation(monkeypatch)  # the damaged entry was replaced by a whole one
    assert passes(compiled_check(SCHEMA), GOOD)


def test_a_cache_that_cannot_be_written_only_costs_the_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would be", encoding="utf-8")
    monkeypatch.setenv("WXREC_CACHE_DIR", str(blocker / "wxrec"))
    schema_check._check_for.cache_clear()
    check = compiled_check(SCHEMA)
    assert (passes(check, GOOD), passes(check, BAD)) == (True, False)
    assert blocker.read_text(encoding="utf-8").startswith("a file")
    schema_check._check_for.cache_clear()


def test_the_cache_directory_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WXREC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert schema_check.cache_dir() == tmp_path / "xdg" / "wxrec"
    monkeypatch.setenv("WXREC_CACHE_DIR", str(tmp_path / "own"))
    assert schema_check.cache_dir() == tmp_path / "own"


def test_another_generator_misses_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_check(SCHEMA)
    _no_generation(monkeypatch)
    monkeypatch.setattr(schema_check, "_generator_version", lambda: "an edited generator")
    with pytest.raises(AssertionError, match="compiled again"):
        compiled_check(SCHEMA)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no owner or mode bits")
def test_an_entry_others_could_have_written_is_never_run(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_check(SCHEMA)
    (entry,) = cache.iterdir()
    entry.chmod(0o666)
    _no_generation(monkeypatch)
    with pytest.raises(AssertionError, match="compiled again"):
        compiled_check(SCHEMA)


def test_only_the_newest_entries_are_kept(cache: Path) -> None:
    cache.mkdir(parents=True)
    for age in range(schema_check.KEPT + 3):
        old = cache / f"manifest-check-old{age:02d}.marshal"
        old.write_bytes(b"")
        os.utime(old, (1_000_000 + age, 1_000_000 + age))
    compiled_check(SCHEMA)
    kept = sorted(p.name for p in cache.iterdir())
    assert len(kept) == schema_check.KEPT
    assert "manifest-check-old00.marshal" not in kept and "manifest-check-old10.marshal" in kept
