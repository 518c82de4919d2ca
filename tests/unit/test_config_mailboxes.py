"""Several mailboxes: [[mailboxes]] entries load with their own address, staff, SMTP and templates; the
single [mailbox] is one mailbox named "default"; every mistake names the file, the entry's key and the reason."""
import pytest

from aftercare.casework import Casework
from aftercare.config import ConfigError, load_config
from aftercare.samples import sample_outgoing
from aftercare.templates import Templates

from test_config import GOOD, write

SUPPORT = """
[[mailboxes]]
name = "support"
address = "Acme Support <support@example.com>"
host = "imap.example.com"
username = "support@example.com"
password = "pw-support"
"""

BILLING = """
[[mailboxes]]
name = "billing"
address = "Acme Billing <billing@example.com>"
host = "imap.billing.example.com"
username = "billing@example.com"
password = "pw-billing"
"""

REST = """
[smtp]
host = "smtp.example.com"
port = 2525

[staff]
addresses = ["Jane Doe <jane@example.com>", "sam@example.com"]
"""

TWO = SUPPORT + BILLING + REST


def load(tmp_path, text):
    return load_config(write(tmp_path, text))


def error_of(tmp_path, text) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)  # the file is always named
    return err.value


def test_two_mailboxes_load_with_their_names_addresses_and_imap_settings(tmp_path):
    c = load(tmp_path, TWO)
    assert c.mailbox is None
    assert [i.name for i in c.inboxes] == ["support", "billing"]
    assert [i.key for i in c.inboxes] == ["mailboxes.support", "mailboxes.billing"]
    support, billing = c.inboxes
    assert support.address == "Acme Support <support@example.com>"
    assert billing.address == "Acme Billing <billing@example.com>"
    assert billing.smtp.from_addr_spec == "billing@example.com" and billing.smtp.from_name == "Acme Billing"
    assert (billing.imap.host, billing.imap.username, billing.imap.password.reveal()) == \
        ("imap.billing.example.com", "billing@example.com", "pw-billing")
    assert (support.imap.host, support.imap.password.reveal()) == ("imap.example.com", "pw-support")
    # Every key of [mailbox] with its default, per mailbox.
    assert billing.mailbox.port == 993 and billing.mailbox.folder == "INBOX" and billing.mailbox.idle is True
    # Without their own tables both go through [smtp] with [staff].
    assert support.smtp.host == billing.smtp.host == "smtp.example.com"
    assert support.smtp.port == billing.smtp.port == 2525
    assert support.staff == billing.staff == c.staff
    assert c.default_inbox is support and c.inbox("billing") is billing and c.inbox("shop") is None
    assert {"pw-support", "pw-billing"} <= set(c.secrets())
    assert "pw-billing" not in repr(c)


def test_a_mailbox_staff_table_overrides_staff_for_its_cases_only(tmp_path):
    c = load(tmp_path, SUPPORT + BILLING + """
[mailboxes.staff]
addresses = ["Bob Billing <bob@example.com>", "jane@example.com"]
default_owner = "jane@example.com"
assign = "round-robin"
escalation = ["boss@example.com"]
""" + REST + 'verify = ["reply-token", "from-header"]\n')
    support, billing = c.inboxes
    assert billing.staff.addresses == ("bob@example.com", "jane@example.com")
    assert billing.staff.default_owner == "jane@example.com" and billing.staff.assign == "round-robin"
    assert billing.staff.escalation == ("boss@example.com",)
    assert dict(billing.staff.names) == {"bob@example.com": "Bob Billing"}
    assert billing.staff.verify == c.staff.verify  # a key it does not give comes from [staff]
    assert support.staff is c.staff
    assert support.staff.addresses == ("jane@example.com", "sam@example.com") and support.staff.assign == "default"
    assert support.staff.escalation == ()
    work = Casework(c, Templates())
    assert work.policy_for(inbox="billing").default_owner == "jane@example.com"
    assert work.policy_for(inbox="billing").escalation == ("boss@example.com",)
    assert work.policy_for(inbox="billing").support_address == "billing@example.com"
    assert work.policy_for(inbox="support").support_address == "support@example.com"
    assert work.staff_addresses == {"jane@example.com", "sam@example.com", "bob@example.com"}
    assert work.own_addresses == {"support@example.com", "billing@example.com"}


def test_a_mailbox_smtp_table_overrides_smtp_for_its_emails_only(tmp_path):
    c = load(tmp_path, SUPPORT + BILLING + """
[mailboxes.smtp]
host = "smtp.billing.example.com"
port = 587
security = "tls"
username = "billing-relay"
password = "pw-billing-smtp"
""" + REST)
    support, billing = c.inboxes
    assert (billing.smtp.host, billing.smtp.port, billing.smtp.security) == ("smtp.billing.example.com", 587, "tls")
    assert billing.smtp_sending.username == "billing-relay"
    assert billing.smtp_sending.password.reveal() == "pw-billing-smtp"
    assert billing.smtp.from_address == "Acme Billing <billing@example.com>"  # still the mailbox's address
    assert (support.smtp.host, support.smtp.port, support.smtp.security) == ("smtp.example.com", 2525, "starttls")
    assert support.smtp_sending.username is None
    assert "pw-billing-smtp" in c.secrets()


def test_a_mailbox_templates_directory_is_searched_before_the_templates_directory(tmp_path):
    own, shared = tmp_path / "billing-templates", tmp_path / "templates"
    (own / "customer").mkdir(parents=True)
    (shared / "customer").mkdir(parents=True)
    (own / "customer" / "acknowledgment.txt").write_text("Subject: Billing has your message\n\nBilling here.\n")
    (shared / "customer" / "acknowledgment.txt").write_text("Subject: We have your message\n\nShared.\n")
    (shared / "customer" / "staff_reply.txt").write_text("Subject: A reply\n\nShared reply.\n")
    c = load(tmp_path, SUPPORT + BILLING + 'templates = "billing-templates"\n' + REST
             + '\n[templates]\ndirectory = "templates"\n')
    support, billing = c.inboxes
    assert billing.templates == own and support.templates is None  # relative to the config file
    work = Casework(c, Templates(c.templates.directory, c.schedule.timezone))
    context = {o.template: o.context for o in sample_outgoing(c)}
    ack, reply = "customer/acknowledgment", "customer/staff_reply"
    assert work.templates_for("billing").render(ack, context[ack]).subject == "Billing has your message"
    assert work.templates_for("support").render(ack, context[ack]).subject == "We have your message"
    # Not in the mailbox's own directory: the [templates] directory, then the bundled ones.
    assert work.templates_for("billing").render(reply, context[reply]).subject == "A reply"
    bundled = work.templates_for("billing").render("staff/new_case", context["staff/new_case"])
    assert bundled.subject == Templates().render("staff/new_case", context["staff/new_case"]).subject


def test_the_single_mailbox_table_is_one_mailbox_named_default_from_smtp_from_address(tmp_path):
    c = load(tmp_path, GOOD)
    [inbox] = c.inboxes
    assert inbox.name == "default" and inbox.key == "mailbox" and c.mailboxes == ()
    assert inbox.address == "Acme Support <support@example.com>"
    assert inbox.mailbox is c.mailbox and inbox.smtp is c.smtp and inbox.staff is c.staff
    assert c.default_inbox is inbox and c.inbox("default") is inbox


def test_the_single_mailbox_still_needs_smtp_from_address(tmp_path):
    err = error_of(tmp_path, GOOD.replace('from_address = "Acme Support <support@example.com>"\n', ""))
    assert err.key == "smtp.from_address" and "required" in err.reason


def test_several_mailboxes_need_no_smtp_from_address(tmp_path):
    c = load(tmp_path, TWO)
    assert c.smtp.from_address is None
    assert [i.smtp.from_addr_spec for i in c.inboxes] == ["support@example.com", "billing@example.com"]


@pytest.mark.parametrize("text,key,reason", [
    # names and addresses are unique
    (SUPPORT + BILLING + BILLING.replace("billing@", "billing2@") + REST,
     "mailboxes.billing.name", "'billing' is also the name of mailboxes.billing"),
    (SUPPORT + BILLING.replace("Acme Billing <billing@example.com>", "Billing <SUPPORT@example.com>") + REST,
     "mailboxes.billing.address", "'support@example.com' is also the address of mailboxes.support"),
    # required in each entry
    (SUPPORT + BILLING.replace('address = "Acme Billing <billing@example.com>"\n', "") + REST,
     "mailboxes.billing.address", "is required"),
    (SUPPORT + BILLING.replace('name = "billing"\n', "") + REST, "mailboxes[1].name", "is required"),
    (SUPPORT + BILLING.replace('host = "imap.billing.example.com"\n', "") + REST,
     "mailboxes.billing.host", "is required"),
    (SUPPORT + BILLING.replace('password = "pw-billing"\n', "") + REST, "mailboxes.billing.password", "is required"),
    # a bad key inside an entry
    (SUPPORT + BILLING + 'port = "abc"\n' + REST, "mailboxes.billing.port", "expected a whole number"),
    (SUPPORT + BILLING.replace('host = "imap.billing.example.com"', 'host = ""') + REST,
     "mailboxes.billing.host", "must not be empty"),
    (SUPPORT + BILLING + 'hots = "imap.example.com"\n' + REST,
     "mailboxes.billing.hots", "unknown key (did you mean 'host'?)"),
    (SUPPORT + BILLING.replace('name = "billing"', 'name = "bill ing!"') + REST, "mailboxes[1].name",
     "letters, digits, - and _"),
    (SUPPORT + BILLING.replace("Acme Billing <billing@example.com>", "billing") + REST,
     "mailboxes.billing.address", "is not an email address"),
    (SUPPORT + BILLING.replace("Acme Billing <billing@example.com>", "sam@example.com") + REST,
     "mailboxes.billing.address", "must not be one of staff.addresses"),
    # ... and inside its own tables
    (SUPPORT + BILLING + '[mailboxes.smtp]\nhots = "smtp.example.com"\n' + REST,
     "mailboxes.billing.smtp.hots", "did you mean 'host'"),
    (SUPPORT + BILLING + '[mailboxes.smtp]\nport = 0\n' + REST,
     "mailboxes.billing.smtp.port", "between 1 and 65535"),
    (SUPPORT + BILLING + '[mailboxes.staff]\ndefault_owner = "boss@example.com"\n' + REST,
     "mailboxes.billing.staff.default_owner", "not one of staff.addresses"),
    (SUPPORT + BILLING + '[mailboxes.staff]\nassign = "random"\n' + REST,
     "mailboxes.billing.staff.assign", "must be one of"),
    (SUPPORT + BILLING + 'templates = "no-such-directory"\n' + REST,
     "mailboxes.billing.templates", "is not a directory"),
    # both forms, or neither
    (GOOD + SUPPORT, "mailboxes", "either [mailbox] or [[mailboxes]], not both"),
    (REST, "mailbox", "is missing"),
    ("mailboxes = []\n" + REST, "mailboxes", "one or more [[mailboxes]]"),
])
def test_mistakes_name_the_file_the_entry_key_and_the_reason(tmp_path, text, key, reason):
    # REST's [staff] is the last table: a line added after it would land there, so entries come first.
    err = error_of(tmp_path, text)
    assert (err.key, reason in err.reason) == (key, True), str(err)


def test_a_mistake_in_an_entry_never_shows_its_password(tmp_path):
    err = error_of(tmp_path, SUPPORT + BILLING.replace('password = "pw-billing"', "password = 31337") + REST)
    assert err.key == "mailboxes.billing.password" and "31337" not in str(err)


def test_each_mailbox_password_may_come_from_its_own_file(tmp_path):
    (tmp_path / "billing-password").write_text("from-file\n")
    c = load(tmp_path, SUPPORT + BILLING.replace('password = "pw-billing"', 'password_file = "billing-password"')
             + REST)
    assert c.inbox("billing").imap.password.reveal() == "from-file"
    err = error_of(tmp_path, SUPPORT + BILLING.replace('password = "pw-billing"', 'password_file = "missing"')
                   + REST)
    assert err.key == "mailboxes.billing.password_file" and "cannot read" in err.reason


def test_a_removed_mailbox_is_stood_in_for_with_its_stored_address(tmp_path):
    c = load(tmp_path, TWO)
    gone = c.inbox_for("shop", "Acme Shop <shop@example.com>")
    assert gone.name == "shop" and gone.smtp.from_addr_spec == "shop@example.com"
    assert gone.smtp.host == "smtp.example.com" and gone.staff is c.staff
    assert c.inbox_for("billing", "whatever@example.com") is c.inbox("billing")
    assert c.inbox_for(None) is c.default_inbox
    assert Casework(c, Templates()).policy_for(inbox="shop").support_address == "support@example.com"
