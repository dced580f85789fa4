"""One report for a run over several manifest directories: a section per account, a closing summary, and the
exit code that covers them all. Each section's body is the account's own report, as it would print alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.i18n import N_, _, language, ngettext

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@dataclass(frozen=True)
class Section:
    label: str  # the manifest directory as the user gave it
    body: str  # the account's own report ("" when it failed before it had one)
    error: str | None = None
    changed: bool = False


@dataclass(frozen=True)
class Words:
    """How the summary names the outcomes of the command: plan's "with changes", drift's "drifted" … (an empty
    word leaves that count out)."""

    changed: str
    unchanged: str
    failed: str = N_("failed")


# The commands' words, marked here for the catalogs: the markdown report says them in its language.
PLAN_WORDS = Words(N_("with changes"), N_("without changes"))
DRIFT_WORDS = Words(N_("drifted"), N_("in sync"))
APPLY_WORDS = Words(N_("applied"), N_("without changes"))


def exit_code(sections: Sequence[Section], detailed: bool) -> int:
    """1 if any account failed, else (when changes are asked about) 2 if any has changes, else 0."""
    if any(section.error is not None for section in sections):
        return EXIT_ERROR
    return EXIT_CHANGES if detailed and any(section.changed for section in sections) else EXIT_OK


def summary(sections: Sequence[Section], words: Words) -> str:
    failed = [s.label for s in sections if s.error is not None]
    changed = sum(s.changed for s in sections if s.error is None)
    unchanged = len(sections) - len(failed) - changed
    counts = ((changed, words.changed), (unchanged, words.unchanged), (len(failed), words.failed))
    outcomes = _(", ").join(f"{count} {_(word)}" for count, word in counts if word)
    line = ngettext("{count} account: {outcomes}", "{count} accounts: {outcomes}", len(sections))
    line = line.format(count=len(sections), outcomes=outcomes)
    return line + (_(" ({accounts}).").format(accounts=", ".join(failed)) if failed else _("."))


def render_text(sections: Sequence[Section], words: Words) -> str:
    with language("en"):
        return _render_text(sections, words)


def _render_text(sections: Sequence[Section], words: Words) -> str:
    parts = []
    for section in sections:
        error = f"Error: {section.error}\n" if section.error is not None else ""
        parts.append(f"=== {section.label} ===\n{section.body}{error}\n")
    return "".join(parts) + summary(sections, words) + "\n"


def render_markdown(sections: Sequence[Section], words: Words, title: str) -> str:
    accounts = ngettext("{title}: {count} account", "{title}: {count} accounts", len(sections))
    # Babel does not read calls inside an f-string: each message is its own expression.
    columns = (_("account"), _("result"))
    head = [f"## {accounts.format(title=title, count=len(sections))}", "", "| {} | {} |".format(*columns)]
    head.append("| --- | --- |")
    for section in sections:
        result = f"**{_(words.failed)}**" if section.error is not None else _outcome(section, words)
        head.append(f"| `{section.label}` | {result} |")
    parts = ["\n".join(head) + "\n\n"]
    for section in sections:
        error = "\n**{}**\n\n```\n{}\n```\n".format(_("Error:"), section.error) if section.error is not None else ""
        parts.append(f"---\n\n**`{section.label}`**\n\n{section.body}{error}\n")
    return "".join(parts) + summary(sections, words) + "\n"


def _outcome(section: Section, words: Words) -> str:
    return _(words.changed if section.changed else words.unchanged)
