"""Log lines carry their syslog priority only when stderr is the journal stream systemd connected."""
from __future__ import annotations

import io
import json
import os
import socket

import pytest
import structlog

from aftercare.log import setup_logging, writes_to_journal


@pytest.fixture(autouse=True)
def _structlog_as_before():
    yield
    structlog.reset_defaults()  # the streams of this test are closed: later tests must not write to them


def _lines(stream_file) -> list[str]:
    log = structlog.get_logger("test")
    log.info("hello")
    log.warning("careful")
    log.error("broken")
    log.critical("down")
    try:
        raise ValueError("x")
    except ValueError:
        log.exception("caught")
    stream_file.flush()
    return []


def test_a_journal_stream_gets_the_priority_prefix_and_nothing_else_does(monkeypatch, tmp_path):
    ours, theirs = socket.socketpair()
    with ours, theirs, ours.makefile("w") as stream:
        st = os.fstat(ours.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert writes_to_journal(stream)
        setup_logging("json", "debug", stream=stream)
        _lines(stream)
        theirs.settimeout(2)
        data = b""
        while data.count(b"\n") < 5:
            data += theirs.recv(65536)
    lines = data.decode().splitlines()
    assert [l[:3] for l in lines] == ["<6>", "<4>", "<3>", "<2>", "<3>"]
    assert [json.loads(l[3:])["event"] for l in lines] == ["hello", "careful", "broken", "down", "caught"]

    # The same variable, but stderr redirected to a file (StandardError=file:...): no prefix.
    with open(tmp_path / "log", "w") as other:
        assert not writes_to_journal(other)
        setup_logging("json", "debug", stream=other)
        _lines(other)
    assert all(l.startswith("{") for l in (tmp_path / "log").read_text().splitlines())
    monkeypatch.delenv("JOURNAL_STREAM")
    assert not writes_to_journal(io.StringIO())
