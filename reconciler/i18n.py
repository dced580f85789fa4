"""The language of the reports (html and markdown of plan and diff), through gettext catalogs compiled by Babel.

English is the msgids themselves, so an English report is exactly what the code says. The language in force is
a context variable: the renderers call `_` without a translations object passed down to every helper.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

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


# What a Said's arguments may be: plain values, or a Said (a sentence inside a sentence).
Arg = str | int
SaidDocument = dict[str, Any]


class Said(str):
    """A sentence made at plan time and shown later, perhaps in another language: the English text (what the plan
    document, the terminal and older readers show) that remembers its msgid, plural and arguments, so a report
    says it again in its own language (`spoken`). Made with `said` or `said_n`, never directly."""

    msgid: str
    plural: str | None
    number: int | None
    args: Mapping[str, Arg]

    def __new__(cls, msgid: str, args: Mapping[str, Arg], plural: str | None = None, count: int | None = None) -> Said:
        english = msgid if plural is None or count == 1 else plural
        self = super().__new__(cls, english.format(**args))
        self.msgid, self.plural, self.number, self.args = msgid, plural, count, dict(args)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Said, (self.msgid, self.args, self.plural, self.number))

    def __deepcopy__(self, memo: Any) -> Said:
        return self  # immutable, as a str is

    def translated(self) -> str:
        translations = current()
        if self.plural is None:
            template = translations.gettext(self.msgid)
        else:
            template = translations.ngettext(self.msgid, self.plural, self.number or 0)
        return template.format(
            **{name: say(value) if isinstance(value, str) else value for name, value in self.args.items()}
        )

    def to_document(self) -> SaidDocument:
        args = {name: value.to_document() if isinstance(value, Said) else value for name, value in self.args.items()}
        plural = {"plural": self.plural, "count": self.number} if self.plural is not None else {}
        return {"msgid": self.msgid, **plural, "args": args}

    @classmethod
    def from_document(cls, document: SaidDocument) -> Said:
        args = {name: cls.from_document(v) if isinstance(v, dict) else v for name, v in document["args"].items()}
        return cls(document["msgid"], args, document.get("plural"), document.get("count"))


def said(msgid: str, **args: Arg) -> Said:
    """A sentence for the plan (a reason, a note, a warning …) that a report can translate: `msgid` is English
    with `{name}` fields (extracted into the catalogs: keep it a literal, or an `N_` constant); an argument that is
    itself `said` is translated with it."""
    return Said(msgid, args)


def said_n(singular: str, plural: str, count: int, **args: Arg) -> Said:
    """`said` for a sentence that depends on a number: `count` picks the plural form and fills `{count}`."""
    return Said(singular, {"count": count, **args}, plural, count)


def listed(items: Sequence[str]) -> Said:
    """Several things in one phrase, "cards, tags and stocks", each translated with it (`N_` msgids or Saids)."""
    first, *rest = [said(item) if not isinstance(item, Said) else item for item in items]
    if not rest:
        return first
    *middle, last = rest
    for item in middle:
        first = said("{first}, {then}", first=first, then=item)
    return said("{first} and {last}", first=first, last=last)


def say(text: str) -> str:
    """`text` in the report's language when it is a Said, else as it is (a value, an id, an older plan's text)."""
    return text.translated() if isinstance(text, Said) else text


def messages(document: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """For a document about to be written: how each Said of its `names` lists was made (null for plain text),
    under `messages`, beside the English text. Nothing when none is a Said."""
    made = {
        name: [value.to_document() if isinstance(value, Said) else None for value in document[name]]
        for name in names
        if any(isinstance(value, Said) for value in document[name])
    }
    return {"messages": made} if made else {}


def restored(document: Mapping[str, Any], name: str) -> list[str]:
    """A document's `name` list read back, each text a Said again where `messages` says how it was made."""
    made = (document.get("messages") or {}).get(name) or []
    texts = list(document.get(name, []))
    return [Said.from_document(m) if m else text for text, m in zip(texts, made + [None] * len(texts), strict=False)]


def spoken(document: Mapping[str, Any], name: str) -> list[str]:
    """A document's `name` list (reasons, notes …) in the report's language."""
    return [say(text) for text in restored(document, name)]
