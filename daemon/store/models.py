"""The tables: cases, the messages on them (both directions), and intake state.

An outgoing email is a ``Message`` row with direction ``out``: the row holds
the final bytes and Message-ID before anything is sent, so the outbox is just
the outgoing messages that are not yet ``sent``. All times are naive UTC.
The values of the status, kind, direction and state columns are named in
``cases/states.py``.
"""
from __future__ import annotations

import json

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    BigIntegerField,
    BlobField,
    Model,
    TextField,
)

database = DatabaseProxy()


class JsonText(TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it the same way."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()


class Setting(BaseModel):
    """Small durable facts: the round-robin cursor, generated secrets."""

    key = CharField(primary_key=True, max_length=100)
    value = TextField()


class MailboxState(BaseModel):
    """How far intake has read a folder; reset when UIDVALIDITY changes."""

    name = CharField(unique=True, max_length=500)
    uidvalidity = BigIntegerField()
    last_uid = BigIntegerField(default=0)


class Case(BaseModel):
    id = AutoField()
    status = CharField(max_length=20, index=True)  # CaseStatus: open, resolved, closed
    customer_address = CharField(max_length=320, index=True)
    customer_name = CharField(max_length=200, default="")
    subject = TextField(default="")
    owner = CharField(max_length=320)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    first_response_due_at = DateTimeField(null=True)
    first_response_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    cause = TextField(default="")  # root cause from #cause, for the report
    extra = CharField(max_length=20, default="")  # #extra: discount, apology, none; "" = configured default
    reopened_count = IntegerField(default=0)
    # Aftercare: the satisfaction check-in and what it carried.
    checkin_sent_at = DateTimeField(null=True)
    rating_score = IntegerField(null=True)  # 1..5
    rating_comment = TextField(default="")
    rated_at = DateTimeField(null=True)
    discount_code = CharField(max_length=200, default="")
    apology_sent = BooleanField(default=False)
    # The mailbox the complaint came in by (its name), and the address its emails go From.
    mailbox = CharField(max_length=100, default="default", index=True)
    mailbox_address = CharField(max_length=320, default="")
    # A reopened case owes the customer an answer by this time (cases/transitions.answer_owed); the
    # first_response columns keep the original complaint's, for the report.
    answer_due_at = DateTimeField(null=True)
    language = CharField(max_length=8, default="")  # ISO 639-1; "" = [customer] default_language
    priority = CharField(max_length=10, default="normal")  # normal, urgent (cases/tone.py)
    erased_at = DateTimeField(null=True)  # the customer's data erased on request (store/customer_data.py)


class Message(BaseModel):
    """One email on a case, received or sent; sent ones double as the outbox."""

    id = AutoField()
    case = ForeignKeyField(Case, null=True, backref="messages", on_delete="CASCADE")
    direction = CharField(max_length=3)  # Direction: in, out
    kind = CharField(max_length=40)  # MessageKind: customer, staff, automatic, bounce, acknowledgment, ...
    message_id = CharField(max_length=998, index=True, null=True)
    fingerprint = CharField(max_length=998, unique=True, null=True)  # inbound dedupe key
    from_address = CharField(max_length=320, default="")
    to = JsonText(default=list)
    recipient = CharField(max_length=320, default="")  # main recipient, lower-case: loop limits
    subject = TextField(default="")
    text = TextField(default="")
    attachments = JsonText(default=list)
    note = TextField(default="")  # why it was filed this way (automatic reason, defects, ...)
    created_at = DateTimeField()
    # Outbound delivery; null for inbound.
    status = CharField(max_length=10, null=True)  # OutboxStatus: pending, sending, sent, failed, held, bounced
    raw = TextField(null=True)
    automated = BooleanField(default=False)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    last_error = TextField(default="")
    sent_at = DateTimeField(null=True)
    # Who is sending it (a process's holder id) and until when the claim stands: see store/outbox.py.
    claimed_by = CharField(max_length=200, null=True)
    claim_until = DateTimeField(null=True)
    mailbox = CharField(max_length=100, null=True)  # outgoing: whose address and SMTP server it goes by
    tone = CharField(max_length=10, default="")  # a customer's message: calm, upset, angry, abusive
    tone_signals = JsonText(default=list)  # what the tone was read from, for staff

    class Meta:
        indexes = ((("status", "next_attempt_at"), False), (("recipient", "automated", "created_at"), False))


class InboundFailure(BaseModel):
    """Counts failed attempts at one mailbox message, so a poison message is quarantined."""

    mailbox = CharField(max_length=500)
    uidvalidity = BigIntegerField()
    uid = BigIntegerField()
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("mailbox", "uidvalidity", "uid"), True),)


class PlanStep(BaseModel):
    """One agreed remedy step with its promised date."""

    case = ForeignKeyField(Case, backref="steps", on_delete="CASCADE")
    number = IntegerField()  # 1, 2, ... within the case
    text = TextField()
    due_at = DateTimeField()
    done_at = DateTimeField(null=True)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("case", "number"), True),)


class Timer(BaseModel):
    """Something that must happen at a time: a reminder, an escalation. Schedules are data."""

    case = ForeignKeyField(Case, backref="timers", on_delete="CASCADE")
    kind = CharField(max_length=40)  # TimerKind: first_response, step_reminder, step_overdue, step_escalation,
    #                                             followup, checkin, checkin_close, reopened_low_rating,
    #                                             reopened_not_fixed, reopened_by_staff
    step = ForeignKeyField(PlanStep, null=True, on_delete="CASCADE")
    due_at = DateTimeField()
    state = CharField(max_length=10, default="waiting")  # TimerState: waiting, fired, cancelled
    fired_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("state", "due_at"), False),)


class DiscountCode(BaseModel):
    """One code of the pool; a code goes to at most one case, ever."""

    code = CharField(max_length=200, unique=True)
    case = ForeignKeyField(Case, null=True, backref="discount_codes", on_delete="SET NULL")
    issued_at = DateTimeField(null=True, index=True)
    added_at = DateTimeField()


class AttachmentFile(BaseModel):
    """The bytes of one distinct attachment, stored once however many emails carry it (store/files.py)."""

    sha256 = CharField(primary_key=True, max_length=64)
    data = BlobField()
    size = IntegerField()
    created_at = DateTimeField()


class ComponentState(BaseModel):
    """What one part of the running service last did: ``daemon``, ``mailbox:<name>``, ``smtp:<name>``.

    Written by the daemon as it works, read by ``aftercare status`` and the metrics endpoint, so an
    operator sees the service's state from the database whether the daemon runs or not.
    """

    name = CharField(primary_key=True, max_length=200)
    ok = BooleanField()
    error = TextField(default="")
    error_kind = CharField(max_length=20, default="")  # transient, permanent; "" while ok
    failing_since = DateTimeField(null=True)
    last_ok_at = DateTimeField(null=True)
    updated_at = DateTimeField()
    info = JsonText(default=dict)


class CaseEvent(BaseModel):
    """Something done to a case from outside its emails (an email retried or cancelled by an operator)."""

    id = AutoField()
    case = ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    created_at = DateTimeField()
    actor = CharField(max_length=200)  # who: "operator root (CLI)", "daemon"
    action = CharField(max_length=40)  # outbox_retry, outbox_cancel, ...
    detail = TextField(default="")


class RawMessage(BaseModel):
    """The bytes of a message delivered by LMTP, which exists in no mailbox: kept before the 250 is answered."""

    id = AutoField()
    message = ForeignKeyField(Message, null=True, backref="raw_copies", on_delete="CASCADE")  # None: quarantined
    fingerprint = CharField(max_length=998, unique=True)
    inbox = CharField(max_length=100)
    recipients = JsonText(default=list)
    received_at = DateTimeField()
    data = BlobField()
    size = IntegerField()
    quarantined = TextField(default="")  # why it could not be processed; "" when it was


class Instance(BaseModel):
    """A running daemon: its heartbeat (database time) says it is alive; ``id`` is what its outbox claims carry."""

    id = CharField(primary_key=True, max_length=200)
    label = CharField(max_length=200)  # host:pid
    started_at = DateTimeField()
    heartbeat_at = DateTimeField()
    info = JsonText(default=dict)


class MailboxLease(BaseModel):
    """Which instance watches a mailbox, until when, and under which epoch (the fencing token)."""

    mailbox = CharField(primary_key=True, max_length=100)
    holder = CharField(max_length=200, null=True)  # None: free
    epoch = BigIntegerField()
    held_since = DateTimeField(null=True)
    expires_at = DateTimeField()


class Erasure(BaseModel):
    """One erasure of a customer's data: when, by whom, how much; nothing of what was erased."""

    id = AutoField()
    erased_at = DateTimeField()
    actor = CharField(max_length=200)
    cases = IntegerField()
    messages = IntegerField()
    attachments = IntegerField()
    raw_messages = IntegerField()
    folder_messages = IntegerField()


ALL_MODELS = [SchemaVersion, Setting, MailboxState, Case, Message, InboundFailure, PlanStep, Timer, DiscountCode,
              AttachmentFile, ComponentState, CaseEvent, RawMessage, Instance, MailboxLease, Erasure]
