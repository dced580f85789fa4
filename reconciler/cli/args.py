"""Terraform's spelling of a command line, in one place: `-auto-approve`, `-var x=1`, `-lock-timeout=10s` work
wherever `--auto-approve`, `--var` and `--lock-timeout` do, and the global options (`-q`, `-v`, `--version`) may
also follow the command (`wxrec plan -q`). The arguments are rewritten before click parses them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import click


def terraform_style(group: click.Group, args: Iterable[str]) -> list[str]:
    """`args` of `group` with the group's own options moved before the command and every single-dash long
    option spelt with two dashes where the command has that option."""
    words = _words(group, list(args))
    moved = [word.text for word in words if word.stray and _option(group, word.text) is not None]
    kept = [word.text for word in words if not (word.stray and _option(group, word.text) is not None)]
    return moved + kept


@dataclass(frozen=True)
class _Word:
    text: str
    stray: bool = False  # an option the command does not have: perhaps a global one given after it


def _words(command: click.Command, args: list[str]) -> list[_Word]:
    if not isinstance(command, click.Group):
        return _command_words(command, args)
    # A group's own options are all flags: its command's name is the first other word.
    position = next((i for i, text in enumerate(args) if not text.startswith("-")), len(args))
    own = [_Word(text, stray=_option(command, text) is None) for text in args[:position]]
    subcommand = command.get_command(click.Context(command), args[position]) if position < len(args) else None
    if subcommand is None:
        return own + [_Word(text) for text in args[position:]]
    return [*own, _Word(args[position]), *_words(subcommand, args[position + 1 :])]


def _command_words(command: click.Command, args: list[str]) -> list[_Word]:
    """`-long` spelt `--long` where the command has `--long` and no `-long`; an option's value is left alone."""
    words: list[_Word] = []
    takes_value = False
    for index, text in enumerate(args):
        if text == "--":
            return words + [_Word(t) for t in args[index:]]
        if takes_value or not text.startswith("-") or text == "-":
            words.append(_Word(text))
            takes_value = False
            continue
        text = _double_dashed(command, text)
        option = _option(command, text)
        takes_value = option is not None and not option.is_flag and not option.count and "=" not in text
        words.append(_Word(text, stray=option is None))
    return words


def _double_dashed(command: click.Command, text: str) -> str:
    name = text.partition("=")[0]
    if text.startswith("--") or len(name) <= 2 or _option(command, name) is not None:
        return text
    return "-" + text if _option(command, "-" + name) is not None else text


def _option(command: click.Command, name: str) -> click.Option | None:
    name = name.partition("=")[0]
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None
