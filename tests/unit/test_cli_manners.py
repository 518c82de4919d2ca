"""``check-config`` as an operator reads it: a few short lines, the database looked at without being touched,
template mistakes named by file and line."""
import fcntl
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from aftercare.cli import main
from aftercare.database_check import check_database
from aftercare.store.database import make_database, migrate, open_database
from aftercare.store.migrations import SCHEMA_VERSION, current_version

from test_config import GOOD, write


def check_config(path: Path, capsys, *args: str) -> tuple[int, list[str], list[str]]:
    code = main(["--config", str(path), "check-config", "--offline", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def as_installed(line: str, config: Path) -> str:
    """The line with the test's long temporary paths put back to the service's usual ones."""
    return line.replace(str(config), "/etc/aftercare/config.toml").replace(
        os.environ["AFTERCARE_STATE_DIRECTORY"], "/var/lib/aftercare")


def test_check_config_says_a_few_short_lines_and_the_variables_only_when_verbose(tmp_path, capsys):
    config = write(tmp_path, GOOD)
    code, lines, errors = check_config(config, capsys)
    assert code == 0 and errors == []
    assert lines[0] == f"{config}: configuration is valid"
    assert "mailbox: support@example.com at imap.example.com:993 (tls, password), folder INBOX" in lines
    assert "smtp: smtp.example.com:587 (starttls), from support@example.com" in lines
    assert any(line.startswith("database: SQLite ") and "will be created at first start" in line for line in lines)
    counted = next(line for line in lines if line.startswith("templates: "))
    assert "compiled and rendered with sample data (--verbose lists what each may use)" in counted
    assert len(lines) <= 8, lines
    assert [line for line in lines if len(as_installed(line, config)) > 100] == []
    assert not any("customer/checkin:" in line for line in lines)

    code, verbose, _ = check_config(config, capsys, "--verbose")
    assert code == 0
    checkin = next(line for line in verbose if line.startswith("  customer/checkin: "))
    assert "discount.code" in checkin and "case.ref" in checkin
    assert len(verbose) > len(lines) + 20  # one line per template


def test_several_mailboxes_get_a_line_each_for_reading_and_sending(tmp_path, capsys):
    from test_config_mailboxes import TWO
    code, lines, _ = check_config(write(tmp_path, TWO), capsys)
    assert code == 0
    assert [line for line in lines if line.startswith(("mailbox", "smtp"))] == [
        "mailbox support: support@example.com at imap.example.com:993 (tls, password), folder INBOX",
        "smtp support: smtp.example.com:2525 (starttls), from support@example.com",
        "mailbox billing: billing@example.com at imap.billing.example.com:993 (tls, password), folder INBOX",
        "smtp billing: smtp.example.com:2525 (starttls), from billing@example.com"]


def _run_at_a_terminal(args: list[str], columns: int) -> str:
    """What the command writes to a terminal ``columns`` wide (a real pseudo-terminal, not a pipe)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "aftercare", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_at_a_terminal_long_lines_fold_at_100_columns_and_a_pipe_keeps_each_whole(tmp_path):
    """A warning is a long sentence: folded for a person at a terminal, one line for grep in a pipe."""
    config = write(tmp_path, GOOD.replace("[staff]", '[staff]\nverify = ["from-header"]'))
    args = ["--config", str(config), "check-config", "--offline"]
    wide = _run_at_a_terminal(args, columns=200)
    assert max(len(line) for line in wide.splitlines()) <= 100
    assert "\nwarning: staff.verify:" in wide and "\n    " in wide  # folded, the rest indented
    narrow = _run_at_a_terminal(args, columns=60)
    assert max(len(line) for line in narrow.splitlines() if " " in line.strip()) <= 60
    piped = subprocess.run([sys.executable, "-m", "aftercare", *args], capture_output=True, text=True, timeout=60)
    warning = next(line for line in piped.stdout.splitlines() if line.startswith("warning: staff.verify:"))
    assert len(warning) > 100 and warning.endswith("as your staff")
    assert " ".join(wide.split()) == " ".join(piped.stdout.split())  # the same words either way


# --- the database ------------------------------------------------------------------------------


def test_a_sqlite_file_not_there_yet_will_be_created_and_the_check_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/new/deeper/aftercare.db"
    found = check_database(url)
    assert found.ok and found.problems == [] and found.warnings == []
    assert found.lines == [
        f"database: SQLite {tmp_path}/new/deeper/aftercare.db will be created at first start "
        f"(schema version {SCHEMA_VERSION})",
        f"  its folder {tmp_path}/new/deeper will be created too: {tmp_path} is writable by user "
        f"{__import__('pwd').getpwuid(os.geteuid()).pw_name}"]
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "new" / "deeper").mkdir(parents=True)
    assert found.lines[0] == check_database(url).lines[0]
    assert check_database(url).lines[1].startswith(f"  its folder {tmp_path}/new/deeper is writable by ")
    assert list((tmp_path / "new" / "deeper").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: no folder is closed to it")
def test_a_folder_the_user_cannot_write_is_a_warning(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o555)
    found = check_database(f"sqlite:///{closed}/aftercare.db")
    assert found.ok and any(f"{closed} is not writable by" in w for w in found.warnings)


def test_an_existing_sqlite_database_is_read_without_side_files(tmp_path):
    url = f"sqlite:///{tmp_path}/aftercare.db"
    open_database(url).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aftercare.db"]
    found = check_database(url)
    assert found.lines == [f"database: SQLite {tmp_path}/aftercare.db, schema version {SCHEMA_VERSION} (current)"]
    # no -wal or -shm made by the check: made by root, they would lock out a service running as its own user
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aftercare.db"]


def test_a_file_that_is_not_a_database_is_a_problem_naming_it(tmp_path):
    (tmp_path / "aftercare.db").write_text("not a database\n" * 100)
    found = check_database(f"sqlite:///{tmp_path}/aftercare.db")
    assert not found.ok and found.problems == [f"database {tmp_path}/aftercare.db: file is not a database"]
    (tmp_path / "folder.db").mkdir()
    assert check_database(f"sqlite:///{tmp_path}/folder.db").problems == [
        f"database: {tmp_path}/folder.db is not a file (database.url names a SQLite file)"]


def _at_version(url: str, version: int) -> None:
    db = make_database(url)
    db.connect()
    if version <= SCHEMA_VERSION:
        migrate(db, target=version)
    else:
        migrate(db)
        db.execute_sql(f'UPDATE "schema_version" SET "version" = {version}')
    db.close()


def _version(url: str) -> int:
    db = make_database(url, create=False)
    db.connect()
    try:
        return current_version(db)
    finally:
        db.close()


def test_the_schema_version_says_what_the_start_will_do(database_url):
    """Empty: tables will be made. Older: a migration will run (and the check runs none). Current: fine.
    Newer than this code: a problem, since the service would refuse to start."""
    if database_url.startswith("postgresql"):
        assert check_database(database_url).lines[0].endswith(
            f"answers; no Aftercare tables yet: the service creates them at first start (schema version "
            f"{SCHEMA_VERSION})")
    _at_version(database_url, 3)
    found = check_database(database_url)
    assert found.ok
    assert found.lines[0].endswith(f"schema version 3: a migration from v3 to v{SCHEMA_VERSION} will run at start")
    assert _version(database_url) == 3
    _at_version(database_url, SCHEMA_VERSION)
    assert check_database(database_url).lines[0].endswith(f"schema version {SCHEMA_VERSION} (current)")
    _at_version(database_url, SCHEMA_VERSION + 1)
    found = check_database(database_url)
    assert not found.ok and found.problems == [
        f"database: schema version {SCHEMA_VERSION + 1} is newer than this Aftercare knows ({SCHEMA_VERSION}): "
        "a newer release wrote it; upgrade Aftercare"]


def test_a_postgresql_database_that_does_not_exist_is_named_and_not_created(postgres_url):
    name = f"aftercare_missing_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
    found = check_database(url)
    assert not found.ok
    assert found.problems == [f'database: {url}: the database "{name}" does not exist on the server: create it '
                              f"(createdb {name}); the service makes its tables, not the database"]
    import psycopg2
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert cur.fetchone()[0] == 0


def test_a_postgresql_server_that_does_not_answer_is_a_clear_error(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the test connects: nobody listens there
    url = f"postgresql://aftercare@127.0.0.1:{port}/aftercare"
    found = check_database(url)
    assert not found.ok and len(found.problems) == 1
    assert found.problems[0].startswith(f"database {url}: the server refuses connections (is it running?)")
    # check-config --offline still checks the database: it says so and fails, after saying the rest
    config = write(tmp_path, GOOD.replace("[staff]", f'[database]\nurl = "{url}"\n\n[staff]', 1))
    code, lines, errors = check_config(config, capsys)
    assert code == 1 and errors[0].startswith(f"database {url}: the server refuses connections")
    assert any(line.startswith("templates: ") for line in lines)


# --- templates -----------------------------------------------------------------------------------


def test_check_config_names_the_template_file_and_line_of_a_mistake(tmp_path, capsys):
    tdir = tmp_path / "tpl" / "customer"
    tdir.mkdir(parents=True)
    ack = tdir / "acknowledgment.txt"
    config = write(tmp_path, GOOD + f'\n[templates]\ndirectory = "{tmp_path / "tpl"}"\n')
    ack.write_text("Subject: Re: {{ case.subject }}\n\nHello,\n\nthank you.\n\n{{ case.nonexistent.attr }}\n")
    code, lines, errors = check_config(config, capsys)
    assert code == 1
    assert errors == [f"template error: {ack}, line 7: 'dict object' has no attribute 'nonexistent'"]
    assert lines[0].endswith("configuration is valid")  # what is right is still said
    ack.write_text("Subject: Re: {{ case.subject }}\n\nHello,\n\n{% if case.subject %}\nthanks\n")
    code, _, errors = check_config(config, capsys)
    assert code == 1 and errors[0].startswith(f"template error: {ack}, line 6: Unexpected end of template")
