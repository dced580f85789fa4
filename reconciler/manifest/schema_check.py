"""The manifest schema as two validators: a compiled check that passes valid manifests fast, and jsonschema,
which explains every error of the others.

Compiling the schema costs more than checking 1,000 cards with it (generating 600 kB of Python, then compiling
it: about 0.15 s on a small runner, on every run). The compiled code is therefore kept in wxrec's cache
directory, under a name made of everything it depends on (the schema, this module's code generator,
fastjsonschema's version, Python's bytecode version), and read back with marshal. The cache is only ever a
shortcut: a directory that cannot be read or written, a file that does not load, or one another user could have
written, means compiling as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import marshal
import os
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

import fastjsonschema
from fastjsonschema.draft04 import CodeGeneratorDraft04
from fastjsonschema.draft2019 import CodeGeneratorDraft2019
from fastjsonschema.ref_resolver import RefResolver

if TYPE_CHECKING:
    import jsonschema

Check = Callable[[Any], Any]


def cache_dir() -> Path:
    """WXREC_CACHE_DIR, else $XDG_CACHE_HOME/wxrec, else ~/.cache/wxrec."""
    explicit = os.environ.get("WXREC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wxrec"


class _StrictIntegers(CodeGeneratorDraft2019):
    generate_type = CodeGeneratorDraft04.generate_type  # draft 4's type check: an integer is an int


def compiled_check(schema: Mapping[str, Any]) -> Check:
    """The schema compiled to Python (as fastjsonschema.compile does, with the generator whose integers are
    strict): ten times faster than jsonschema on valid manifests. It stops at the first error."""
    text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    return _check_for(text)


@cache
def _check_for(schema_text: str) -> Check:
    schema = json.loads(schema_text)
    name = RefResolver.from_schema(schema, handlers={}, store={}).get_scope_name()
    path = cache_dir() / f"manifest-check-{_fingerprint(schema_text)}.marshal"
    code = _cached_code(path)
    if code is None:
        code = compile(_generated(schema), str(path), "exec")
        _store(path, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    check: Check = namespace[name]
    return check


def _fingerprint(schema_text: str) -> str:
    parts = (schema_text, _generator_version(), fastjsonschema.VERSION, importlib.util.MAGIC_NUMBER.hex())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


@cache
def _generator_version() -> str:
    """This module's own source: the generator it subclasses and the module it writes are part of what is
    cached, and an edited checkout (an editable install) changes them without a new release."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    except OSError:
        from reconciler import __version__

        return __version__


def _generated(schema: dict[str, Any]) -> str:
    resolver = RefResolver.from_schema(schema, handlers={}, store={})
    generator = _StrictIntegers(schema, resolver=resolver)  # type: ignore[no-untyped-call]
    # The module fastjsonschema.compile_to_code writes: the global state (imports, compiled patterns), then the
    # functions.
    return str(generator.global_state_code) + "\n" + str(generator.func_code)


def _cached_code(path: Path) -> CodeType | None:
    """The entry's code, if this user wrote it: it is run, so a file another user could have put there (a cache
    shared between CI jobs, a directory others may write) is compiled anew instead."""
    try:
        with path.open("rb") as file:
            if not _written_by_this_user(os.fstat(file.fileno())):
                return None
            code = marshal.loads(file.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _written_by_this_user(status: os.stat_result) -> bool:
    if not hasattr(os, "getuid"):  # Windows: no owner or mode bits to go by; the cache is in the user's profile
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _store(path: Path, data: bytes) -> None:
    """Written whole or not at all: another wxrec may be reading the same name."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=".manifest-check-")  # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(partial, path)
    except OSError:
        Path(partial).unlink(missing_ok=True)
        return
    _prune(path.parent)


KEPT = 8  # entries: a release, a schema or a Python each make a new one; the older ones are never read again


def _prune(directory: Path) -> None:
    try:
        entries = sorted(directory.glob("manifest-check-*.marshal"), key=lambda entry: entry.stat().st_mtime)
        for stale in entries[:-KEPT]:
            stale.unlink(missing_ok=True)
    except OSError:
        return


def passes(check: Check, data: Any) -> bool:
    try:
        check(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _is_int(_checker: Any, value: Any) -> bool:
    """JSON Schema counts 3000.0 as an integer (draft 6 on); WeChat parses JSON into typed fields and answers
    47001 to it, after the actions before it were applied. A manifest's integers are ints, in both validators."""
    return isinstance(value, int) and not isinstance(value, bool)


def explaining_validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """jsonschema's validator, whose integers are strict like the compiled check's; loaded only when a manifest
    has an error to explain."""
    import jsonschema

    strict = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator,
        type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int),
    )
    validator: jsonschema.protocols.Validator = strict(schema)
    return validator
