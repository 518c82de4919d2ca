"""What an operator sees: ``aftercare status`` from the database, a wrong password said once (in the journal at
error priority, and by one email), one database for the service and a shell, and no database made by reading."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from aftercare.testing.daemonproc import DaemonProcess
from e2e_support import complaint, wait_for_n
from journal_support import Journal, available as journal_unavailable
from server_fixtures import require_integration


def _status(s, *extra, env=None):
    out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(s.config), "status", *extra],
                         capture_output=True, text=True, timeout=60, env=env)
    return out


def _wait_status(s, predicate, timeout=25.0):
    deadline = time.monotonic() + timeout
    while True:
        out = _status(s, "--json")
        found = json.loads(out.stdout) if out.stdout else None
        if found is not None and predicate(found):
            return out.returncode, found
        if time.monotonic() > deadline:
            raise AssertionError(f"status never matched: {out.stdout}\n{out.stderr}")
        time.sleep(0.3)


def test_status_shows_the_running_daemon_its_mailbox_outbox_and_timers_and_then_that_it_stopped(stack):
    s = stack
    s.start()
    s.deliver(complaint()[0])
    wait_for_n(s, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=20)
    code, st = _wait_status(s, lambda st: st["outbox"]["counts"]["sent"] >= 2 and st["mailboxes"][0]["last_sync_at"])
    assert code == 0
    assert st["version"] and st["schema_version"] == 11
    d = st["daemon"]
    assert d["running"] and d["pid"] == s.daemon.proc.pid and d["version"] == st["version"] and d["problems"] == []
    (m,) = st["mailboxes"]
    assert m["name"] == "default" and m["address"] == "support@example.com" and m["ok"] and m["smtp_ok"]
    assert st["outbox"]["counts"]["pending"] == 0 and st["outbox"]["oldest_pending"] is None
    assert st["timers"]["waiting"] >= 1 and st["timers"]["next"][0]["kind"] == "first_response"
    assert st["timers"]["next"][0]["case"] == 1
    text = _status(s)
    assert text.returncode == 0 and "daemon: running" in text.stdout and "default <support@example.com>: ok" in text.stdout
    assert "first_response" in text.stdout and "outbox: 0 pending" in text.stdout
    s.daemon.stop()
    text = _status(s)
    assert text.returncode == 3, text.stdout
    assert "daemon: stopped" in text.stdout
    st = json.loads(_status(s, "--json").stdout)
    assert st["daemon"]["running"] is False and st["daemon"]["stopped_at"]
    assert st["mailboxes"][0]["last_sync_at"] == m["last_sync_at"] or st["mailboxes"][0]["last_sync_at"] > m["last_sync_at"]


def test_a_wrong_password_is_one_error_in_the_journal_one_email_and_a_failing_status(sqlite_stack):
    why = journal_unavailable()
    if why:
        require_integration(why)
    s = sqlite_stack
    config = s.write_config()
    config.write_text(config.read_text().replace('password = "secret"', 'password = "not-the-password"'))
    with Journal() as journal:
        stream, env = journal.stream("aftercare")
        s.daemon = DaemonProcess(config, s.tmp / "daemon.log", env=env, output=stream).start()
        stream.close()  # the daemon holds its own copy, as under systemd
        code, st = _wait_status(s, lambda st: st["mailboxes"][0]["ok"] is False)
        wait_for_n(s, lambda m: "jane@example.com" in m.rcpt_tos, 1, timeout=20)  # the default owner
        time.sleep(4)  # the old reconnect loop retried after 1 s and 2 s more; a refusal waits >= 15 s (hourly repeats: test_trouble)
        errors = journal.entries("aftercare", priority="err")
        everything = journal.entries("aftercare")
        s.daemon.stop()
    assert code == 1
    m = st["mailboxes"][0]
    assert m["error_kind"] == "permanent" and "login refused" in m["error"] and m["failing_since"]
    assert [json.loads(e["MESSAGE"])["event"] for e in errors] == ["mailbox login refused"], errors
    assert errors[0]["PRIORITY"] == "3"
    infos = [e for e in everything if e["PRIORITY"] == "6"]
    assert any(json.loads(e["MESSAGE"])["event"] == "aftercare started" for e in infos)
    assert all(not e["MESSAGE"].startswith("<") for e in everything)  # journald took the prefix off
    assert "not-the-password" not in json.dumps(everything)
    alerts = [m for m in s.smtp.messages if b"Action needed: Aftercare cannot read the mailbox" in m.data]
    assert len(alerts) == 1, [m.data[:200] for m in s.smtp.messages]
    assert len(s.smtp.messages) == 1


def test_the_service_and_a_shell_read_one_database_and_reading_creates_none(tmp_path, dovecot, smtp_sink):
    from e2e_support import Stack
    state = tmp_path / "var-lib-aftercare"
    state.mkdir()
    s = Stack(tmp_path, dovecot, smtp_sink, "sqlite:///aftercare.db")  # relative, as config.example.toml has it
    (tmp_path / "etc").mkdir()
    s.config = tmp_path / "etc" / "config.toml"
    from aftercare.testing.daemonproc import write_config
    write_config(s.config, imap_port=dovecot.port, smtp_port=smtp_sink.port, database_url="sqlite:///aftercare.db")
    service_env = {"STATE_DIRECTORY": str(state), "AFTERCARE_STATE_DIRECTORY": ""}  # what systemd sets
    s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log", env=service_env).start()
    try:
        s.daemon.wait_ready()
        s.deliver(complaint()[0])
        wait_for_n(s, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=20)
        shell_env = {k: v for k, v in os.environ.items() if k != "STATE_DIRECTORY"}
        shell_env["AFTERCARE_STATE_DIRECTORY"] = str(state)
        elsewhere = tmp_path / "home"
        elsewhere.mkdir()
        out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(s.config), "cases", "list", "--json"],
                             capture_output=True, text=True, timeout=60, env=shell_env, cwd=elsewhere)
        assert out.returncode == 0, out.stderr
        assert [c["customer"] for c in json.loads(out.stdout)] == ["maria@example.net"]
    finally:
        s.daemon.stop()
    assert (state / "aftercare.db").exists() and list(elsewhere.iterdir()) == []
    assert not (tmp_path / "etc" / "aftercare.db").exists()

    # A mistyped path: an error that names it, and nothing created.
    shell_env["AFTERCARE_STATE_DIRECTORY"] = str(tmp_path / "var-lib-aftercar")
    for args in (["cases", "list"], ["cases", "show", "1"], ["status"], ["report"]):
        out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(s.config), *args],
                             capture_output=True, text=True, timeout=60, env=shell_env)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert f"no Aftercare database at {tmp_path}/var-lib-aftercar/aftercare.db" in out.stderr, out.stderr
    assert not (tmp_path / "var-lib-aftercar").exists()


def test_a_postgresql_database_without_aftercare_tables_is_an_error_not_an_empty_list(tmp_path, postgres_url):
    from aftercare.testing.daemonproc import write_config
    config = write_config(tmp_path / "config.toml", imap_port=1, smtp_port=1, database_url=postgres_url)
    out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(config), "cases", "list"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no Aftercare tables in" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_folder_is_permanent_said_once_emailed_once_and_shown_failing(sqlite_stack):
    s = sqlite_stack
    config = s.write_config()
    config.write_text(config.read_text().replace('timeout = "10s"', 'timeout = "10s"\nfolder = "Complaints"', 1))
    s.daemon = DaemonProcess(config, s.tmp / "daemon.log").start()
    code, st = _wait_status(s, lambda st: st["mailboxes"][0]["ok"] is False)
    wait_for_n(s, lambda m: b"Action needed: Aftercare cannot read the mailbox" in m.data, 1, timeout=20)
    time.sleep(4)  # the old reconnect loop would have retried (and logged a warning) twice by now
    s.daemon.stop()
    assert code == 1 and st["mailboxes"][0]["error_kind"] == "permanent"
    assert "the folder 'Complaints' does not exist" in st["mailboxes"][0]["error"]
    errors = [l for l in s.daemon.log_lines() if l.get("level") == "error"]
    assert [l["event"] for l in errors] == ["the watched folder does not exist; intake waits"], errors
    assert errors[0]["failure"] == "permanent" and "mailbox.folder" in errors[0]["hint"]
    assert not [l for l in s.daemon.log_lines() if l.get("event") == "mailbox connection lost; reconnecting"]
    assert len(s.smtp.messages) == 1


def test_reading_commands_refuse_a_database_at_another_schema_version_and_never_migrate_it(tmp_path):
    """A command typed during an upgrade must not change the tables under the daemon still running old code."""
    from aftercare.store.database import make_database
    from aftercare.store.migrations import migrate
    from aftercare.testing.daemonproc import write_config
    db = make_database(f"sqlite:///{tmp_path}/aftercare.db")
    db.connect()
    migrate(db, target=6)
    db.close()
    config = write_config(tmp_path / "config.toml", imap_port=1, smtp_port=1,
                          database_url=f"sqlite:///{tmp_path}/aftercare.db")
    for args in (["cases", "list"], ["status"], ["outbox", "list"]):
        out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(config), *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out
        assert "is at schema version 6; this Aftercare reads version 11: restart the service" in out.stderr
    db = make_database(f"sqlite:///{tmp_path}/aftercare.db")
    db.connect()
    assert db.execute_sql("SELECT version FROM schema_version").fetchone()[0] == 6
    db.close()
