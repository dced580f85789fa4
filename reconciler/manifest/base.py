"""The manifests as they were at a git ref (or in another directory), for `wxrec diff`. No network."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from reconciler.errors import Location, ManifestError, Problem, WxrecError
from reconciler.manifest import Manifest, load_manifest
from reconciler.manifest.loader import Document
from reconciler.manifest.variables import Variables


def load_base_manifest(base: str, manifest: Path, variables: Variables | None = None) -> Manifest:
    """`base` is a directory (or file) of manifests, or a git ref of the repository holding `manifest`; the vars
    are those of the head (an environment is a choice of this run, not of the commit)."""
    if Path(base).exists():
        return load_manifest(Path(base), variables)
    return _load_at_ref(base, manifest.resolve(), variables)


def _git(directory: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise WxrecError("git is not installed; give BASE as a directory instead") from None
    if done.returncode != 0:
        raise WxrecError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _load_at_ref(ref: str, manifest: Path, variables: Variables | None) -> Manifest:
    directory = manifest if manifest.is_dir() else manifest.parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    relative = manifest.relative_to(top).as_posix()
    listing = _git(top, "ls-tree", "--name-only", ref, "--", relative + ("/" if manifest.is_dir() else ""))
    if manifest.is_dir():
        prefix = "" if relative == "." else relative + "/"
        names = [n for n in listing.splitlines() if n.endswith((".yaml", ".yml")) and "/" not in n[len(prefix) :]]
    else:
        names = [n for n in listing.splitlines() if n == relative]
    with tempfile.TemporaryDirectory(prefix="wxrec-base-") as scratch:
        for name in names:
            (Path(scratch) / Path(name).name).write_text(_git(top, "show", f"{ref}:{name}"), encoding="utf-8")
        if not names:
            return Manifest(Path(scratch), Document())  # the manifests did not exist yet: all is new
        try:
            return load_manifest(Path(scratch), variables)
        except ManifestError as error:
            raise ManifestError([_at_ref(p, scratch, f"{ref}:{relative}") for p in error.problems]) from None


def _at_ref(problem: Problem, scratch: str, label: str) -> Problem:
    """Name the file as `REF:path` instead of the scratch copy it was read from."""
    location = problem.location
    if location is None:
        return problem
    moved = Location(location.file.replace(scratch, label), location.line, location.column)
    return Problem(moved, problem.field, problem.message)
