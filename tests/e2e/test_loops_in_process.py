"""Each loop run in-process until idle against the real servers: the edges are handed in, not built inside.

This is the seam a new intake (LMTP), a second mailbox or another token source plugs into: a loop is a
``aftercare.loop.Loop``, the service runs a list of them, and a test can drive one step by step.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from aftercare.casework import Casework
from aftercare.clock import utcnow
from aftercare.config import load_config
from aftercare.dispatch import Dispatcher
from aftercare.intake import Intake
from aftercare.mail.imap import Mailbox
from aftercare.mail.smtp import SmtpSender
from aftercare.store.database import open_database
from aftercare.store.models import Case, Message, Timer, database
from aftercare.templates import Templates
from aftercare.testing.daemonproc import write_config
from aftercare.timers import Timers
from aftercare.trouble import Troubles
from e2e_support import SUPPORT, complaint


@pytest.fixture
def world(tmp_path, dovecot, smtp_sink, database_url):
    config = load_config(write_config(tmp_path / "config.toml", imap_port=dovecot.port, smtp_port=smtp_sink.port,
                                      database_url=database_url, first_response_due="1h"))
    db = open_database(config.database.url)
    yield config, Casework(config, Templates()), dovecot, smtp_sink
    db.close()
    database.initialize(None)


def test_intake_dispatcher_and_timers_run_until_idle_in_process(world):
    config, casework, dovecot, sink = world
    for i in range(3):
        dovecot.append(*SUPPORT, "INBOX", complaint(subject=f"Broken {i}", sender=f"c{i}@example.net")[0])
    connections = []

    def mailbox():
        connections.append(Mailbox(config.mailbox.imap))
        return connections[-1]

    intake = Intake(config.mailbox, casework, utcnow, mailbox_factory=mailbox, troubles=Troubles())
    assert intake.run_until_idle() == 3
    assert len(connections) == 1 and connections[0].client is None  # connected once, logged out again
    assert Case.select().count() == 3
    assert dovecot.fetch_all(*SUPPORT, "INBOX") == []
    assert intake.run_until_idle() == 0  # nothing new: nothing done

    dispatcher = Dispatcher(config, casework, utcnow, sender=SmtpSender(config.smtp.sending), troubles=Troubles())
    assert dispatcher.run_until_idle() == 6  # an acknowledgment and an owner's notification each
    assert sorted(m.rcpt_tos[0] for m in sink.messages if m.rcpt_tos[0].startswith("c")) == \
        ["c0@example.net", "c1@example.net", "c2@example.net"]
    assert dispatcher.run_until_idle() == 0

    later = lambda: utcnow() + timedelta(hours=2)  # noqa: E731 - the first-response promise is missed
    timers = Timers(casework, later, troubles=Troubles())
    assert timers.run_until_idle() == 3
    assert Timer.select().where(Timer.state == "waiting").count() == 0
    assert Dispatcher(config, casework, later, sender=SmtpSender(config.smtp.sending)).run_until_idle() >= 1
    assert Message.select().where((Message.direction == "out") & (Message.status == "pending")).count() == 0
