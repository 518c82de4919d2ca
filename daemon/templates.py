"""Every email the daemon sends is a Jinja template an operator can override by name.

A template ``customer/acknowledgment`` is the file ``customer/acknowledgment.txt``
written like an email: a ``Subject:`` line, a blank line, the text body. An
optional ``customer/acknowledgment.html`` beside it adds an HTML alternative
(autoescaped). The operator's directory is searched first, then the bundled
templates. Rendering is sandboxed with StrictUndefined: customer text only ever
arrives as data in the context, never as template source.

Languages (issue 17): ``de/customer/acknowledgment.txt`` is the German variant of
``customer/acknowledgment``. ``render(name, context, language, default_language)`` takes, for the
customer's language and then for the default language: the variant in the operator's (or mailbox's)
directory, the operator's own base template when that language is the default one (it is written in
it), the bundled variant, the bundled base when the language is English (the bundled base templates
are). Last comes the base template wherever it is. ``RenderedEmail.language`` says which language the
email came out in; while it renders, the ``date``, ``datetime``, ``filesize`` and ``number`` filters and
the ``promise`` (a ``language.LocalDuration``) format in that language, so a template needs no change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import language as lang


class TemplateProblem(Exception):
    """A template that cannot be compiled or rendered, with file and line."""


def located(exc: BaseException, fallback: Path | str | None = None) -> str:
    """``<file>, line <n>: <what>`` for an error raised by compiling or rendering a template.

    A syntax error carries its file and line. A runtime error does not, but Jinja rewrites its traceback so
    that each frame of template code names the template's file and line (its globals hold
    ``__jinja_exception__``): the innermost such frame is where the template went wrong, an included one too.
    """
    what = exc.message if isinstance(exc, TemplateSyntaxError) and exc.message else str(exc)
    if not isinstance(exc, TemplateError):
        what = f"{type(exc).__name__}: {what}"
    filename, line = None, None
    if isinstance(exc, TemplateSyntaxError):
        filename, line = exc.filename, exc.lineno
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    if not filename or filename.startswith("<"):
        filename = str(fallback) if fallback else "a template"
    return f"{filename}, line {line}: {what}" if line else f"{filename}: {what}"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None
    language: str = "en"  # the language the email is written in: its Content-Language


def bundled_directory() -> Path:
    """The templates shipped with Aftercare (inside the wheel, or the checkout's templates/)."""
    try:
        path = Path(str(resources.files("aftercare.bundled_templates")))
        if (path / "customer").is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


BUNDLED_LANGUAGE = "en"  # the bundled base templates (customer/acknowledgment.txt, ...) are English

_WS = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Fold any whitespace, CR and LF included, to single spaces; drop control characters."""
    text = "".join(ch for ch in text if ch >= " " or ch in "\t\r\n")
    return _WS.sub(" ", text).strip()


def format_datetime(value: Any, zone: ZoneInfo = ZoneInfo("UTC"), fmt: str | None = None) -> str:
    """A stored (naive UTC) time as people read it, in the configured timezone and the email's language."""
    return lang.format_datetime(value, zone, fmt)


def format_size(n: Any) -> str:
    """``184320`` as "180.0 KB" ("180,0 KB" in a German email)."""
    n = int(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{lang.format_number(n, 0)} {unit}" if unit == "bytes" else f"{lang.format_number(n, 1)} {unit}"
        n /= 1024
    return str(n)


class Templates:
    """The compiled set of email templates."""

    def __init__(self, operator_directory: Path | None = None, timezone_name: str = "UTC",
                 mailbox_directory: Path | None = None):
        self.operator_directory, self.timezone_name = operator_directory, timezone_name
        self.directories = [d for d in (mailbox_directory, operator_directory, bundled_directory()) if d is not None]
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in self.directories]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._cache: dict[tuple[str, Path | None], tuple[Template, Template, Template | None]] = {}
        self.env.filters["one_line"] = one_line
        zone = ZoneInfo(timezone_name)
        self.env.filters["datetime"] = lambda value, fmt=None: lang.format_datetime(value, zone, fmt)
        self.env.filters["date"] = lambda value, fmt=None: lang.format_date(value, fmt, zone=zone)
        self.env.filters["filesize"] = format_size
        self.env.filters["number"] = lambda value, decimals=None: lang.format_number(value, decimals)
        self.env.filters["quote"] = lambda text: "\n".join("> " + line for line in str(text).splitlines())

    def with_first(self, mailbox_directory: Path | None) -> "Templates":
        """These templates with a mailbox's own directory searched first (itself when there is none)."""
        if mailbox_directory is None:
            return self
        return Templates(self.operator_directory, self.timezone_name, mailbox_directory)

    def _files(self) -> set[str]:
        """Every template file's name without ``.txt``, language variants included (``de/customer/plan``)."""
        found = set()
        for d in self.directories:
            for p in d.rglob("*.txt"):
                rel = p.relative_to(d).with_suffix("").as_posix()
                if not any(part.startswith((".", "_")) for part in rel.split("/")):
                    found.add(rel)
        return found

    @staticmethod
    def _split(file: str) -> tuple[str | None, str]:
        """``de/customer/plan`` -> ("de", "customer/plan"); ``customer/plan`` -> (None, "customer/plan")."""
        first, _, rest = file.partition("/")
        return (first, rest) if rest and lang.is_language(first) else (None, file)

    def names(self) -> list[str]:
        """Every email template name, e.g. ``customer/acknowledgment`` (base names: no language variant)."""
        return sorted({name for language, name in map(self._split, self._files()) if language is None})

    def variants(self) -> list[tuple[str, str]]:
        """Every language variant as (language, name): ("de", "customer/acknowledgment"), ..."""
        return sorted({(language, name) for language, name in map(self._split, self._files()) if language})

    def languages_of(self, name: str) -> list[str]:
        """The languages ``name`` has a variant in (in any directory)."""
        return [language for language, n in self.variants() if n == name]

    def _candidates(self, name: str, language: str, default_language: str) -> list[tuple[Path, str]]:
        """Where an email ``name`` written in ``language`` may come from, best first: (path, file name)."""
        own, bundled = self.directories[:-1], self.directories[-1]
        variant = f"{language}/{name}"
        out = [(d / f"{variant}.txt", variant) for d in own]
        if language == default_language:
            out += [(d / f"{name}.txt", name) for d in own]
        out.append((bundled / f"{variant}.txt", variant))
        if language == BUNDLED_LANGUAGE:
            out.append((bundled / f"{name}.txt", name))
        return out

    def _lookup(self, name: str, language: str | None,
                default_language: str) -> tuple[str, Path | None, str]:
        """(file name without .txt, its path, the language it is written in) for ``name`` in ``language``."""
        for wanted in dict.fromkeys(x for x in (language, default_language) if x):
            for path, file in self._candidates(name, wanted, default_language):
                if path.is_file():
                    return file, path, wanted
        # Only the base template is left, and it is not in the default language: the operator's in it is
        # (that was tried), so this is the bundled one, written in English.
        return name, None, BUNDLED_LANGUAGE

    def has_language(self, name: str, language: str, default_language: str = "en") -> bool:
        """``name`` exists written in ``language``: a variant, or a base template in that language."""
        return any(path.is_file() for path, _ in self._candidates(name, language, default_language))

    def source_of(self, filename: str) -> Path | None:
        for d in self.directories:
            if (d / filename).is_file():
                return d / filename
        return None

    def compile_all(self) -> list[str]:
        """Compile every template and language variant; raise TemplateProblem naming the file and line of
        the first error. Returns the base names."""
        names = self.names()
        for name in names:
            self._compiled(name)
        for language, name in self.variants():
            self._compiled(f"{language}/{name}")
        return names

    def _compiled(self, name: str, path: Path | None = None) -> tuple[Template, Template, Template | None]:
        """The template file ``name`` (``de/customer/plan``): the first found, or the one at ``path`` (a base
        template from a later directory, whose language the lookup chose); its HTML beside it."""
        if path is not None and path == self.source_of(f"{name}.txt"):
            path = None
        if (name, path) in self._cache:
            return self._cache[name, path]
        chosen, path = path, path or self.source_of(f"{name}.txt")
        if path is None:
            raise TemplateProblem(f"no template named {name!r} (looked for {name}.txt in "
                                  f"{', '.join(map(str, self.directories))})")
        try:
            source = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError as exc:
            raise TemplateProblem(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        except OSError as exc:
            raise TemplateProblem(f"{path}: cannot read: {exc.strerror}") from None
        head, sep, body = source.partition("\n\n")
        if not head.lower().startswith("subject:") or "\n" in head.strip("\n"):
            raise TemplateProblem(f"{path}, line 1: a template starts with one 'Subject:' line, then a blank line, "
                                  "then the text")
        try:
            subject = self._from_source(head.split(":", 1)[1], f"{name}.txt", path)
            # Pad with newlines so that errors in the body report the file's own line numbers.
            text = self._from_source("\n" * (head.count("\n") + 2) + body, f"{name}.txt", path)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(located(exc, path)) from None
        html = None
        html_path = self.source_of(f"{name}.html") if chosen is None else path.with_suffix(".html")
        if chosen is not None and not html_path.is_file():
            html_path = None
        if html_path is not None:
            try:
                if chosen is None:
                    html = self.env.get_template(f"{name}.html")
                else:
                    html = self._from_source(html_path.read_text(encoding="utf-8"), f"{name}.html", html_path)
            except TemplateSyntaxError as exc:
                raise TemplateProblem(located(exc, html_path)) from None
            except (UnicodeDecodeError, OSError) as exc:
                raise TemplateProblem(f"{html_path}: cannot read as UTF-8 text: {exc}") from None
        self._cache[name, chosen] = (subject, text, html)
        return self._cache[name, chosen]

    def _from_source(self, source: str, name: str, path: Path) -> Template:
        """A template compiled from part of a file, under the file's name: errors name the file and line."""
        code = self.env.compile(source, name=name, filename=str(path))
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def _analysable(self, name: str) -> list[tuple[Path, str]]:
        """Each file of a template with its source as Jinja reads it, lines where the file has them."""
        out = []
        for filename in (f"{name}.txt", f"{name}.html"):
            path = self.source_of(filename)
            if path is None:
                continue
            source = path.read_text(encoding="utf-8").replace("\r\n", "\n")
            if filename.endswith(".txt"):
                head, _, body = source.partition("\n\n")
                source = head.split(":", 1)[1] + "\n\n" + body
            out.append((path, source))
        return out

    def undeclared(self, name: str) -> set[str]:
        """Top-level variables the template (subject, text and HTML) reads from its context."""
        found: set[str] = set()
        for _, source in self._analysable(name):
            found |= meta.find_undeclared_variables(self.env.parse(source))
        return found - set(self.env.globals)

    def where_used(self, name: str, variable: str) -> str:
        """``<file>, line <n>``: the first place the template reads the top-level ``variable``."""
        for path, source in self._analysable(name):
            for node in self.env.parse(source).find_all(nodes.Name):
                if node.name == variable and node.ctx == "load":
                    return f"{path}, line {node.lineno}"
        return str(self.source_of(f"{name}.txt"))

    def render(self, name: str, context: dict[str, Any], language: str | None = None,
               default_language: str = "en") -> RenderedEmail:
        """The email ``name`` in ``language`` when there is a template in it, else in ``default_language``
        (see the module's docstring for the order); dates, numbers and durations follow the language."""
        file, path, written = self._lookup(name, language, default_language)
        return self.render_file(file, context, written, path)

    def render_file(self, file: str, context: dict[str, Any], language: str,
                    path: Path | None = None) -> RenderedEmail:
        """Render the template file ``file`` (``de/customer/plan``; the first found, or the one at ``path``),
        formatting for ``language``."""
        subject, text, html = self._compiled(file, path)
        try:
            with lang.rendering_in(language):
                return RenderedEmail(
                    subject=one_line(subject.render(context)),
                    text=text.render(context).strip("\n") + "\n",
                    html=html.render(context) if html is not None else None,
                    language=language,
                )
        except Exception as exc:  # a filter given the wrong type too: the file and line say where
            raise TemplateProblem(located(exc, path or self.source_of(file + ".txt"))) from None
