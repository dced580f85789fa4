"""Manifests: load the YAML, validate it (schema, then meaning), hand over the desired model."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.loader import Document, load_document
from reconciler.resources.account import validate as validate_account
from reconciler.resources.adoption import validate as validate_adoptions
from reconciler.resources.cards.validate import validate_card
from reconciler.resources.references import validate_references


@dataclass
class Manifest:
    root: Path
    document: Document

    @property
    def appid(self) -> str | None:
        account = self.document.data.get("account") or {}
        return account.get("appid")

    @property
    def cards(self) -> dict[str, dict[str, Any]]:
        cards: dict[str, dict[str, Any]] = self.document.data.get("cards") or {}
        return cards

    @property
    def state_dir(self) -> Path:
        return state_dir(self.root)


def state_dir(manifest: Path) -> Path:
    """`.wxrec/` beside the manifests: in the directory, or beside a single manifest file."""
    return (manifest if manifest.is_dir() else manifest.parent) / ".wxrec"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One of the shipped JSON Schemas: `manifest` or `plan`."""
    text = resources.files("reconciler").joinpath(f"schemas/{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_manifest(target: Path) -> Manifest:
    """Load and validate; raises ManifestError listing every problem found."""
    document = load_document(target)
    problems = schema_problems(document)
    cards = document.data.get("cards")
    if isinstance(cards, dict):
        for key, spec in cards.items():
            if isinstance(spec, dict):
                problems += validate_card(key, spec, document.locate)
    problems += validate_account(document.data, document.locate)
    problems += validate_references(document.data, document.locate)
    problems += validate_adoptions(document.data, document.locate)
    if problems:
        raise ManifestError(problems)
    return Manifest(target, document)


@cache
def _fast_check() -> Callable[[Any], Any]:
    """The manifest schema compiled to Python: ten times faster than jsonschema on valid manifests, which is
    nearly all of them. It stops at the first error, so jsonschema still explains every error."""
    return fastjsonschema.compile(load_schema("manifest"))


def schema_valid(data: Any) -> bool:
    try:
        _fast_check()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def schema_problems(document: Document) -> list[Problem]:
    if schema_valid(document.data):
        return []
    validator = jsonschema.Draft202012Validator(load_schema("manifest"))
    problems = []
    for error in validator.iter_errors(document.data):
        for leaf in _leaf_errors(error):
            problems.append(_problem(document, leaf))
    return _deduplicate(problems)


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The most specific causes: an if/then or oneOf failure is explained by its sub-errors."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return _leaf_errors(best) if best is not None else [error]
    if error.validator == "allOf" and error.context:
        return [leaf for sub in error.context for leaf in _leaf_errors(sub)]
    return [error]


def _problem(document: Document, error: jsonschema.ValidationError) -> Problem:
    path = tuple(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = list(schema.get("properties", {}))
        unexpected = [k for k in error.instance if k not in allowed]
        if unexpected:
            name = unexpected[0]
            path = (*path, name)
            message = "unknown field"
            close = difflib.get_close_matches(name, allowed, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
    elif error.validator == "required" and isinstance(error.validator_value, list):
        missing = [f for f in error.validator_value if isinstance(error.instance, dict) and f not in error.instance]
        message = f"missing required field {missing[0]!r}" if missing else message
    elif "propertyNames" in error.schema_path:
        path = (*path, str(error.instance))
        message = f"key {error.instance!r} must match [a-z0-9][a-z0-9_-]* (it becomes part of addresses)"
    elif error.validator == "not" and error.validator_value == {"required": ["total_quantity"]}:
        message = "give quantity or total_quantity, not both"
    return Problem(document.locate(path), ".".join(map(str, path)), message)


def _deduplicate(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for problem in problems:
        marker = (problem.field, problem.message)
        if marker not in seen:
            seen.add(marker)
            unique.append(problem)
    return unique
