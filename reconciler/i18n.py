"""The language of the reports (html and markdown of plan and diff), through gettext catalogs compiled by Babel.

English is the msgids themselves, so an English report is exactly what the code says. The language in force is
a context variable: the renderers call `_` without a translations object passed down to every helper.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.support import NullTranslations, Translations

from reconciler.errors import WxrecError

DOMAIN = "wxrec"
LOCALE_DIR = Path(__file__).parent / "locale"
# What --lang accepts (lower-cased, '_' read as '-'), and the catalog each names; None: the msgids themselves.
LANGUAGES: dict[str, str | None] = {"en": None, "zh-cn": "zh_CN"}
# Where gettext itself looks for the user's language, first match wins.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_ENGLISH = NullTranslations()
_current: ContextVar[NullTranslations | None] = ContextVar("wxrec_translations", default=None)


def _(message: str) -> str:
    return current().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return current().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; `_` translates it where it is shown."""
    return message


def current() -> NullTranslations:
    return _current.get() or _ENGLISH


def language_of(requested: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The report language: `requested` (--lang), else WXREC_LANG, else the locale when wxrec speaks it, else en.

    A language asked for by name and not known is an error; a locale wxrec does not speak is English."""
    for given, source in ((requested, "--lang"), (environ.get("WXREC_LANG"), "WXREC_LANG")):
        if given:
            key = given.strip().lower().replace("_", "-")
            if key not in LANGUAGES:
                raise WxrecError(f"{source} {given!r}: wxrec's reports are in en or zh-CN")
            return key
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            # zh_CN.UTF-8@modifier → zh-cn; LANGUAGE may list several (zh_CN:en).
            key = value.split(":")[0].partition(".")[0].partition("@")[0].lower().replace("_", "-")
            return key if key in LANGUAGES else "en"
    return "en"


def translations(language: str) -> NullTranslations:
    catalog = LANGUAGES[language]
    if catalog is None:
        return NullTranslations()
    found = Translations.load(LOCALE_DIR, [catalog], DOMAIN)
    if not isinstance(found, Translations):
        raise WxrecError(f"the {catalog} catalog is missing from {LOCALE_DIR}: reinstall wxrec")
    return found


@contextmanager
def language(name: str) -> Iterator[None]:
    """Reports rendered inside speak `name` (a key of LANGUAGES, as `language_of` gives)."""
    token = _current.set(translations(name))
    try:
        yield
    finally:
        _current.reset(token)
