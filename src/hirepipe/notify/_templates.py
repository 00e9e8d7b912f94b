"""Templates: sandboxed Jinja2, HTML autoescaped, plain text alongside, overridable per file.

A notification template ``name`` is three files: ``name.subject.txt`` (one line), ``name.txt``
(plain text) and ``name.html`` (HTML, autoescaped). A company overrides any file by putting
one with the same name in its own directory; everything else comes from the defaults shipped
in ``hirepipe/notify/templates``; or gives the files as a mapping of file names to template
text (``Templates(sources={"offer.txt": "..."})``), searched before any directory. Files whose
names start with ``_`` are shared parts: the HTML
layout (``_layout.html``) and the shared wording (``_wording.txt``), whose top-level names
(``next_steps``, ``headlines``, the ``step`` and ``outlook`` macros) every template can use.

Templates run in Jinja2's immutable sandbox: they read the facts they are given and cannot reach
Python internals or change anything (``{{ ''.__class__ }}`` raises
[`TemplateError`][hirepipe.errors.TemplateError]). Undefined names fail loudly by default
(``strict=True``).

Filters for the facts, which hold dates and amounts as JSON strings, written the reader's way
(the ``locale`` fact, English by default; Babel's CLDR data): ``date`` ("Monday, January 13,
2025"; in German "Montag, 13. Januar 2025"), ``datetime`` ("Monday, January 13, 2025, 10:00 AM
(UTC-05:00)") and ``money(currency)`` ("$135,000"; "1.234.567,50 €"). ``date`` and
``datetime`` show an instant in the requisition's time zone (the ``job.time_zone`` fact), or in
the zone they are given.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hirepipe._fork import renew_in_child
from hirepipe.notify._facts import DEFAULT_LOCALE, LazyFacts
from hirepipe.notify._model import Message, TemplateError

if TYPE_CHECKING:
    from babel import Locale
    from babel.numbers import NumberPattern

__all__ = ["Templates"]

_PARTS = (("subject", ".subject.txt"), ("text", ".txt"), ("html", ".html"))
_WORDING = "_wording.txt"
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")  # an optional part left out


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, looking a fact's keys up before its attributes.

    Facts are plain dicts: ``candidate.name`` is the key ``name``. Jinja tries the attribute
    first and fails with an exception before it tries the key, which doubled render times.
    Keys hold data, so reading them first reaches nothing the sandbox protects; anything else
    still goes through the sandbox's checks.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class Templates:
    """The notification templates: a company's directories first, then hirepipe's defaults.

    ``directories`` is one directory or several, searched in order before the defaults;
    ``sources`` maps file names (``"offer_document.html"``) to template text, searched first,
    for templates kept in a database or in code. ``strict`` makes an undefined name an error
    (the default); with ``strict=False`` it renders as nothing. Compiled templates are cached;
    files are not re-read once loaded.
    """

    def __init__(
        self,
        directories: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
        *,
        sources: Mapping[str, str] | None = None,
        strict: bool = True,
    ) -> None:
        if isinstance(directories, str | os.PathLike):
            directories = [directories]
        self.directories: tuple[str, ...] = tuple(os.fspath(d) for d in directories)
        self.sources: Mapping[str, str] = dict(sources or {})
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(d) for d in self.directories]
        if self.sources:
            loaders.insert(0, jinja2.DictLoader(dict(self.sources)))
        loaders.append(jinja2.PackageLoader("hirepipe.notify", "templates"))
        self.environment: ImmutableSandboxedEnvironment = _Sandbox(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # no stat() per render: a deployed template does not change
            cache_size=-1,
        )
        self.environment.filters.update(
            date=_date_filter, datetime=_datetime_filter, money=_money_filter
        )
        for gadget in ("cycler", "joiner", "lipsum"):  # unused; every global costs each render
            del self.environment.globals[gadget]
        # the shared wording, as globals: importing it in every part doubled render times
        wording = self._load(_WORDING).module
        self.environment.globals.update(
            (name, value) for name, value in vars(wording).items() if not name.startswith("_")
        )
        self._shared = frozenset(self.environment.globals)
        self._compiled: dict[str, tuple[jinja2.Template, jinja2.Template, jinja2.Template]] = {}
        self._needs: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        renew_in_child(self)

    def _after_fork(self) -> None:
        # a forked child's copy of the lock may be held for good by a thread of its parent
        self._lock = threading.Lock()

    def render(self, name: str, facts: Mapping[str, Any]) -> Message:
        """Render template ``name`` with ``facts``; raise TemplateError if it cannot."""
        subject, text, html = self._compiled.get(name) or self._compile(name)
        # lazy facts are built here, outside the template's error handling
        facts = facts.built() if isinstance(facts, LazyFacts) else dict(facts)
        return Message(
            subject=" ".join(self._run(name, "subject", subject, facts).split()),
            text=_BLANK_LINES.sub("\n\n", self._run(name, "text", text, facts)).strip() + "\n",
            html=self._run(name, "html", html, facts).strip() + "\n",
        )

    def needs(self, name: str) -> frozenset[str]:
        """Return the top-level names template ``name`` reads (its parts and what they include).

        The notifier builds only these facts, so an estimate is computed only for templates
        that show one.
        """
        found = self._needs.get(name)
        if found is None:
            found = frozenset().union(*(self._names(name + suffix) for _, suffix in _PARTS))
            found = self._needs[name] = found - self._shared
        return found

    def check(self, names: Iterable[str]) -> None:
        """Compile every template in ``names`` now; raise TemplateError naming what is wrong."""
        for name in names:
            if name not in self._compiled:
                self._compile(name)

    def _compile(self, name: str) -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
        with self._lock:
            compiled = self._compiled.get(name)
            if compiled is None:
                subject, text, html = (self._load(name + suffix) for _, suffix in _PARTS)
                for template in (subject, text, html):
                    # Jinja's live view of the globals is a ChainMap that every render copies
                    # key by key; a plain dict (the globals are set once) renders 3x faster
                    template.globals = dict(template.globals)
                compiled = self._compiled[name] = (subject, text, html)
            return compiled

    def _load(self, filename: str) -> jinja2.Template:
        try:
            return self.environment.get_template(filename)
        except jinja2.TemplateNotFound:
            given = ["the sources given"] if self.sources else []
            where = ", ".join([*given, *self.directories, "hirepipe/notify/templates"])
            raise TemplateError(
                filename, f"not found in {where}; add the file or fix the rule's template name"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(filename, f"syntax error on line {exc.lineno}: {exc}") from exc

    def _names(self, filename: str, seen: set[str] | None = None) -> set[str]:
        """The undeclared names of ``filename`` and of the templates it references."""
        seen = seen if seen is not None else set()
        if filename in seen:
            return set()
        seen.add(filename)
        try:
            source, _, _ = self.environment.loader.get_source(  # type: ignore[union-attr]
                self.environment, filename
            )
            tree = self.environment.parse(source, filename)
        except jinja2.TemplateNotFound:
            raise TemplateError(filename, "not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(filename, f"syntax error on line {exc.lineno}: {exc}") from exc
        names = set(meta.find_undeclared_variables(tree)) - _imported(tree)
        for other in meta.find_referenced_templates(tree):
            if other is not None:
                names |= self._names(other, seen)
        return names

    @staticmethod
    def _run(name: str, part: str, template: jinja2.Template, facts: Mapping[str, Any]) -> str:
        try:
            return template.render(facts)
        except SecurityError as exc:
            raise TemplateError(
                template.name or name,
                f"the sandbox refused it ({exc}); a template can read its facts and nothing else",
            ) from exc
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                template.name or name, f"{exc} (the {part} part reads a fact it was not given)"
            ) from exc
        except Exception as exc:  # a filter or the sandbox's range limit: still the template's
            raise TemplateError(template.name or name, f"{type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        given = f", sources={sorted(self.sources)!r}" if self.sources else ""
        return f"Templates(directories={list(self.directories)!r}{given})"


def _imported(tree: nodes.Template) -> set[str]:
    """Names a template imports (``{% from ... import x %}``, ``{% import ... as y %}``).

    Jinja reports top-level imports of a child template as undeclared inside its blocks.
    """
    names: set[str] = set()
    for node in tree.find_all((nodes.FromImport, nodes.Import)):
        if isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.FromImport):
            names.update(name if isinstance(name, str) else name[1] for name in node.names)
    return names


# -- filters ---------------------------------------------------------------------------------


def _parse(value: object, zone: str | None = None) -> _dt.date:
    """A date, or an aware datetime moved into ``zone`` (if given), from a fact."""
    if isinstance(value, _dt.datetime):
        value = value.isoformat()  # a plain datetime: pendulum's subclass converts slowly
    elif isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            parsed = _dt.datetime.fromisoformat(value) if "T" in value else None
            if parsed is None:
                return _dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if zone is not None and parsed.utcoffset() is not None:
                return parsed.astimezone(ZoneInfo(zone))
            return parsed
    raise ValueError(f"expected a date or an ISO 8601 string, got {value!r}")


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    """Babel's data for locale ``name``, imported and parsed once (Babel loads on first use)."""
    from babel import Locale

    return Locale.parse(name)


def format_date(value: object, zone: str | None = None, *, locale: str = DEFAULT_LOCALE) -> str:
    """Write a date (or the local date of a datetime in ``zone``) in ``locale``'s full form.

    "Monday, January 13, 2025" in English, "Montag, 13. Januar 2025" in German.
    """
    if isinstance(value, str):  # the facts' form: the same few dates, rendered again and again
        return _date_text(value, zone, locale)
    return _date_text.__wrapped__(value, zone, locale)


@lru_cache(maxsize=4096)
def _date_text(value: object, zone: str | None, locale: str) -> str:
    from babel.dates import format_date as babel_date

    day = _parse(value, zone)
    if isinstance(day, _dt.datetime):
        day = day.date()
    return str(babel_date(day, "full", locale=_locale(locale)))


def format_datetime(value: object, zone: str | None = None, *, locale: str = DEFAULT_LOCALE) -> str:
    """Write a datetime as its full date and short time in ``locale``, with its UTC offset.

    "Monday, January 13, 2025, 10:00 AM (UTC-05:00)" in English, shown in ``zone`` if given.
    """
    # strings only: equal datetimes at different offsets would share a cached text
    if isinstance(value, str):
        return _datetime_text(value, zone, locale)
    return _datetime_text.__wrapped__(value, zone, locale)


@lru_cache(maxsize=4096)
def _datetime_text(value: object, zone: str | None, locale: str) -> str:
    from babel.dates import format_time

    moment = _parse(value, zone)
    if not isinstance(moment, _dt.datetime):
        return format_date(moment, locale=locale)
    reader = _locale(locale)
    joined = str(reader.datetime_formats["full"])
    text = joined.format(
        format_time(moment.time(), "short", locale=reader), format_date(moment, locale=locale)
    )
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{text} (UTC{sign}{hours:02d}:{rest:02d})"


def _zone(context: Context) -> str | None:
    """The requisition's zone, from the ``job`` fact, for the filters' local times."""
    job = context.get("job")
    zone = job.get("time_zone") if isinstance(job, Mapping) else None
    return zone if isinstance(zone, str) else None


def _reader(context: Context) -> str:
    """The reader's locale, from the ``locale`` fact."""
    locale = context.get("locale")
    return locale if isinstance(locale, str) and locale else DEFAULT_LOCALE


@jinja2.pass_context
def _date_filter(context: Context, value: object, zone: str | None = None) -> str:
    return format_date(value, zone or _zone(context), locale=_reader(context))


@jinja2.pass_context
def _datetime_filter(context: Context, value: object, zone: str | None = None) -> str:
    return format_datetime(value, zone or _zone(context), locale=_reader(context))


@jinja2.pass_context
def _money_filter(context: Context, value: object, currency: str = "") -> str:
    return money(value, currency, locale=_reader(context))


def money(value: object, currency: str = "", *, locale: str = DEFAULT_LOCALE) -> str:
    """Write an amount in ``locale``'s way, with the currency's symbol: "$135,000".

    "1.234.567,50 €" in German. Cents appear only when there are some; with no currency, the
    amount alone ("1,200").
    """
    return _money_text(str(value), currency, locale)


@lru_cache(maxsize=4096)
def _money_text(value: str, currency: str, locale: str) -> str:
    from babel.numbers import format_currency, format_decimal

    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"expected an amount, got {value!r}") from None
    reader = _locale(locale)
    whole = amount == amount.to_integral_value()
    if not currency:
        return str(format_decimal(amount, "#,##0" if whole else "#,##0.00", locale=reader))
    if not whole:
        return str(format_currency(amount, currency, locale=reader))
    return str(_whole(reader).apply(amount, reader, currency=currency, currency_digits=False))


@lru_cache(maxsize=64)
def _whole(reader: Locale) -> NumberPattern:
    """The locale's currency pattern without a fraction: a salary of 135,000 shows no ".00"."""
    pattern: NumberPattern = copy.copy(reader.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern
