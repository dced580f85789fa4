"""Manifests: load the YAML, validate it (schema, then meaning), hand over the desired model."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import JsonPath, ManifestError, Problem, WxrecError
from reconciler.manifest.files import image_files, named_files
from reconciler.manifest.loader import Document, load_document, parse_file
from reconciler.manifest.schema_check import Check, compiled_check, explaining_validator, passes
from reconciler.manifest.variables import ENV_NAME, VAR_NAME, Variables, env_file
from reconciler.resources import kinds, manifest_schema
from reconciler.resources.adoption import validate as validate_adoptions
from reconciler.resources.codes.files import validate as validate_codes
from reconciler.resources.conditional_menus import needs_default_menu
from reconciler.resources.images import image_problems
from reconciler.resources.pay_coupons.validate import validate_across as pay_coupons_across
from reconciler.resources.qrcodes import deposit_card_codes
from reconciler.resources.reference_rules import validate_references

if TYPE_CHECKING:
    import jsonschema


@dataclass
class Manifest:
    root: Path
    document: Document
    env: str | None = None

    @property
    def appid(self) -> str | None:
        account = self.document.data.get("account") or {}
        return account.get("appid")

    @property
    def mchid(self) -> str | None:
        """The WeChat Pay merchant of the manifests' pay_coupons."""
        account = self.document.data.get("account") or {}
        return account.get("mchid")

    @property
    def cards(self) -> dict[str, dict[str, Any]]:
        cards: dict[str, dict[str, Any]] = self.document.data.get("cards") or {}
        return cards

    @property
    def state_dir(self) -> Path:
        return state_dir(self.root, self.env)

    @property
    def directory(self) -> Path:
        return manifest_directory(self.root)


def manifest_directory(manifest: Path) -> Path:
    """The directory of the manifests: MANIFEST itself, or the directory of a single manifest file."""
    return manifest if manifest.is_dir() else manifest.parent


def state_dir(manifest: Path, env: str | None = None) -> Path:
    """`.wxrec/` beside the manifests: in the directory, or beside a single manifest file; `.wxrec/ENV/` for an
    environment, so test and production never share state (nor an embedded emulator account)."""
    top = manifest_directory(manifest) / ".wxrec"
    return top / checked_env(env) if env else top


def checked_env(env: str) -> str:
    """An environment names a directory under `.wxrec/` and a file under `env/`: nothing that climbs out."""
    if not ENV_NAME.fullmatch(env):
        raise WxrecError(f"--env {env!r}: an environment name matches [a-z0-9][a-z0-9_-]* (it names a directory)")
    return env


def load_schema(name: str) -> dict[str, Any]:
    """One of wxrec's JSON Schemas: `manifest` (built from the registered kinds), `plan` or `state`."""
    return manifest_schema() if name == "manifest" else _shipped_schema(name)


@cache
def _shipped_schema(name: str) -> dict[str, Any]:
    text = resources.files("reconciler").joinpath(f"schemas/{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_manifest(target: Path, variables: Variables | None = None) -> Manifest:
    """Load and validate; raises ManifestError listing every problem found."""
    document = load_document(target, variables)
    document.named, problems = named_files(document)
    problems += schema_problems(document)
    for kind in kinds():
        if kind.name in document.data:
            problems += kind.validate(document.data[kind.name], document.locate)
    problems += validate_references(document.data, document.locate)
    problems += needs_default_menu(document.data, document.locate)
    problems += validate_codes(document.data, document.locate, document.named)
    problems += image_problems(image_files(document.named), document.locate)
    problems += pay_coupons_across(document.data, document.locate, document.named)
    problems += deposit_card_codes(document.data, document.locate)
    problems += validate_adoptions(document.data, document.locate)
    if problems:
        raise ManifestError(problems)
    return Manifest(target, document, variables.env if variables else None)


def load_variables(manifest: Path, env: str | None, overrides: Mapping[str, str]) -> Variables:
    """The vars of `env/ENV.yaml` beside the manifests (when an env is given), then `--var NAME=VALUE`.

    An override is text, unless the env file gives NAME a number or a boolean: then it must be one too, so
    `--var stock=500` stays a number and `--var phone=0571…` stays text."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if env is not None:
        values, origins = _env_file_vars(env_file(manifest, checked_env(env)))
    for name, text in overrides.items():
        if not VAR_NAME.fullmatch(name):
            raise WxrecError(f"--var {name}=…: a var name is letters, digits and _, not starting with a digit")
        values[name] = _override(name, text, values.get(name), origins.get(name))
        origins[name] = "--var"
    return Variables(values, origins, env)


def _env_file_vars(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    if not path.is_file():
        raise WxrecError(f"{path}: no such file (--env NAME reads env/NAME.yaml beside the manifests)")
    problems: list[Problem] = []
    parsed = parse_file(path, problems)
    data = parsed.data if parsed else None
    if parsed and (not isinstance(data, dict) or set(data) != {"vars"} or not isinstance(data["vars"], dict)):
        problems.append(Problem(parsed.start, "", "an env file is a mapping with one key, vars: {NAME: value, …}"))
    if problems:
        raise ManifestError(problems)
    assert parsed is not None  # an empty file is a problem above
    values: dict[str, Any] = parsed.data["vars"]
    for name in values:
        if not VAR_NAME.fullmatch(name):
            location = parsed.positions.get(("vars", name))
            problems.append(Problem(location, f"vars.{name}", "a var name is letters, digits and _"))
    if problems:
        raise ManifestError(problems)
    return values, {name: str(parsed.positions.get(("vars", name), path)) for name in values}


def _override(name: str, text: str, declared: Any, origin: str | None) -> Any:
    if declared is None or isinstance(declared, str):
        return text
    converters: dict[type, Callable[[str], Any]] = {
        bool: {"true": True, "false": False}.get,
        int: _number(int),
        float: _number(float),
    }
    convert = converters.get(type(declared))
    value = convert(text) if convert else None
    if value is None:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}.get(type(declared), "set there")
        raise WxrecError(f"--var {name}={text}: {origin} sets {name} to {declared!r}, so it must be {kind}")
    return value


def _number(kind: type[int] | type[float]) -> Callable[[str], int | float | None]:
    def convert(text: str) -> int | float | None:
        try:
            return kind(text)
        except ValueError:
            return None

    return convert


def _fast_check() -> Check:
    return _compiled(tuple(kind.name for kind in kinds()))


@cache
def _compiled(_kinds: tuple[str, ...]) -> Check:
    """The compiled check of the schema the registered kinds make."""
    return compiled_check(load_schema("manifest"))


def manifest_validator() -> jsonschema.protocols.Validator:
    """jsonschema's validator for manifests, whose integers are strict like the fast check's."""
    return explaining_validator(load_schema("manifest"))


def schema_valid(data: Any) -> bool:
    return passes(_fast_check(), data)


def schema_problems(document: Document) -> list[Problem]:
    if schema_valid(document.data):
        return []
    leaves = [leaf for error in manifest_validator().iter_errors(document.data) for leaf in _leaf_errors(error)]
    suggested = {(path, field) for path, _name, field in _unknown_fields(leaves) if field}
    problems = []
    for leaf in leaves:
        problems += _problems(document, leaf, suggested)
    return _deduplicate(problems)


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The most specific causes: an if/then or oneOf failure is explained by its sub-errors."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match  # only an invalid manifest gets here

        best = best_match(error.context)
        return _leaf_errors(best) if best is not None else [error]
    if error.validator == "allOf" and error.context:
        return [leaf for sub in error.context for leaf in _leaf_errors(sub)]
    return [error]


def _unknown_fields(errors: list[jsonschema.ValidationError]) -> list[tuple[JsonPath, str, str | None]]:
    """(object's path, unknown field, the allowed field it is closest to) for every unknown field."""
    found = []
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            schema = error.schema if isinstance(error.schema, Mapping) else {}
            allowed = list(schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    close = difflib.get_close_matches(name, allowed, n=1)
                    found.append((tuple(error.absolute_path), name, close[0] if close else None))
    return found


def _problems(
    document: Document, error: jsonschema.ValidationError, suggested: set[tuple[JsonPath, str]]
) -> list[Problem]:
    """An error about several fields is a located problem per field. A required field written under a
    misspelt name is one mistake: the unknown field's suggestion names it, so it is not also missing."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        return [
            _problem(document, (*where, name), "unknown field" + (f"; did you mean {close!r}?" if close else ""))
            for where, name, close in _unknown_fields([error])
        ]
    if error.validator == "required" and isinstance(error.validator_value, list) and isinstance(error.instance, dict):
        missing = [field for field in error.validator_value if field not in error.instance]
        return [
            _problem(document, path, f"missing required field {field!r}")
            for field in missing
            if (path, field) not in suggested
        ]
    message, located = error.message, document.locate_value  # the value is wrong (its type, its pattern …)
    if "propertyNames" in error.schema_path:
        path, located = (*path, str(error.instance)), document.locate
        message = f"key {error.instance!r} must match [a-z0-9][a-z0-9_-]* (it becomes part of addresses)"
    elif error.validator == "type" and isinstance(error.instance, float) and error.instance.is_integer():
        message = (
            f"{error.instance!r} is not an integer: write {int(error.instance)} (WeChat refuses {error.instance!r})"
        )
    elif error.validator == "not" and error.validator_value == {"required": ["total_quantity"]}:
        message, located = "give quantity or total_quantity, not both", document.locate
    return [Problem(located(path), ".".join(map(str, path)), message)]


def _problem(document: Document, path: JsonPath, message: str) -> Problem:
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
