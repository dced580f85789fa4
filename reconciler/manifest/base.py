"""The manifests as they were at a git ref (or in another directory), for `wxrec diff`. No network."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from reconciler.errors import Location, ManifestError, Problem, WxrecError
from reconciler.manifest import Manifest, load_manifest
from reconciler.manifest.files import outside_allowed
from reconciler.manifest.loader import Document, parse_file
from reconciler.manifest.variables import Variables


def load_base_manifest(base: str, manifest: Path, variables: Variables | None = None) -> Manifest:
    """`base` is a directory (or file) of manifests, or a git ref of the repository holding `manifest`; the vars
    are those of the head (an environment is a choice of this run, not of the commit)."""
    if Path(base).exists():
        return load_manifest(Path(base), variables)
    return _load_at_ref(base, manifest.resolve(), variables)


class GitFailed(WxrecError):
    """A git command failed; callers that know what the failure means for the user say so instead."""


def _git(directory: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise WxrecError("git is not installed; give BASE as a directory instead") from None
    if done.returncode != 0:
        raise GitFailed(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _load_at_ref(ref: str, manifest: Path, variables: Variables | None) -> Manifest:
    """The manifest directory as it was at `ref`, codes files included, extracted for as long as this process
    runs: a diff reads the base's codes files after loading (to count what the base deposited)."""
    directory = manifest if manifest.is_dir() else manifest.parent
    try:
        top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    except GitFailed:
        raise WxrecError(
            f"{ref}: no such directory, and {directory} is not in a git repository to take a ref from"
        ) from None
    try:
        _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitFailed:
        raise WxrecError(f"{ref}: no such directory, nor a git commit, branch or tag in {top}") from None
    relative = directory.relative_to(top).as_posix()
    scratch = Path(tempfile.mkdtemp(prefix="wxrec-base-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    archive = subprocess.run(
        ["git", "-C", str(top), "archive", "--format=tar", ref, "--", relative], capture_output=True, check=False
    )
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(scratch, filter=_plain_files)
        if outside_allowed():  # otherwise the base's files are those of its directory, as for the head
            _fetch_codes_outside(top, ref, scratch, relative)
    base = scratch / relative / (manifest.name if manifest.is_file() else "")
    if not base.exists() or (base.is_dir() and not any(base.glob("*.y*ml"))):
        return Manifest(base if base.exists() else scratch, Document())  # the manifests did not exist yet
    try:
        return load_manifest(base, variables)
    except ManifestError as error:
        label = f"{ref}:{relative}"
        raise ManifestError([_at_ref(p, str(scratch / relative), label) for p in error.problems]) from None


def _plain_files(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    """Files and directories only: a link in the manifests is left out rather than followed out of the scratch
    directory (and the "data" filter refuses anything else that would leave it)."""
    if member.issym() or member.islnk():
        return None
    return tarfile.data_filter(member, destination)


def _fetch_codes_outside(top: Path, ref: str, scratch: Path, relative: str) -> None:
    """Codes files named from outside the manifest directory (`file: ../shared/gift.txt`, allowed by
    WXREC_ALLOW_FILES_OUTSIDE=1), as they were at `ref`, so that validating the base finds them. Paths out of
    the repository are not in `ref`: an absolute one is read where it is, as for the head; a relative one is
    missing from the scratch copy, and validation says so."""
    directory = scratch / relative
    for manifest in sorted(directory.glob("*.y*ml")):
        parsed = parse_file(manifest, [])  # a problem is reported, with its line, by loading the base
        data = parsed.data if parsed else None
        entries = data.get("codes") if isinstance(data, dict) else None
        for spec in entries.values() if isinstance(entries, dict) else ():
            named = spec.get("file", "") if isinstance(spec, dict) else ""
            target = Path(os.path.normpath(directory / str(named)))
            if target.is_relative_to(directory) or not target.is_relative_to(scratch) or target.exists():
                continue
            shown = subprocess.run(
                ["git", "-C", str(top), "show", f"{ref}:{target.relative_to(scratch).as_posix()}"],
                capture_output=True,
                check=False,
            )
            if shown.returncode == 0:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(shown.stdout)


def _at_ref(problem: Problem, scratch: str, label: str) -> Problem:
    """Name the file as `REF:path` instead of the scratch copy it was read from."""
    location = problem.location
    if location is None:
        return problem
    moved = Location(location.file.replace(scratch, label), location.line, location.column)
    return Problem(moved, problem.field, problem.message)
