"""`wxrec diff BASE MANIFEST`: the manifest changes since BASE classified as plan would, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from reconciler import workflows
from reconciler.cli.options import (
    destroy_threshold_option,
    embed_logos_option,
    env_options,
    format_option,
    lang_option,
    legacy_coupons_option,
    manifest_argument,
)
from reconciler.cli.output import EXIT_CHANGES, EXIT_OK, emit_plan, exit_with, terminal
from reconciler.errors import WxrecError
from reconciler.settings import RunSettings


@click.command()
@click.argument("base")
@manifest_argument
@format_option(html=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the manifests differ.")
@destroy_threshold_option
@legacy_coupons_option
@env_options
@embed_logos_option
@lang_option
def diff(
    base: str,
    manifest: Path,
    output: str,
    detailed_exitcode: bool,
    destroy_threshold: float,
    legacy_coupons: bool,
    env: str | None,
    var: tuple[str, ...],
    embed_logos: bool,
) -> None:
    """Classify the changes since BASE as plan would, offline.

    BASE is a git ref or a directory of manifests; no credentials and no network are needed. For pull requests
    from forks, which get no secrets in CI: a reviewer still sees that a one-line edit replaces a live card."""
    settings = RunSettings(
        manifest_path=manifest, env=env, var=var, destroy_threshold=destroy_threshold, legacy_coupons=legacy_coupons
    )
    result = asyncio.run(workflows.diff(base, settings, terminal()))
    emit_plan(result, output, title="wxrec diff", embed_logos=embed_logos)
    if result.refusals:
        raise WxrecError("apply would refuse these changes (see above)")
    exit_with(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)
