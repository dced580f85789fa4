"""The manifests as they were at a git ref (or in another directory), for `wxrec diff`. No network."""

from __future__ import annotations

import atexit
import io
import shutil
import subprocess
import tarfile
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
    """The manifest directory as it was at `ref`, codes files included, extracted for as long as this process
    runs: a diff reads the base's codes files after loading (to count what the base deposited)."""
    directory = manifest if manifest.is_dir() else manifest.parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    relative = directory.relative_to(top).as_posix()
    scratch = Path(tempfile.mkdtemp(prefix="wxrec-base-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    archive = subprocess.run(
        ["git", "-C", str(top), "archive", "--format=tar", ref, "--", relative], capture_output=True, check=False
    )
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            # The "data" filter refuses links and paths out of the scratch directory.
            tar.extractall(scratch, filter="data")
    base = scratch / relative / (manifest.name if manifest.is_file() else "")
    if not base.exists() or (base.is_dir() and not any(base.glob("*.y*ml"))):
        return Manifest(base if base.exists() else scratch, Document())  # the manifests did not exist yet
    try:
        return load_manifest(base, variables)
    except ManifestError as error:
        label = f"{ref}:{relative}"
        raise ManifestError([_at_ref(p, str(scratch / relative), label) for p in error.problems]) from None


def _at_ref(problem: Problem, scratch: str, label: str) -> Problem:
    """Name the file as `REF:path` instead of the scratch copy it was read from."""
    location = problem.location
    if location is None:
        return problem
    moved = Location(location.file.replace(scratch, label), location.line, location.column)
    return Problem(moved, problem.field, problem.message)
