"""[mailbox.oauth2] and [smtp.oauth2]: the provider's endpoints filled in, and every mistake named."""
import pytest

from aftercare.config import ConfigError, load_config

BASE = """
[mailbox]
host = "outlook.office365.com"
username = "support@contoso.com"
{mailbox}

[smtp]
host = "smtp.office365.com"
from_address = "Contoso Support <support@contoso.com>"
{smtp}

[staff]
addresses = ["jane@contoso.com"]
{tables}
"""

MICROSOFT = """
[mailbox.oauth2]
provider = "microsoft"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
refresh_token_file = "refresh-token"
"""


def load(tmp_path, mailbox='auth = "oauth2"', smtp="", tables=MICROSOFT, monkeypatch=None):
    path = tmp_path / "config.toml"
    path.write_text(BASE.format(mailbox=mailbox, smtp=smtp, tables=tables))
    return load_config(path)


@pytest.fixture(autouse=True)
def _no_systemd(monkeypatch, tmp_path):
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("AFTERCARE_STATE_DIRECTORY", str(tmp_path))


def test_check_config_by_hand_keeps_tokens_in_the_services_state_directory(tmp_path, monkeypatch):
    service = tmp_path / "var-lib-aftercare"
    service.mkdir()
    monkeypatch.delenv("AFTERCARE_STATE_DIRECTORY")
    monkeypatch.setattr("aftercare.config_values.SERVICE_STATE_DIRECTORY", service)
    assert load(tmp_path).imap_oauth2.token_store == service / "aftercare-oauth2-mailbox.json"
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "systemd-state"))
    assert load(tmp_path).imap_oauth2.token_store == tmp_path / "systemd-state" / "aftercare-oauth2-mailbox.json"


def test_microsoft_delegated_access_gets_the_providers_endpoint_and_scopes(tmp_path):
    c = load(tmp_path, smtp='auth = "oauth2"')
    s = c.imap_oauth2
    assert s.token_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert s.device_authorization_url.endswith("/contoso.onmicrosoft.com/oauth2/v2.0/devicecode")
    assert "IMAP.AccessAsUser.All" in s.scope and "SMTP.Send" in s.scope and "offline_access" in s.scope
    assert s.refresh_token_file == tmp_path / "refresh-token"
    assert s.token_store == tmp_path / "aftercare-oauth2-mailbox.json"  # the state directory, else beside the file
    assert c.mailbox.password is None and c.mailbox.imap.auth == "oauth2"
    assert c.smtp_oauth2 == s  # SMTP shares the mailbox's grant
    assert c.smtp_sending.username == "support@contoso.com" and c.smtp_sending.auth == "oauth2"


def test_microsoft_app_only_access_uses_the_default_scope_and_needs_tenant_and_secret(tmp_path, monkeypatch):
    (tmp_path / "secret").write_text("s3cr3t-value\n")
    tables = MICROSOFT.replace('refresh_token_file = "refresh-token"',
                               'flow = "client_credentials"\nclient_secret_file = "secret"')
    s = load(tmp_path, tables=tables).imap_oauth2
    assert s.scope == "https://outlook.office365.com/.default" and s.flow == "client_credentials"
    assert s.client_secret.reveal() == "s3cr3t-value" and s.client_secret_file == tmp_path / "secret"
    with pytest.raises(ConfigError) as e:
        load(tmp_path, tables=tables.replace('tenant = "contoso.onmicrosoft.com"\n', ""))
    assert e.value.key == "mailbox.oauth2.tenant" and "client_credentials" in e.value.reason
    with pytest.raises(ConfigError) as e:
        load(tmp_path, tables=tables.replace('client_secret_file = "secret"', ""))
    assert e.value.key == "mailbox.oauth2.client_secret"


def test_google_gets_the_mail_scope_and_the_systemd_credential_is_oauth2_client_secret(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "oauth2_client_secret").write_text("GOCSPX-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    tables = """
[mailbox.oauth2]
provider = "google"
client_id = "123.apps.googleusercontent.com"
refresh_token_file = "/etc/aftercare/oauth2-refresh-token"
mechanism = "OAUTHBEARER"
"""
    s = load(tmp_path, tables=tables).imap_oauth2
    assert s.token_url == "https://oauth2.googleapis.com/token" and s.scope == "https://mail.google.com/"
    assert s.client_secret.reveal() == "GOCSPX-credential" and s.mechanism == "OAUTHBEARER"


@pytest.mark.parametrize("mailbox,smtp,tables,key,reason", [
    ('auth = "oauth2"', "", "", "mailbox.oauth2", "[mailbox.oauth2] is required"),
    ("", "", "", "mailbox.password", 'or use auth = "oauth2"'),
    ('auth = "oauth"', "", MICROSOFT, "mailbox.auth", "must be one of 'password', 'oauth2'"),
    ('auth = "oauth2"', "", MICROSOFT.replace('"microsoft"', '"yahoo"'), "mailbox.oauth2.provider",
     "must be one of"),
    ('auth = "oauth2"', "", MICROSOFT.replace('provider = "microsoft"', 'provider = "custom"'),
     "mailbox.oauth2.token_url", 'required for provider = "custom"'),
    ('auth = "oauth2"', "", MICROSOFT.replace('provider = "microsoft"', 'provider = "google"'),
     "mailbox.oauth2.tenant", "only for provider"),
    ('auth = "oauth2"', "", MICROSOFT.replace('refresh_token_file = "refresh-token"', ""),
     "mailbox.oauth2.refresh_token_file", "oauth2 authorize"),
    ('auth = "oauth2"', "", MICROSOFT + 'mechanism = "PLAIN"\n', "mailbox.oauth2.mechanism", "XOAUTH2"),
    ('auth = "oauth2"', "", MICROSOFT + 'scopes = "x"\n', "mailbox.oauth2.scopes", "did you mean 'scope'"),
    ('password = "pw"', 'auth = "oauth2"', "", "smtp.auth", "[smtp.oauth2]"),
    ('auth = "oauth2"', "", MICROSOFT + 'token_url = "http://login.example.com/token"\n',
     "mailbox.oauth2.token_url", "https://"),
    ('auth = "oauth2"', 'auth = "oauth2"', MICROSOFT + MICROSOFT.replace("[mailbox.oauth2]", "[smtp.oauth2]"),
     "smtp.oauth2.refresh_token_file", "leave out [smtp.oauth2]"),
])
def test_mistakes_name_the_key_and_the_reason(tmp_path, mailbox, smtp, tables, key, reason):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, mailbox=mailbox, smtp=smtp, tables=tables)
    assert e.value.key == key and reason in e.value.reason, str(e.value)
    assert str(tmp_path / "config.toml") in str(e.value)


def test_smtp_may_have_a_grant_of_its_own(tmp_path):
    tables = MICROSOFT + MICROSOFT.replace("[mailbox.oauth2]", "[smtp.oauth2]").replace(
        '"refresh-token"', '"smtp-refresh-token"')
    c = load(tmp_path, smtp='auth = "oauth2"\nusername = "sender@contoso.com"', tables=tables)
    assert c.smtp_oauth2.refresh_token_file == tmp_path / "smtp-refresh-token"
    assert c.smtp_oauth2.token_store == tmp_path / "aftercare-oauth2-smtp.json"
    assert c.smtp_oauth2.key() != c.imap_oauth2.key()
    assert c.smtp_sending.username == "sender@contoso.com"


def test_the_client_secret_is_redacted_and_never_in_a_repr(tmp_path):
    tables = MICROSOFT + 'client_secret = "very-secret-value"\n'
    c = load(tmp_path, tables=tables)
    assert "very-secret-value" not in repr(c)
    assert "very-secret-value" in c.secrets()


def test_check_config_says_to_run_authorize_while_the_refresh_token_file_is_missing(tmp_path):
    from aftercare.config import config_warnings, load_raw
    c = load(tmp_path)
    warnings = config_warnings(c, load_raw(c.path))
    assert any("mailbox.oauth2.refresh_token_file" in w and "aftercare oauth2 authorize" in w for w in warnings)
    (tmp_path / "refresh-token").write_text("token\n")
    (tmp_path / "refresh-token").chmod(0o600)
    assert not [w for w in config_warnings(c, load_raw(c.path)) if "oauth2" in w]
