"""config.example.toml against the schema (the config dataclasses, daemon/config.py).

Every key the example shows, set or commented out, is a key of the schema; every key of the schema is in
the example; and every default the example shows is the schema's: a set line has the default, a key with
a fixed default shows it, a default worked out from other keys is said so, and writing a default out or
leaving it out makes no difference to the loaded configuration.
"""
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aftercare.config import Config, load_config
from aftercare.config_schema import REQUIRED, Derived, Invalid, Key, schema_keys

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()
SCHEMA: dict[str, Key] = dict(schema_keys(Config))
# The names a key may be written under ("mailbox.password_file") -> the key ("mailbox.password").
NAMES = {f"{name.rpartition('.')[0]}.{n}": name for name, k in SCHEMA.items() for n in k.names(name.rpartition(".")[2])}
# [[mailboxes]] takes the keys of [mailbox]: "mailboxes.host" is shown for "mailbox.host".
NAMES.update({"mailboxes" + shown[len("mailbox"):]: key for shown, key in list(NAMES.items())
              if shown.startswith("mailbox.")})
FREE_TABLES = {name for name, k in SCHEMA.items() if dict in k.kinds}  # satisfaction.words: the entries are the operator's
FREE_TABLES |= {"mailboxes" + name[len("mailbox"):] for name in FREE_TABLES if name.startswith("mailbox.")}

HEADER = re.compile(r"(#\s*)?\[\[?([a-z0-9_.]+)\]\]?")
SETTING = re.compile(r"(#\s*)?([a-z_]+)\s*=\s*(.+)")


@dataclass(frozen=True)
class Shown:
    line: int  # index into LINES
    name: str  # as written, dotted: "mailbox.password_file"
    value: Any
    commented: bool  # the line, or the table it is in, is commented out
    section_commented: bool

    @property
    def key(self) -> str | None:
        return NAMES.get(self.name)

    def __str__(self) -> str:
        return f"config.example.toml:{self.line + 1}: {LINES[self.line].strip()}"


def shown_keys() -> list[Shown]:
    """Each key the example shows, set or commented out, with its value."""
    parsed = tomllib.loads("\n".join(LINES))
    out, section, section_commented = [], "", False
    for i, line in enumerate(LINES):
        if m := HEADER.fullmatch(line.strip()):
            section, section_commented = m[2], bool(m[1])
            if section in FREE_TABLES:
                value = None if section_commented else _dig(parsed, section)
                out.append(Shown(i, section, value, section_commented, section_commented))
            continue
        m = SETTING.fullmatch(line.strip())
        if not m or section in FREE_TABLES:
            continue
        assert m[1] or not section_commented, f"line {i + 1}: a set key in a table that is commented out"
        value = tomllib.loads(f"v = {m[3]}")["v"]  # what follows the value is a TOML comment
        out.append(Shown(i, f"{section}.{m[2]}", value, bool(m[1]) or section_commented, section_commented))
    return out


def _dig(table: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        table = table[part]
    return table


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for name, value in table.items():
        if isinstance(value, dict) and f"{prefix}{name}" not in FREE_TABLES:
            out.update(_flatten(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


SHOWN = shown_keys()


def _same(k: Key, a: Any, b: Any) -> bool:
    """The same value once read: "24h" is "1d", a list is a tuple."""
    try:
        return (k.parse(a) == k.parse(b)) if k.parse else a == b
    except Invalid:
        return False


def _unset(default: Any) -> bool:
    return default is None or (isinstance(default, (str, list, dict)) and not default)


def _load(tmp_path, lines) -> Config:
    (tmp_path / "imap-password").write_text("pw\n")
    text = "\n".join(lines).replace("/etc/aftercare/imap-password", str(tmp_path / "imap-password"))
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path)


@pytest.fixture(autouse=True)
def _no_systemd(monkeypatch):
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def test_the_lines_read_as_set_are_what_toml_reads():
    parsed = _flatten(tomllib.loads("\n".join(LINES)))
    assert {s.name: s.value for s in SHOWN if not s.commented} == parsed


def test_every_key_in_the_example_is_a_key_of_the_schema():
    assert [str(s) for s in SHOWN if s.key is None] == []


def test_every_key_of_the_schema_is_in_the_example():
    assert sorted(set(SCHEMA) - {s.key for s in SHOWN}) == []


@pytest.mark.parametrize("name", sorted(n for n, k in SCHEMA.items() if k.default is not REQUIRED and not k.secret
                                        and not isinstance(k.default, Derived) and not k.required_when))
def test_the_example_shows_the_schemas_default(name):
    k, shown = SCHEMA[name], [s for s in SHOWN if s.key == name]
    set_otherwise = [str(s) for s in shown if not s.commented and not _same(k, s.value, k.default)]
    assert set_otherwise == [], f"{name}: the default is {k.default!r}" + (
        "; a key that is unset by default is shown commented out" if _unset(k.default) else "")
    if not _unset(k.default):  # an unset key shows an example; any other shows its default somewhere
        assert any(_same(k, s.value, k.default) for s in shown), f"{name}: the default {k.default!r} is not shown"


@pytest.mark.parametrize("name", sorted(n for n, k in SCHEMA.items() if isinstance(k.default, Derived)))
def test_a_default_worked_out_from_other_keys_is_said_beside_the_key(name):
    k = SCHEMA[name]
    for s in (s for s in SHOWN if s.key == name):
        block = [LINES[s.line]]
        for line in reversed(LINES[:s.line]):
            if not line.startswith("#") or SETTING.fullmatch(line.strip()):
                break
            block.append(line)
        assert any(f"default: {k.default.doc}".lower() in line.lower() for line in block), (str(s), k.default.doc)


def test_writing_a_default_out_or_leaving_it_out_changes_nothing(tmp_path):
    example = _load(tmp_path, LINES)
    claims = [s for s in SHOWN if s.key and not s.section_commented and not SCHEMA[s.key].secret
              and not SCHEMA[s.key].required_when
              and (isinstance(SCHEMA[s.key].default, Derived)
                   or SCHEMA[s.key].default is not REQUIRED and _same(SCHEMA[s.key], s.value, SCHEMA[s.key].default))]
    assert len(claims) > 30
    for s in claims:
        lines = list(LINES)
        lines[s.line] = re.sub(r"^#\s*", "", lines[s.line]) if s.commented else "# " + lines[s.line]
        assert _load(tmp_path, lines) == example, str(s)
