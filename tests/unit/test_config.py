"""A bad config names the file, the key and the reason; secrets never show."""
import os
from datetime import datetime, timedelta

import pytest

from aftercare.config import (Config, ConfigError, ExtrasConfig, LogConfig, OutboxConfig, SatisfactionConfig,
                           ScheduleConfig, TemplatesConfig, load_config, load_raw, secret_file_warnings)
from aftercare.config_schema import schema_keys

GOOD = """
[mailbox]
host = "imap.example.com"
username = "support@example.com"
password = "hunter2-imap"

[smtp]
host = "smtp.example.com"
from_address = "Acme Support <support@example.com>"

[staff]
addresses = ["Jane Doe <jane@example.com>", "sam@example.com"]
"""


def write(tmp_path, text, name="config.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_fill_everything_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_STATE_DIRECTORY", str(tmp_path / "state"))
    c = load_config(write(tmp_path, GOOD))
    assert c.mailbox.port == 993 and c.mailbox.security == "tls" and c.mailbox.idle is True
    assert c.mailbox.poll_interval == timedelta(seconds=60)
    assert c.mailbox.processed_folder == "Aftercare/Processed"
    assert c.smtp.port == 587 and c.smtp.security == "starttls"
    assert c.outbox.max_retry_interval == timedelta(minutes=5) and c.outbox.recipient_limit == 5
    assert c.schedule.first_response_due == timedelta(hours=24)
    assert c.staff.default_owner == "jane@example.com" and dict(c.staff.names) == {"jane@example.com": "Jane Doe"}
    assert c.database.url == f"sqlite:///{tmp_path}/state/aftercare.db"  # relative to the state directory


def test_the_example_config_loads(tmp_path, monkeypatch):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = open(os.path.join(root, "config.example.toml")).read()
    (tmp_path / "imap-password").write_text("pw\n")
    text = text.replace("/etc/aftercare/imap-password", str(tmp_path / "imap-password"))
    c = load_config(write(tmp_path, text))
    assert c.mailbox.password.reveal() == "pw"


@pytest.mark.parametrize("change,key,reason", [
    ('[mailbox]\nport = "abc"', "mailbox.port", "expected a whole number"),
    ('[mailbox]\nport = 70000', "mailbox.port", "between 1 and 65535"),
    ('[mailbox]\nsecurity = "ssl"', "mailbox.security", "must be one of"),
    ('[mailbox]\npoll_interval = "soon"', "mailbox.poll_interval", "is not a duration"),
    ('[mailbox]\npoll_intervall = "60s"', "mailbox.poll_intervall", "did you mean 'poll_interval'"),
    ('[schedule]\nfirst_response_due = "0s"', "schedule.first_response_due", "longer than zero"),
    ('[staff]\nassign = "random"', "staff.assign", "must be one of"),
    ('[staff]\ndefault_owner = "boss@example.com"', "staff.default_owner", "not one of staff.addresses"),
    ('[database]\nurl = "mysql://x"', "database.url", "sqlite:/// or postgresql://"),
    ('[shedule]\nfirst_response_due = "1h"', "shedule", "did you mean 'schedule'"),
    ('[schedule]\nbusines_hours = 1', "schedule.busines_hours", "did you mean 'business_hours'"),
    ('[satisfaction]\nwords = 5', "satisfaction.words", "expected a table such as: excellent = 5"),
    ('[extras.discont]\nenabled = true', "extras.discont", "unknown table (did you mean 'discount'?)"),
    ('[extras]\ndiscount = 5', "extras.discount", "expected a table [extras.discount], got int"),
    ('[log]\nlevel = "verbose"', "log.level", "must be one of 'debug', 'info', 'warning', 'error', got 'verbose'"),
])
def test_bad_values_name_file_key_and_reason(tmp_path, change, key, reason):
    section = change.split("\n")[0]
    text = GOOD
    if section in text:
        text = text.replace(section, change)
    else:
        text += "\n" + change + "\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key and reason in err.value.reason
    assert str(path) in str(err.value)


def test_missing_required_key_and_section(tmp_path):
    with pytest.raises(ConfigError, match=r"mailbox.host: is required"):
        load_config(write(tmp_path, GOOD.replace('host = "imap.example.com"\n', "")))
    with pytest.raises(ConfigError, match=r"the section \[staff\] is missing"):
        load_config(write(tmp_path, GOOD.split("[staff]")[0]))


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = write(tmp_path, GOOD + "\n[broken\n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_passwords_from_file_env_and_systemd_credentials(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("from-file\n")
    c = load_config(write(tmp_path, GOOD.replace('password = "hunter2-imap"', 'password_file = "pw"')))
    assert c.mailbox.password.reveal() == "from-file"
    monkeypatch.setenv("IMAP_PW", "from-env")
    c = load_config(write(tmp_path, GOOD.replace('password = "hunter2-imap"', 'password_env = "IMAP_PW"')))
    assert c.mailbox.password.reveal() == "from-env"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mailbox_password").write_text("from-credential")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    c = load_config(write(tmp_path, GOOD.replace('password = "hunter2-imap"\n', "")))
    assert c.mailbox.password.reveal() == "from-credential"


def test_a_password_never_appears_in_errors_or_reprs(tmp_path):
    c = load_config(write(tmp_path, GOOD))
    assert "hunter2-imap" not in repr(c) and "hunter2-imap" not in str(c.mailbox)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace('password = "hunter2-imap"', "password = 12345")))
    assert "12345" not in str(err.value)
    with pytest.raises(ConfigError, match="give only one"):
        load_config(write(tmp_path, GOOD.replace('password = "hunter2-imap"',
                                                 'password = "hunter2-imap"\npassword_env = "X"')))


def test_a_world_readable_password_file_draws_a_warning(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("x")
    pw.chmod(0o644)
    path = write(tmp_path, GOOD.replace('password = "hunter2-imap"', 'password_file = "pw"'))
    assert any("readable by other users" in w for w in secret_file_warnings(path, load_raw(path)))
    pw.chmod(0o640)  # readable by the service's group only: fine
    assert secret_file_warnings(path, load_raw(path)) == []


def test_check_config_warns_that_from_header_verification_is_unsafe(tmp_path):
    from aftercare.config import config_warnings
    path = write(tmp_path, GOOD.replace("[staff]", '[staff]\nverify = ["from-header"]'))
    warnings = config_warnings(load_config(path), load_raw(path))
    assert any("staff.verify" in w and "forge" in w for w in warnings)


def test_business_hours_and_timezones_are_checked(tmp_path):
    text = GOOD + '\n[schedule]\ntimezone = "Europe/Berlin"\n[schedule.business_hours]\ndays = "Mon-Fri"\n' \
                  'start = "09:00"\nend = "17:30"\nholidays = ["2026-12-25"]\n'
    c = load_config(write(tmp_path, text))
    bh = c.schedule.business_hours
    assert bh.days == frozenset(range(5)) and str(bh.timezone) == "Europe/Berlin" and len(bh.holidays) == 1
    for bad, key in (('timezone = "Mars/Base"', "schedule.timezone"),
                     ('[schedule.business_hours]\nend = "08:00"', "schedule.business_hours.end"),
                     ('[schedule.business_hours]\ndays = "Mon-Fry"', "schedule.business_hours.days"),
                     ('[schedule.business_hours]\nholidays = ["someday"]', "schedule.business_hours.holidays[0]")):
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, GOOD + "\n[schedule]\n" + bad + "\n"))
        assert err.value.key == key, (bad, err.value)
    with pytest.raises(ConfigError, match="staff.verify\\[0\\]"):
        load_config(write(tmp_path, GOOD.replace("[staff]", '[staff]\nverify = ["carrier-pigeon"]')))
    with pytest.raises(ConfigError, match="staff.authserv_id"):
        load_config(write(tmp_path, GOOD.replace("[staff]", '[staff]\nverify = ["authentication-results"]')))


def test_the_support_address_cannot_be_a_staff_address(tmp_path):
    with pytest.raises(ConfigError, match="smtp.from_address: must not be one of staff.addresses"):
        load_config(write(tmp_path, GOOD.replace('"sam@example.com"]', '"support@example.com"]')))


def test_the_sent_log_lies_beside_sqlite_else_in_the_state_directory_unless_named(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_STATE_DIRECTORY", str(tmp_path / "state"))
    c = load_config(write(tmp_path, GOOD))
    assert c.database.sent_log == f"{tmp_path}/state/aftercare.db-sent"
    pg = GOOD + '[database]\nurl = "postgresql://aftercare@db.example.com/aftercare"\n'
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    assert load_config(write(tmp_path, pg)).database.sent_log == f"{tmp_path}/state/aftercare-sent.db"
    named = pg + 'sent_log = "outbox-notes.db"\n'
    assert load_config(write(tmp_path, named)).database.sent_log == f"{tmp_path}/state/outbox-notes.db"


def with_key(text, section, line):
    """``text`` with ``line`` added to its [section]."""
    if f"[{section}]\n" in text:
        return text.replace(f"[{section}]\n", f"[{section}]\n{line}\n")
    return text + f"\n[{section}]\n{line}\n"


DURATIONS = sorted(name for name, k in schema_keys(Config) if k.duration)


@pytest.mark.parametrize("name", DURATIONS)
def test_zero_is_a_duration_only_where_it_means_something(tmp_path, name):
    section, _, key = name.rpartition(".")
    path = write(tmp_path, with_key(GOOD, section, f'{key} = "0s"'))
    if name == "schedule.step_reminder_before":
        assert load_config(path).schedule.step_reminder_before == timedelta(0)
    else:
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert err.value.key == name and err.value.reason == "must be longer than zero"


def test_the_schema_says_which_durations_may_be_zero():
    assert {name: k.zero_means for name, k in schema_keys(Config) if k.zero_means} == {
        "schedule.step_reminder_before": "remind only when the step falls due (as overdue)"}


def test_a_zero_step_reminder_reminds_the_owner_once_when_the_step_falls_due(tmp_path):
    from aftercare.casework import policy_from
    from aftercare.cases.plan import StepView, on_timer, step_timers
    from aftercare.cases.routing import CaseView
    config = load_config(write(tmp_path, with_key(GOOD, "schedule", 'step_reminder_before = "0s"')))
    now = datetime(2026, 3, 2, 9, 0)
    step = StepView(1, "Send a replacement", now + timedelta(days=1))
    case = CaseView(id=3, status="open", customer_address="maria@example.net", customer_name="Maria",
                    subject="Broken kettle", owner="jane@example.com", created_at=now)
    timers = step_timers(step, now, policy_from(config))
    assert min(t.due_at for t in timers) == step.due_at  # nothing before the step falls due
    emails = [e for t in timers if t.due_at == step.due_at
              for e in on_timer(t.kind, case, step, [step], t.due_at, policy_from(config))]
    assert [(e.kind, e.to, e.context["reason"]) for e in emails] == [("reminder", "jane@example.com", "step_overdue")]


def test_a_section_built_in_code_has_the_defaults_of_one_left_out_of_the_file(tmp_path):
    c = load_config(write(tmp_path, GOOD))
    assert (c.outbox, c.schedule, c.satisfaction, c.extras, c.templates, c.log) == (
        OutboxConfig(), ScheduleConfig(), SatisfactionConfig(), ExtrasConfig(), TemplatesConfig(), LogConfig())


@pytest.mark.parametrize("listen,address", [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)),
    ("[::1]:9464", ("::1", 9464)),
    ("0.0.0.0:1", ("0.0.0.0", 1)),
    ("metrics.example.internal:65535", ("metrics.example.internal", 65535)),
])
def test_metrics_listen_takes_host_and_port(tmp_path, listen, address):
    c = load_config(write(tmp_path, with_key(GOOD, "metrics", f'listen = "{listen}"')))
    assert c.metrics.listen == listen and c.metrics.address == address


def test_no_metrics_endpoint_unless_listen_is_set(tmp_path):
    for text in (GOOD, with_key(GOOD, "metrics", 'listen = ""')):
        c = load_config(write(tmp_path, text))
        assert c.metrics.listen == "" and c.metrics.address is None


@pytest.mark.parametrize("listen,reason", [
    ("9464", 'write host:port, e.g. "127.0.0.1:9464"'),
    (":9464", 'write host:port, e.g. "127.0.0.1:9464"'),  # every interface is written out, never implied
    ("127.0.0.1", 'write host:port'),
    ("127.0.0.1:", "the port must be a number from 1 to 65535, got ''"),
    ("127.0.0.1:0", "the port must be a number from 1 to 65535, got '0'"),
    ("127.0.0.1:65536", "the port must be a number from 1 to 65535, got '65536'"),
    ("127.0.0.1:http", "the port must be a number from 1 to 65535, got 'http'"),
    ("::1:9464", 'an IPv6 address goes in brackets, e.g. "[::1]:9464"'),
    ("[localhost]:9464", "'localhost' in brackets is not an IPv6 address"),
    ("http://127.0.0.1:9464/metrics", "an address to listen on, not a URL"),
    ("my host:9464", "'my host' is not a host name or an IP address"),
])
def test_a_bad_metrics_listen_names_file_key_and_reason(tmp_path, listen, reason):
    path = write(tmp_path, with_key(GOOD, "metrics", f'listen = "{listen}"'))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.file == str(path) and err.value.key == "metrics.listen"
    assert err.value.reason.startswith(f"{listen!r}: ") and reason in err.value.reason


def test_metrics_listen_must_be_a_string(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, with_key(GOOD, "metrics", "listen = 9464")))
    assert err.value.key == "metrics.listen" and err.value.reason == "expected a string, got 9464"


def test_check_config_warns_of_a_metrics_endpoint_other_hosts_can_reach(tmp_path):
    from aftercare.config import config_warnings
    said = {}
    for listen in ("127.0.0.1:9464", "[::1]:9464", "localhost:9464", "0.0.0.0:9464", "[::]:9464",
                   "metrics.example.internal:9464"):
        c = load_config(write(tmp_path, with_key(GOOD, "metrics", f'listen = "{listen}"')))
        said[listen] = [w for w in config_warnings(c, load_raw(c.path)) if "metrics.listen" in w]
    reachable = ("0.0.0.0:9464", "[::]:9464", "metrics.example.internal:9464")
    assert {listen: len(w) for listen, w in said.items()} == {listen: int(listen in reachable) for listen in said}
    assert said["0.0.0.0:9464"] == [f"{tmp_path / 'config.toml'}: metrics.listen: 0.0.0.0:9464 can be reached from "
                                    "other hosts and the endpoint asks for no login: let a firewall keep it to your "
                                    "Prometheus"]


def test_languages_tone_and_the_urgent_promise_have_defaults(tmp_path):
    c = load_config(write(tmp_path, GOOD))
    assert (c.customer.default_language, c.staff.language) == ("en", "en")
    assert c.schedule.urgent_first_response_due == timedelta(hours=2)
    assert c.tone.enabled is True and c.tone.extra_words == {}


def test_languages_tone_and_the_urgent_promise_are_read(tmp_path):
    text = with_key(GOOD, "customer", 'default_language = "DE"')
    text = with_key(text, "staff", 'language = "fr"')
    text = with_key(text, "schedule", 'urgent_first_response_due = "90m"')
    text += ('\n[tone]\nenabled = false\n[tone.words.de]\nabusive = ["Saftladen", "Abzocker*"]\nangry = ["Frechheit"]\n'
             '[tone.words]\nes = { upset = [" una pena "] }\n')
    c = load_config(write(tmp_path, text))
    assert (c.customer.default_language, c.staff.language) == ("de", "fr")
    assert c.schedule.urgent_first_response_due == timedelta(minutes=90) and c.tone.enabled is False
    assert c.tone.extra_words == {"de": {"abusive": ("Saftladen", "Abzocker*"), "angry": ("Frechheit",)},
                                  "es": {"upset": ("una pena",)}}


@pytest.mark.parametrize("section,line,key,reason", [
    ("customer", 'default_language = "german"', "customer.default_language",
     "'german' is not an ISO 639-1 language code"),
    ("customer", 'default_language = "de-AT"', "customer.default_language",
     "'de-at' names a region too; write the language alone: 'de'"),
    ("staff", 'language = "xx"', "staff.language", "'xx' is not an ISO 639-1 language code"),
    ("schedule", 'urgent_first_response_due = "soon"', "schedule.urgent_first_response_due", "soon"),
    ("tone", "enabled = 1", "tone.enabled", "expected true or false, got 1"),
    ("tone.words", 'klingon = { angry = ["x"] }', "tone.words.klingon", "'klingon' is not an ISO 639-1 language code"),
    ("tone.words", 'de = ["Saftladen"]', "tone.words.de", "expected a table of abusive, angry or upset lists"),
    ("tone.words", 'de = { furious = ["x"] }', "tone.words.de.furious",
     "unknown level; must be one of abusive, angry, upset"),
    ("tone.words", 'de = { angry = "Frechheit" }', "tone.words.de.angry", "expected a list of words"),
    ("tone.words", 'de = { angry = ["ok", " "] }', "tone.words.de.angry[1]", "expected a non-empty string"),
])
def test_a_bad_language_or_tone_key_names_file_key_and_reason(tmp_path, section, line, key, reason):
    path = write(tmp_path, with_key(GOOD, section, line))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.file, err.value.key) == (str(path), key) and reason in err.value.reason


def test_tone_words_must_be_a_table(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD + '\n[tone]\nwords = ["Saftladen"]\n'))
    assert err.value.key == "tone.words" and err.value.reason.startswith("expected tables such as [tone.words.de]")


def test_a_mailbox_may_write_to_its_staff_in_its_own_language(tmp_path):
    text = GOOD.replace("[staff]", '[mailbox.staff]\nlanguage = "de"\n\n[staff]')
    c = load_config(write(tmp_path, text))
    assert c.staff.language == "en" and c.default_inbox.staff.language == "de"


# --- [lmtp] -------------------------------------------------------------------

@pytest.mark.parametrize("listen, address", [
    ("127.0.0.1:10024", ("127.0.0.1", 10024)),
    ("[::1]:10024", ("::1", 10024)),
    ("unix:/run/aftercare/lmtp.sock", "/run/aftercare/lmtp.sock"),
])
def test_lmtp_listen_takes_host_and_port_or_a_unix_socket(tmp_path, listen, address):
    c = load_config(write(tmp_path, with_key(GOOD, "lmtp", f'listen = "{listen}"')))
    assert c.lmtp.listen == listen and c.lmtp.address == address


def test_no_lmtp_intake_unless_listen_is_set_and_the_size_limit_defaults_to_50mb(tmp_path):
    c = load_config(write(tmp_path, GOOD))
    assert c.lmtp.address is None and c.lmtp.max_message_size == 50 * 1024 ** 2
    assert c.lmtp.database_wait == timedelta(seconds=10)
    c = load_config(write(tmp_path, with_key(GOOD, "lmtp", 'max_message_size = "2MB"\ndatabase_wait = "3s"')))
    assert c.lmtp.max_message_size == 2 * 1024 ** 2 and c.lmtp.database_wait == timedelta(seconds=3)


@pytest.mark.parametrize("line, key, reason", [
    ('listen = "unix:run/lmtp.sock"', "lmtp.listen", "the socket's path must be absolute"),
    ('listen = "/run/aftercare/lmtp.sock"', "lmtp.listen", 'a socket path is written "unix:/run/aftercare/lmtp.sock"'),
    ('listen = "lmtp://127.0.0.1:24"', "lmtp.listen", "an address to listen on, not a URL"),
    ('listen = "10024"', "lmtp.listen", '"127.0.0.1:10024"'),
    ('listen = "127.0.0.1:0"', "lmtp.listen", "the port must be a number from 1 to 65535"),
    ("listen = 10024", "lmtp.listen", "expected a string, got 10024"),
    ('max_message_size = "huge"', "lmtp.max_message_size", 'expected a size such as "20MB"'),
    ('database_wait = "0s"', "lmtp.database_wait", "must be longer than zero"),
    ('port = 24', "lmtp.port", "unknown key"),
])
def test_a_bad_lmtp_key_names_file_key_and_reason(tmp_path, line, key, reason):
    path = write(tmp_path, with_key(GOOD, "lmtp", line))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.file, err.value.key) == (str(path), key) and reason in err.value.reason, err.value


def test_check_config_warns_of_an_lmtp_listener_other_hosts_can_reach(tmp_path):
    from aftercare.config import config_warnings
    said = {}
    for listen in ("127.0.0.1:10024", "unix:/run/aftercare/lmtp.sock", "0.0.0.0:10024"):
        c = load_config(write(tmp_path, with_key(GOOD, "lmtp", f'listen = "{listen}"')))
        said[listen] = [w for w in config_warnings(c, load_raw(c.path)) if "lmtp.listen" in w]
    assert said["127.0.0.1:10024"] == [] and said["unix:/run/aftercare/lmtp.sock"] == []
    assert said["0.0.0.0:10024"] == [f"{tmp_path / 'config.toml'}: lmtp.listen: 0.0.0.0:10024 can be reached from "
                                     "other hosts and LMTP asks for no login: anyone who reaches it can open cases; "
                                     "let a firewall keep it to your mail server"]
