"""Every email the daemon sends is a Jinja template an operator can override by name.

A template ``customer/acknowledgment`` is the file ``customer/acknowledgment.txt``
written like an email: a ``Subject:`` line, a blank line, the text body. An
optional ``customer/acknowledgment.html`` beside it adds an HTML alternative
(autoescaped). The operator's directory is searched first, then the bundled
templates. Rendering is sandboxed with StrictUndefined: customer text only ever
arrives as data in the context, never as template source.
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


def bundled_directory() -> Path:
    """The templates shipped with Aftercare (inside the wheel, or the checkout's templates/)."""
    try:
        path = Path(str(resources.files("aftercare.bundled_templates")))
        if (path / "customer").is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


_WS = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Fold any whitespace, CR and LF included, to single spaces; drop control characters."""
    text = "".join(ch for ch in text if ch >= " " or ch in "\t\r\n")
    return _WS.sub(" ", text).strip()


def format_datetime(value: Any, zone: ZoneInfo = ZoneInfo("UTC"), fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
    """A stored (naive UTC) time as people read it, in the configured timezone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime(fmt)
    if isinstance(value, date):
        return value.strftime("%a %d %b %Y")
    return str(value)


def format_size(n: Any) -> str:
    n = int(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
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
        self._cache: dict[str, tuple[Template, Template, Template | None]] = {}
        self.env.filters["one_line"] = one_line
        zone = ZoneInfo(timezone_name)
        self.env.filters["datetime"] = lambda value, fmt="%a %d %b %Y, %H:%M %Z": format_datetime(value, zone, fmt)
        self.env.filters["date"] = lambda value: format_datetime(value, zone, "%a %d %b %Y")
        self.env.filters["filesize"] = format_size
        self.env.filters["quote"] = lambda text: "\n".join("> " + line for line in str(text).splitlines())

    def with_first(self, mailbox_directory: Path | None) -> "Templates":
        """These templates with a mailbox's own directory searched first (itself when there is none)."""
        if mailbox_directory is None:
            return self
        return Templates(self.operator_directory, self.timezone_name, mailbox_directory)

    def names(self) -> list[str]:
        """Every email template name, e.g. ``customer/acknowledgment``."""
        found = set()
        for d in self.directories:
            for p in d.rglob("*.txt"):
                rel = p.relative_to(d).with_suffix("").as_posix()
                if not any(part.startswith((".", "_")) for part in rel.split("/")):
                    found.add(rel)
        return sorted(found)

    def source_of(self, filename: str) -> Path | None:
        for d in self.directories:
            if (d / filename).is_file():
                return d / filename
        return None

    def compile_all(self) -> list[str]:
        """Compile every template; raise TemplateProblem naming the file and line of the first error."""
        names = self.names()
        for name in names:
            self._compiled(name)
        return names

    def _compiled(self, name: str) -> tuple[Template, Template, Template | None]:
        if name in self._cache:
            return self._cache[name]
        path = self.source_of(f"{name}.txt")
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
        html_path = self.source_of(f"{name}.html")
        if html_path is not None:
            try:
                html = self.env.get_template(f"{name}.html")
            except TemplateSyntaxError as exc:
                raise TemplateProblem(located(exc, html_path)) from None
            except (UnicodeDecodeError, OSError) as exc:
                raise TemplateProblem(f"{html_path}: cannot read as UTF-8 text: {exc}") from None
        self._cache[name] = (subject, text, html)
        return self._cache[name]

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

    def render(self, name: str, context: dict[str, Any]) -> RenderedEmail:
        subject, text, html = self._compiled(name)
        try:
            return RenderedEmail(
                subject=one_line(subject.render(context)),
                text=text.render(context).strip("\n") + "\n",
                html=html.render(context) if html is not None else None,
            )
        except Exception as exc:  # a filter given the wrong type too: the file and line say where
            raise TemplateProblem(located(exc, self.source_of(name + ".txt"))) from None
