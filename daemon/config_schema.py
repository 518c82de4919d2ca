"""The machinery behind the config dataclasses: one descriptor per key, and the reader that uses them.

A key of the TOML file is a dataclass field made by one of the helpers below (``text``, ``whole``,
``duration``, ...). The helper puts a ``Key`` in the field's metadata: the TOML type, the default as
written in the file, the check, how the value becomes the attribute, and what the key means. It also
gives the field that default, parsed, so a dataclass built in code agrees with the file. ``read_table``
reads a TOML table into such a dataclass, and ``schema_keys`` lists every key for the tests that hold
config.example.toml to the schema.
"""
from __future__ import annotations

import dataclasses
import re
import difflib
import os
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Callable, Iterator

from .durations import DurationError, parse_duration


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and the reason."""

    def __init__(self, file: str | os.PathLike, key: str, reason: str):
        self.file, self.key, self.reason = str(file), key, reason
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + reason)


class Secret:
    """A password that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Invalid(Exception):
    """Raised by a key's parse or resolve; the reader adds the file and the key (``at``: ``[2]``, ``.word``)."""

    def __init__(self, reason: str, at: str = ""):
        super().__init__(reason)
        self.reason, self.at = reason, at


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Derived:
    """A default worked out from other keys; ``doc`` is how config.example.toml says it."""

    doc: str
    value: Callable[["Scope"], Any]  # the value as it would be written in the file


@dataclass(frozen=True)
class Key:
    kinds: tuple[type, ...]  # the TOML types accepted
    default: Any = REQUIRED  # as written in the file; REQUIRED, Derived, or None: unset
    doc: str = ""
    check: Callable[[Any], str | None] | None = None  # the value as written -> a problem, or None
    parse: Callable[[Any], Any] | None = None  # the value as written -> the attribute; may raise Invalid
    resolve: Callable[[Any, "Scope"], Any] | None = None  # then, with the file and the other keys at hand
    wrong_type: str = ""  # the reason for a value of the wrong type, instead of "expected ..., got ..."
    secret: bool = False  # also <key>_file and <key>_env, or the systemd credential <table>_<key>
    secret_file: bool = False  # a path to a file that holds a secret (check-config warns if others read it)
    duration: bool = False
    zero_means: str = ""  # a duration where zero is allowed: what it means
    table: type | None = None  # a table of the file, read into this dataclass
    absent: str = "defaults"  # a table not in the file: "defaults", "none" (the attribute is None) or "required"
    many: bool = False  # an array of tables ([[mailboxes]]): a tuple, each entry read into ``table``
    required_when: str = ""  # unset by default, but required in one form of the file (the reader checks it)

    def names(self, attr: str) -> tuple[str, ...]:
        """The names the key may be written under in the file."""
        return (attr, f"{attr}_file", f"{attr}_env") if self.secret else (attr,)


def key(kinds: type | tuple[type, ...], default: Any = REQUIRED, doc: str = "", **options: Any) -> Any:
    """A dataclass field for one key of the file."""
    k = Key(kinds if isinstance(kinds, tuple) else (kinds,), default, doc, **options)
    return field(metadata={"key": k}, **_field_default(k))


def _field_default(k: Key) -> dict[str, Any]:
    if k.many:
        return {"default": ()}
    if k.table is not None:
        return {} if k.absent == "required" else {"default": None} if k.absent == "none" else {"default_factory": k.table}
    if k.default is REQUIRED or isinstance(k.default, Derived):
        return {}
    if k.default is None or k.parse is None:
        return {"default": k.default}
    return {"default": k.parse(k.default)}


def computed(value: Callable[["Scope"], Any], **default: Any) -> Any:
    """A field that is no key of the file but follows from keys read: ``value(scope)``."""
    return field(metadata={"computed": value}, **default)


# --- kinds of keys -----------------------------------------------------------------

def text(default: Any = REQUIRED, doc: str = "", *, choices: tuple[str, ...] = (), may_be_empty: bool = False,
         **options: Any) -> Any:
    def check(v: str) -> str | None:
        if choices and v not in choices:
            return f"must be one of {', '.join(repr(c) for c in choices)}, got {v!r}"
        if not choices and not may_be_empty and not v.strip():
            return "must not be empty"
        return None
    return key(str, default, doc, check=check, **options)


def whole(default: Any, doc: str = "", *, check: Callable[[int], str | None] | None = None) -> Any:
    return key(int, default, doc, check=check)


def flag(default: bool, doc: str = "") -> Any:
    return key(bool, default, doc)


def duration(default: str, doc: str = "", *, zero_means: str = "") -> Any:
    """``"90s"``, ``"1d12h"``: a timedelta longer than zero, or zero too where ``zero_means`` says what it means."""
    def parse(text: str):
        try:
            value = parse_duration(text)
        except DurationError as exc:
            raise Invalid(str(exc)) from None
        if not value and not zero_means:
            raise Invalid("must be longer than zero")
        return value
    return key(str, default, doc, parse=parse, duration=True, zero_means=zero_means)


def optional_duration(default: str, doc: str = "") -> Any:
    """``"365d"``: a timedelta longer than zero, or ``""`` for None (nothing removed, kept for ever)."""
    def parse(text: str):
        if not text.strip():
            return None
        try:
            value = parse_duration(text)
        except DurationError as exc:
            raise Invalid(str(exc)) from None
        if not value:
            raise Invalid("must be longer than zero")  # "" keeps for ever (the key's doc says so)
        return value
    return key(str, default, doc, parse=parse, duration=True)


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[iI]?[bB]?\s*")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def byte_size(default: str, doc: str = "") -> Any:
    """``"20MB"``, ``"500kB"``, ``"1GB"`` (powers of 1024, as the emails show sizes): a whole number of bytes
    above zero."""
    def parse(value: str) -> int:
        match = _SIZE.fullmatch(value)
        if not match:
            raise Invalid(f'expected a size such as "20MB", "500kB" or "1GB", got {value!r}')
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
        if size <= 0:
            raise Invalid("must be more than zero")
        return size
    return key(str, default, doc, parse=parse)


def word_list(default: list[str], doc: str = "", *, normalise: Callable[[str], str] = str.lower,
              check_item: Callable[[str], str | None] | None = None) -> Any:
    """A list of short words (file extensions, content types), as a tuple of their normal form."""
    def parse(values: list) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(values):
            if not isinstance(item, str) or not item.strip():
                raise Invalid("expected a non-empty string", f"[{i}]")
            problem = check_item(item.strip()) if check_item else None
            if problem:
                raise Invalid(problem, f"[{i}]")
            out.append(normalise(item.strip()))
        return tuple(dict.fromkeys(out))
    return key(list, default, doc, parse=parse)


def port_number(default: Derived, doc: str = "") -> Any:
    return whole(default, doc, check=lambda v: None if 0 < v < 65536 else f"must be between 1 and 65535, got {v}")


def address(default: Any = REQUIRED, doc: str = "", *, parse: Callable[[str], Any] | None = None,
            **options: Any) -> Any:
    return text(default, doc, parse=lambda v: check_address(v) if parse is None else parse(check_address(v)),
                **options)


def address_list(default: Any, doc: str = "", *, check: Callable[[list], str | None] | None = None) -> Any:
    """A list of email addresses, as their lowercase addr-spec; a problem names the item: ``staff.addresses[2]``."""
    def parse(values: list) -> tuple[str, ...]:
        for i, a in enumerate(values):
            if not isinstance(a, str):
                raise Invalid("expected a string", f"[{i}]")
            try:
                check_address(a)
            except Invalid as exc:
                raise Invalid(exc.reason, f"[{i}]") from None
        return tuple(parseaddr(a)[1].lower() for a in values)
    return key(list, default, doc, check=check, parse=parse)


def relative_path(doc: str = "", *, resolve: Callable[[Path, "Scope"], Any] | None = None, secret_file: bool = False) -> Any:
    """A file or directory; a relative path is relative to the config file. Unset by default."""
    def relative(value: str, scope: Scope) -> Any:
        p = Path(value) if Path(value).is_absolute() else scope.file.parent / value
        return p if resolve is None else resolve(p, scope)
    return text(None, doc, resolve=relative, secret_file=secret_file)


def secret(required: bool, doc: str = "") -> Any:
    return key(str, REQUIRED if required else None, doc, secret=True)


def table(cls: type, doc: str = "", *, absent: str = "defaults", resolve: Callable[[Any, "Scope"], Any] | None = None,
          wrong_type: str = "") -> Any:
    return key(dict, None, doc, table=cls, absent=absent, resolve=resolve, wrong_type=wrong_type)


def table_list(cls: type, doc: str = "") -> Any:
    """An array of tables (``[[mailboxes]]``), each read into ``cls`` and named by its ``name`` key
    (``mailboxes.billing.host``) or, without a usable one, its place (``mailboxes[1].host``). Its keys
    are documented once, under the single table of the same class (``[mailbox]``)."""
    return key(list, None, doc, table=cls, many=True)


def check_address(value: str) -> str:
    name, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
        raise Invalid(f"{value!r} is not an email address")
    return value


# --- the schema, walked ------------------------------------------------------------

def keys_of(cls: type) -> list[tuple[str, Key]]:
    return [(f.name, f.metadata["key"]) for f in dataclasses.fields(cls) if "key" in f.metadata]


def schema_keys(cls: type, prefix: str = "") -> Iterator[tuple[str, Key]]:
    """Every key of the file below ``cls`` as ``("schedule.business_hours.days", Key)``; tables are walked."""
    for attr, k in keys_of(cls):
        name = f"{prefix}{attr}"
        if k.many:
            continue  # documented under its single twin ([mailbox] for [[mailboxes]])
        if k.table is not None:
            yield from schema_keys(k.table, name + ".")
        else:
            yield name, k


# --- reading -----------------------------------------------------------------------

@dataclass
class Scope:
    """One table being read: the file, its dotted name, what it says, and what was read of it so far."""

    file: Path
    name: str  # "" for the whole file
    table: dict
    parent: Scope | None = None
    given: dict[str, Any] = field(default_factory=dict)  # each key as written, or its default
    attrs: dict[str, Any] = field(default_factory=dict)  # each attribute, as far as read

    def key(self, attr: str) -> str:
        return f"{self.name}.{attr}" if self.name else attr

    def error(self, attr: str, reason: str) -> ConfigError:
        return ConfigError(self.file, self.key(attr), reason)


def read_table(file: Path, name: str, table: dict, cls: type, parent: Scope | None = None) -> Any:
    """Read ``table`` into ``cls``; raise ConfigError on the first problem."""
    scope = Scope(file, name, table, parent)
    keys = keys_of(cls)
    if all(k.table is not None for _, k in keys):
        _refuse_unknown(scope, keys)  # a misspelt table is named before the table it should be is missed
    for attr, k in keys:  # the values as written, checked
        if k.table is None and (not isinstance(k.default, Derived) or attr in table):
            scope.given[attr] = _given(scope, attr, k)
    for attr, k in keys:  # defaults that follow from other keys
        if isinstance(k.default, Derived) and attr not in scope.given:
            scope.given[attr] = k.default.value(scope)
    for attr, k in keys:
        scope.attrs[attr] = _attribute(scope, attr, k)
    for f in dataclasses.fields(cls):
        if "computed" in f.metadata:
            scope.attrs[f.name] = f.metadata["computed"](scope)
    _refuse_unknown(scope, keys)
    value = cls(**scope.attrs)
    conflict = getattr(value, "conflict", None)
    if conflict is not None and (problem := conflict()):
        raise scope.error(*problem)
    return value


def _given(scope: Scope, attr: str, k: Key) -> Any:
    if k.secret:
        return _secret(scope, attr, required=k.default is REQUIRED)
    if attr not in scope.table:
        if k.default is REQUIRED:
            raise scope.error(attr, "is required but missing")
        return k.default
    value = scope.table[attr]
    if not isinstance(value, k.kinds) or (bool not in k.kinds and isinstance(value, bool)):
        names = " or ".join(_type_name(t) for t in k.kinds)
        raise scope.error(attr, k.wrong_type or f"expected {names}, got {_shown(attr, value)}")
    if k.check is not None and (problem := k.check(value)):
        raise scope.error(attr, problem)
    return value


def _attribute(scope: Scope, attr: str, k: Key) -> Any:
    if k.many:
        return _subtables(scope, attr, k)
    if k.table is not None:
        value = _subtable(scope, attr, k)
    else:
        value = scope.given[attr]
        if value is None or k.secret:
            return value
        try:
            value = k.parse(value) if k.parse else value
        except Invalid as exc:
            raise scope.error(attr + exc.at, exc.reason) from None
    try:
        return k.resolve(value, scope) if k.resolve and value is not None else value
    except Invalid as exc:
        raise scope.error(attr + exc.at, exc.reason) from None


ENTRY_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _subtables(scope: Scope, attr: str, k: Key) -> tuple:
    name, items = scope.key(attr), scope.table.get(attr)
    if items is None:
        return ()
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ConfigError(scope.file, name, f"expected one or more [[{name}]] tables")
    out = []
    for i, item in enumerate(items):
        label = item.get("name")
        where = f"{name}.{label}" if isinstance(label, str) and ENTRY_NAME.fullmatch(label) else f"{name}[{i}]"
        out.append(read_table(scope.file, where, item, k.table, scope))
    return tuple(out)


def _subtable(scope: Scope, attr: str, k: Key) -> Any:
    name, sub = scope.key(attr), scope.table.get(attr)
    if sub is None:
        if k.absent == "required":
            raise ConfigError(scope.file, name, f"the section [{name}] is missing")
        if k.absent == "none":
            return None
        sub = {}
    if not isinstance(sub, dict):
        inner = keys_of(k.table)
        if all(i.table is not None for _, i in inner):
            reason = "expected tables " + " and ".join(f"[{name}.{a}]" for a, _ in inner)
        else:
            reason = f"expected a table [{name}], got {type(sub).__name__}"
        raise ConfigError(scope.file, name, k.wrong_type or reason)
    return read_table(scope.file, name, sub, k.table, scope)


def _refuse_unknown(scope: Scope, keys: list[tuple[str, Key]]) -> None:
    known = [n for attr, k in keys for n in k.names(attr)]
    what = "section" if not scope.name else "table" if all(k.table is not None for _, k in keys) else "key"
    for name in scope.table:
        if name not in known:
            raise scope.error(name, f"unknown {what}" + suggest(name, known))


def _secret(scope: Scope, attr: str, required: bool) -> Secret | None:
    """``attr``, ``attr_file`` or ``attr_env``, else a systemd credential named ``<table>_<attr>``."""
    t = scope.table
    given = [n for n in (attr, f"{attr}_file", f"{attr}_env") if n in t]
    if len(given) > 1:
        raise scope.error(given[1], f"give only one of {', '.join(given)}")
    if given == [attr]:
        if not isinstance(t[attr], str):
            raise scope.error(attr, "expected a string")
        return Secret(t[attr])
    if given == [f"{attr}_file"]:
        return Secret(_read_secret_file(scope, f"{attr}_file", t[f"{attr}_file"]))
    if given == [f"{attr}_env"]:
        name = t[f"{attr}_env"]
        if not isinstance(name, str) or name not in os.environ:
            raise scope.error(f"{attr}_env", f"the environment variable {name!r} is not set")
        return Secret(os.environ[name])
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    names = credential_names(scope.name, attr)
    for name in names:
        if cred_dir and (Path(cred_dir) / name).is_file():
            return Secret((Path(cred_dir) / name).read_text(encoding="utf-8").rstrip("\r\n"))
    if required:
        raise scope.error(attr, f"is required: set {attr}, {attr}_file or {attr}_env, or a systemd credential "
                                f"named {names[0]}")
    return None


def credential_names(table: str, attr: str) -> list[str]:
    """The systemd credentials a secret may come from: ``mailbox_password``, ``smtp_oauth2_client_secret``;
    a table inside [mailbox] may leave out the prefix (``oauth2_client_secret``)."""
    names = [f"{table}_{attr}".replace(".", "_")]
    if table.startswith("mailbox."):
        names.insert(0, f"{table.removeprefix('mailbox.')}_{attr}".replace(".", "_"))
    return names


def _read_secret_file(scope: Scope, attr: str, value: Any) -> str:
    if not isinstance(value, str):
        raise scope.error(attr, "expected a file path")
    p = Path(value)
    if not p.is_absolute():
        p = scope.file.parent / p
    try:
        return p.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise scope.error(attr, f"cannot read {p}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise scope.error(attr, f"{p} is not UTF-8 text") from None


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", list: "a list", float: "a number",
            dict: "a table"}.get(kind, kind.__name__)


def _shown(key: str, value: Any) -> str:
    if "password" in key or "secret" in key:
        return type(value).__name__
    return repr(value)


def suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
