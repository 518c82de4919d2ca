"""Customer text printed to a terminal cannot drive it; a pipe gets the exact text."""
from __future__ import annotations

import io

from aftercare.cli.common import PrintableStdout


def test_controls_are_taken_out_but_tabs_newlines_and_letters_stay():
    out = io.StringIO()
    PrintableStdout(out).write("Case #1\t\x1b[2J\x1b]0;pwned\x07Kettle \x9b31m broke\r\nnächste Zeile 日本\n")
    assert out.getvalue() == "Case #1\t[2J]0;pwnedKettle 31m broke\nnächste Zeile 日本\n"


def test_the_command_line_filters_only_a_terminal(monkeypatch):
    import sys

    from aftercare import cli

    class Tty(io.StringIO):
        def isatty(self):
            return True

    seen = {}
    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.setattr(cli, "build_parser", lambda: _parser(seen))
    cli.main(["x"])
    assert isinstance(seen["stdout"], PrintableStdout)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    cli.main(["x"])
    assert not isinstance(seen["stdout"], PrintableStdout)


def _parser(seen):
    import argparse
    import sys
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    x = sub.add_parser("x")
    x.set_defaults(func=lambda args: seen.update(stdout=sys.stdout) or 0)
    return p
