"""Is staff-looking mail really from that staff member? Reply tokens and Authentication-Results, pure."""
import pytest
from hypothesis import given, settings, strategies as st

from aftercare.cases.verification import (TOKEN_LENGTH, authentication_passes, make_token, recipients, reply_address,
                                       token_case, verify_staff)
from aftercare.inbound import InboundMail

SECRET = b"0123456789abcdef0123456789abcdef"
SUPPORT = "support@example.com"
JANE, SAM = "jane@example.com", "sam@example.com"
ALL = ("reply-token", "authentication-results", "from-header")


def mail(sender=JANE, to=(SUPPORT,), **kw):
    base = dict(message_id="m1@example.com", fingerprint="m1@example.com", from_address=sender, from_name="",
                to=tuple(to), cc=(), reply_to=(), subject="Re: Broken kettle [Case #7]", date=None, in_reply_to=(),
                references=(), text="#done 1", attachments=(), headers={}, return_path=sender,
                delivery_report=None, size=10)
    base.update(kw)
    return InboundMail(**base)


def token_for(case_id=7, staff=JANE, secret=SECRET):
    return reply_address(SUPPORT, secret, case_id, staff)


# --- tokens ----------------------------------------------------------------------------------------------------


def test_the_reply_address_is_a_plus_address_of_the_support_mailbox():
    address = token_for()
    local, _, domain = address.partition("@")
    assert domain == "example.com" and local.startswith("support+c7.")
    assert len(local.split(".", 1)[1]) == TOKEN_LENGTH
    assert address == token_for()  # stable: the same case and person always get the same address


def test_a_token_round_trips_to_its_case():
    assert token_case([token_for(7)], SECRET, JANE) == 7
    assert token_case(["someone@else.example", token_for(123456789)], SECRET, JANE) == 123456789


def test_a_token_is_for_one_staff_member():
    assert token_case([token_for(7, SAM)], SECRET, JANE) is None
    assert token_case([token_for(7, JANE)], SECRET, SAM) is None


def test_a_token_is_for_one_case():
    forged = token_for(7).replace("+c7.", "+c8.")
    assert token_case([forged], SECRET, JANE) is None


def test_a_token_is_only_good_with_the_daemons_secret():
    assert token_case([token_for(7, secret=b"another secret")], SECRET, JANE) is None


@pytest.mark.parametrize("tamper", [
    lambda a: a.replace(a.split(".")[1][:1], "0" if a.split(".")[1][0] != "0" else "1", 1),  # a hex digit changed
    lambda a: a.replace("@", "0@"),  # a digit too many: the token is no longer 16 hex digits before the @
    lambda a: a.split(".")[0] + "." + a.split(".")[1][1:],  # a digit too few
    lambda a: a.replace("+c7.", "+c7"),
    lambda a: a.replace("+c7.", "+7."),
])
def test_a_tampered_token_fails(tamper):
    tampered = tamper(token_for(7))
    assert tampered != token_for(7)
    assert token_case([tampered], SECRET, JANE) is None


def test_uppercase_addresses_and_staff_addresses_still_match():
    assert token_case([token_for(7).upper()], SECRET, JANE) == 7
    assert token_case([token_for(7)], SECRET, "Jane@Example.COM") == 7
    assert make_token(SECRET, 7, "JANE@EXAMPLE.COM") == make_token(SECRET, 7, JANE)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 999_999_999), st.from_regex(r"[a-z0-9._-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,5}", fullmatch=True),
       st.binary(min_size=16, max_size=64))
def test_any_case_and_staff_member_round_trips_and_no_other_does(case_id, staff, secret):
    address = reply_address(SUPPORT, secret, case_id, staff)
    assert token_case([address], secret, staff) == case_id
    assert token_case([address], secret, "x" + staff) is None
    assert token_case([address.replace(f"+c{case_id}.", f"+c{case_id + 1}.")], secret, staff) is None


# --- where a token may be found --------------------------------------------------------------------------------


def test_recipients_include_to_cc_and_what_the_delivering_server_recorded():
    m = mail(to=("a@x.example",), cc=("b@x.example",),
             headers={"delivered-to": "<Support+C7.ABC@Example.com>", "x-original-to": "c@x.example",
                      "envelope-to": "d@x.example"})
    assert recipients(m) == ["a@x.example", "b@x.example", "support+c7.abc@example.com", "c@x.example",
                             "d@x.example"]


@pytest.mark.parametrize("where", ["to", "cc", "delivered-to", "x-original-to", "envelope-to"])
def test_a_token_is_found_wherever_the_reply_was_addressed(where):
    address = token_for(7)
    if where == "to":
        m = mail(to=("maria@example.net", address))
    elif where == "cc":
        m = mail(to=(SUPPORT,), cc=("maria@example.net", address))
    else:
        m = mail(to=(SUPPORT,), headers={where: address})
    verdict = verify_staff(m, methods=("reply-token",), secret=SECRET)
    assert verdict.verified and verdict.method == "reply-token" and verdict.token_case == 7


def test_a_token_in_an_uppercase_delivered_to_header_counts():
    m = mail(to=(SUPPORT,), headers={"delivered-to": "<" + token_for(7).upper() + ">"})
    assert verify_staff(m, methods=("reply-token",), secret=SECRET).token_case == 7


def test_a_token_in_the_reply_to_or_the_subject_does_not_count():
    m = mail(reply_to=(token_for(7),), subject=f"Re: {token_for(7)}")
    assert not verify_staff(m, methods=("reply-token",), secret=SECRET).verified


# --- verify_staff ----------------------------------------------------------------------------------------------


def test_a_reply_to_the_token_of_the_sender_is_verified():
    verdict = verify_staff(mail(to=(token_for(7),)), methods=("reply-token",), secret=SECRET)
    assert (verdict.verified, verdict.method, verdict.token_case) == (True, "reply-token", 7)


def test_the_sender_is_compared_without_regard_to_case():
    m = mail(sender="Jane@Example.com", to=(token_for(7),))
    assert verify_staff(m, methods=("reply-token",), secret=SECRET).verified


def test_a_colleagues_token_does_not_verify_a_forged_sender():
    # Mallory got hold of mail Sam received and writes as Jane to Sam's token.
    verdict = verify_staff(mail(sender=JANE, to=(token_for(7, SAM),)), methods=("reply-token",), secret=SECRET)
    assert not verdict.verified and verdict.token_case is None


def test_no_token_no_verification():
    verdict = verify_staff(mail(), methods=("reply-token",), secret=SECRET)
    assert not verdict.verified and verdict.token_case is None and "no valid reply token" in verdict.method


def test_a_token_for_another_case_does_not_verify_a_reply_on_this_case():
    m = mail(to=(token_for(7),))
    verdict = verify_staff(m, methods=("reply-token",), secret=SECRET, case_id=8)
    assert not verdict.verified and verdict.token_case == 7
    assert verify_staff(m, methods=("reply-token",), secret=SECRET, case_id=7).verified


def test_tokens_for_two_cases_verify_either_case():
    # Jane answers case 8 and copies the reply address of case 7: each case finds its own token.
    m = mail(to=(token_for(7),), cc=(token_for(8),))
    for case_id in (7, 8):
        verdict = verify_staff(m, methods=("reply-token",), secret=SECRET, case_id=case_id)
        assert verdict.verified and verdict.token_case == case_id


def test_without_the_method_configured_a_valid_token_is_not_enough():
    verdict = verify_staff(mail(to=(token_for(7),)), methods=("authentication-results",), secret=SECRET,
                           authserv_id="mx.example.com")
    assert not verdict.verified and verdict.token_case == 7


def test_a_missing_from_is_never_verified_by_token():
    m = mail(sender=None, to=(token_for(7),))
    assert not verify_staff(m, methods=("reply-token",), secret=SECRET).verified


def test_from_header_trusts_the_from_alone():
    verdict = verify_staff(mail(), methods=("from-header",), secret=SECRET)
    assert verdict.verified and verdict.method == "from-header"
    verdict = verify_staff(mail(to=(token_for(7),)), methods=("reply-token", "from-header"), secret=SECRET)
    assert verdict.method == "reply-token" and verdict.token_case == 7  # the stronger proof is named


# --- Authentication-Results ------------------------------------------------------------------------------------

MX = "mx.example.com"


def auth(value, sender=JANE):
    return mail(sender=sender, headers={"authentication-results": value})


@pytest.mark.parametrize("value", [
    "mx.example.com; dkim=pass header.d=example.com header.s=sel",
    "mx.example.com 1; dkim=pass (2048-bit key; secure) header.d=example.com header.i=@example.com",
    "MX.Example.COM; spf=fail smtp.mailfrom=jane@example.com; dkim=pass header.d=EXAMPLE.com",
    "mx.example.com; spf=pass smtp.mailfrom=jane@example.com",
    "mx.example.com; spf=pass smtp.mailfrom=example.com",
    "mx.example.com; dkim=fail header.d=example.com; spf=pass smtp.mailfrom=bounces@example.com",
    "mx.example.com;\tdkim=pass header.d=example.com.",
    # OpenDKIM (beside Postfix and Dovecot) puts a ";" in its comment.
    "mx.example.com; dkim=pass (2048-bit key; unprotected) header.d=example.com header.i=@example.com "
    'header.a=rsa-sha256 header.s=mail header.b="Xy1/abc"',
    # Gmail
    "mx.example.com; dkim=pass header.i=@example.com header.s=20230601 header.b=AbCdEf; "
    "spf=pass (mx.example.com: domain of jane@example.com designates 203.0.113.5 as permitted sender) "
    "smtp.mailfrom=jane@example.com; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
    # Microsoft 365
    "mx.example.com; spf=pass (sender IP is 203.0.113.5) smtp.mailfrom=example.com; dkim=pass "
    "(signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;",
    'mx.example.com; dkim=pass header.d="example.com"',
])
def test_authentication_results_pass(value):
    assert authentication_passes(auth(value), MX)
    verdict = verify_staff(auth(value), methods=("authentication-results",), secret=SECRET, authserv_id=MX)
    assert verdict.verified and verdict.method == "authentication-results"


@pytest.mark.parametrize("value", [
    "",
    "mx.example.com; dkim=fail header.d=example.com",
    "mx.example.com; spf=fail smtp.mailfrom=jane@example.com",
    "mx.example.com; spf=softfail smtp.mailfrom=jane@example.com; dkim=none",
    "mx.example.com; dkim=pass header.d=evil.example",  # signed, but by another domain
    "mx.example.com; dkim=pass header.d=mail.example.com",  # a subdomain is another domain
    "mx.example.com; dkim=pass header.d=example.com.evil.example",
    "mx.example.com; spf=pass smtp.mailfrom=jane@evil.example",
    "mx.example.com; dkim=pass header.i=@example.com",  # no header.d: nothing to compare
    "mx.example.com; dmarc=pass header.from=example.com",
    "mx.evil.example; dkim=pass header.d=example.com",  # somebody else's server vouching
    "evil.mx.example.com; dkim=pass header.d=example.com",
    "mx.example.com.evil; dkim=pass header.d=example.com",
    "mx.example.com",
    "; dkim=pass header.d=example.com",
    "mx.example.com; none",
    # Words in comments are not results.
    "mx.example.com; dkim=fail (dkim=pass header.d=example.com) header.d=example.com",
    "mx.example.com; dkim=pass (header.d=example.com) header.d=evil.example",
    "(mx.example.com) evil.example; dkim=pass header.d=example.com",
    'mx.example.com; dkim=fail reason="; dkim=pass header.d=example.com"',
])
def test_authentication_results_fail(value):
    assert not authentication_passes(auth(value), MX)
    assert not verify_staff(auth(value), methods=("authentication-results",), secret=SECRET, authserv_id=MX).verified


def test_authentication_results_need_our_authserv_id_and_a_sender():
    value = "mx.example.com; dkim=pass header.d=example.com"
    assert not authentication_passes(auth(value), "")
    assert not authentication_passes(auth(value, sender=None), MX)
    assert not authentication_passes(mail(), MX)  # no header at all


def test_authentication_results_are_ignored_unless_configured():
    m = auth("mx.example.com; dkim=pass header.d=example.com")
    assert not verify_staff(m, methods=("reply-token",), secret=SECRET, authserv_id=MX).verified


def test_authentication_results_verify_any_case():
    m = auth("mx.example.com; dkim=pass header.d=example.com")
    verdict = verify_staff(m, methods=("reply-token", "authentication-results"), secret=SECRET, authserv_id=MX,
                           case_id=8)
    assert verdict.verified and verdict.method == "authentication-results" and verdict.token_case is None


def test_a_token_for_another_case_falls_back_to_authentication_results():
    m = mail(to=(token_for(7),), headers={"authentication-results": "mx.example.com; spf=pass "
                                                                      "smtp.mailfrom=jane@example.com"})
    verdict = verify_staff(m, methods=("reply-token", "authentication-results"), secret=SECRET, authserv_id=MX,
                           case_id=8)
    assert verdict.verified and verdict.method == "authentication-results"
    verdict = verify_staff(mail(to=(token_for(7),)), methods=("reply-token", "authentication-results"),
                           secret=SECRET, authserv_id=MX, case_id=8)
    assert not verdict.verified and "Authentication-Results" in verdict.method


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.one_of(st.none(), st.text(max_size=30)))
def test_arbitrary_headers_never_raise(value, sender):
    m = mail(sender=sender, headers={"authentication-results": value, "delivered-to": value})
    assert isinstance(authentication_passes(m, MX), bool)
    verify_staff(m, methods=ALL[:2], secret=SECRET, authserv_id=MX, case_id=7)
