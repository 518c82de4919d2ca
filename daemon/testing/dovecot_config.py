"""The ``dovecot.conf`` of a test server, and why each setting that is not obvious is there.

The generated ``dovecot.conf`` is self-contained (it does not include
``/etc/dovecot``).  The settings that are not obvious, and why they are there
(running as root, which is how tests and ``make demo`` run):

``mail_uid`` / ``mail_gid`` = the ``mail`` account (else ``nobody``)
    Dovecot's ``imap`` process refuses to run as root whatever
    ``first_valid_uid`` says: ``uid=0`` from the userdb gives "userdb returned
    0 as uid", ``mail_uid = root`` gives "Mail access not allowed for root".
    So mail processes run as an existing unprivileged account, and the mail
    directory is chowned to it.  (``dovenull``/``dovecot`` are Dovecot's own
    login/internal users and must not be used for mail.)

``first_valid_uid`` / ``first_valid_gid``
    Lowered to that account's ids; the default (500) refuses uid 8.

``mail_chroot = <workdir>/mail``, userdb ``home=/%u``
    The mail account usually cannot even traverse to the work directory
    (pytest's ``/tmp/pytest-of-root`` is mode 0700).  ``imap`` chroots while
    still root, so nothing above ``<workdir>/mail`` has to be reachable by it.
    Mail is ``maildir:~/Maildir`` (folder separator ".", e.g. "INBOX.Sent").

``service auth { user = root }``
    The auth process normally runs as ``dovecot`` and then cannot re-read the
    passwd-file inside a 0700 tree ("Permission denied ... missing +x perm").

``passdb passwd-file`` with ``{PLAIN}`` passwords, ``userdb static``
    Users are lines in ``<workdir>/passwd``.  The auth process re-reads the
    file when its mtime/size change, but checks at most once per second, so
    :meth:`Dovecot.add_user` on a running server waits for the next second.

``service anvil { unix_listener anvil-auth-penalty { path = ...-disabled } }``
    Turns off Dovecot's auth penalty: otherwise after one failed login every
    further login from 127.0.0.1 -- the correct ones too -- is delayed 2, 4,
    8, 15 s.  (``login_trusted_networks`` does not exempt clients from it in
    2.3.19.)  The auth process finds no penalty socket and disables it.

``auth_failure_delay = 0 secs``
    A wrong password is answered after ~0.5 s (the check interval), not 2 s.

``ssl = no``, ``disable_plaintext_auth = no``, ``auth_mechanisms = plain login``,
``login_trusted_networks = 127.0.0.0/8``, ``inet_listener imaps { port = 0 }``
    Plain LOGIN over loopback, no TLS, no attempt to bind port 993.

``auth_cache_size = 0``
    Dovecot's default, said out loud: no auth cache, so every login asks the
    passdb again -- a password changed by :meth:`Dovecot.add_user`, or an
    OAuth2 token revoked or expired at the token server, is refused at the
    very next login instead of living on in the cache.

``mailbox_idle_check_interval = 1 secs``, ``imap_idle_notify_interval = 2 secs``
    Changes made by other sessions reach an IDLE-ing client within ~1 s even
    without inotify, and the "* OK Still here" keepalive comes often enough
    that client keepalive handling gets exercised.

``imap_capability`` (only with ``idle=False`` / ``move=False``)
    An explicit list without IDLE and/or MOVE, to exercise the daemon's
    fallbacks (polling; COPY + EXPUNGE).  Only the *advertisement* changes:
    Dovecot still executes MOVE/IDLE if a client sends them regardless.
    ``imap-login`` shows the same list before login.

``base_dir``, ``state_dir``, ``log_path``
    Sockets, pid file, instance registry and log inside the work directory,
    so nothing touches ``/run/dovecot`` or ``/var/lib/dovecot``, and a system
    Dovecot (if any) is unaffected.

``listen`` / ``inet_listener imap``
    127.0.0.1 on a port found by binding port 0 and releasing it; if Dovecot
    loses the race for it ("Address already in use") start() retries with a
    new port.  :meth:`Dovecot.restart` keeps the port.

With ``oauth2_introspection_url`` (OAuth2 logins, e.g. against
:class:`~aftercare.testing.tokenserver.TokenServer`) only:

``auth_mechanisms = plain login xoauth2 oauthbearer``
    ``AUTHENTICATE XOAUTH2`` (Google's/Microsoft's) and ``OAUTHBEARER``
    (RFC 7628) besides the password mechanisms.  imap-login then also
    advertises ``AUTH=XOAUTH2 AUTH=OAUTHBEARER``.

``passdb { driver = passwd-file  mechanisms = plain login }``
    The password passdb only for password logins.  Without this line Dovecot
    also asks the passwd-file for XOAUTH2/OAUTHBEARER and lets a user in whose
    "bearer token" is the password (verified on 2.3.19: ``oauth2_login("support",
    "secret")`` succeeded), which would hide a daemon sending its password
    where a token belongs.  2.3.19 accepts ``mechanisms`` in a passdb.

``passdb { driver = oauth2  mechanisms = xoauth2 oauthbearer  args = <workdir>/dovecot-oauth2.conf.ext }``
    Token logins are checked by the oauth2 passdb, configured in the
    ``.conf.ext`` file (written by :meth:`Dovecot.start` beside
    ``dovecot.conf``); the userdb stays ``static``, so a token user gets the
    same home and Maildir as the password user of that name -- tests add the
    mailbox user with :meth:`Dovecot.add_user` and log the daemon in with
    tokens.  Dovecot compares the introspected ``username`` with the login
    name ("Username 'staff' did not match 'support'"), so a token only opens
    its own user's mailbox.

``dovecot-oauth2.conf.ext``: ``introspection_mode = post``, ``introspection_url = <url>``
    Every token login POSTs ``token=<access token>`` to the introspection
    endpoint (RFC 7662).  No ``tokeninfo_url`` or ``grant_url``: 2.3.19 runs
    with the introspection URL alone (verified), and introspection is what
    can say "revoked".

``force_introspection = yes``
    Introspect even when a tokeninfo answer would already hold the user (none
    is configured, so this only pins the behaviour down: each login asks the
    token server, revocation and expiry count at once).

``username_attribute = username``, ``active_attribute = active``, ``active_value = true``
    The RFC 7662 answer's field names: the user is ``username`` (default
    would be ``email``), and ``{"active": false}`` -- an unknown, revoked or
    expired token -- fails the login ("Provided token is not valid").

A failed token login is answered after ~0.5 s, like a wrong password.

Not root (best effort, tried as ``nobody``): everything runs as the invoking
user (``default_login_user``/``default_internal_user``/``..._group``), no
chroots, homes are ``<workdir>/mail/<user>``.
"""
from __future__ import annotations

import grp
import os
import pwd
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .dovecot import Dovecot

HOST = "127.0.0.1"

# Dovecot 2.3's built-in post-login capability list (IMAP_CAPABILITY_STRING in
# src/imap/imap-common.h) plus LITERAL+, which imap-login only appends itself
# when imap_capability is *not* set explicitly.
_DEFAULT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
    "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL "
    "CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 "
    "CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "
    "BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"
).split()


def _capability_setting(d: "Dovecot") -> str:
    if d.idle and d.move:
        return ""
    caps = [
        c
        for c in _DEFAULT_CAPABILITIES
        if not (c == "IDLE" and not d.idle) and not (c == "MOVE" and not d.move)
    ]
    return f"imap_capability = {' '.join(caps)}\n"

def dovecot_conf(d: "Dovecot") -> str:
    """The whole ``dovecot.conf`` of one test server."""
    w = d.workdir
    oauth2 = d.oauth2_introspection_url is not None
    if d._as_root:
        mail = (
            f"mail_uid = {d._mail_uid}\n"
            f"mail_gid = {d._mail_gid}\n"
            f"mail_chroot = {d.mail_root}\n"
            "mail_location = maildir:~/Maildir\n"
        )
        home = "/%u"
        privileges = "service auth {\n  user = root\n}\n"
        no_chroot = ""
    else:  # best effort: everything runs as the invoking user
        me = pwd.getpwuid(os.geteuid()).pw_name
        my_group = grp.getgrgid(os.getegid()).gr_name
        mail = (
            f"mail_uid = {d._mail_uid}\n"
            f"mail_gid = {d._mail_gid}\n"
            "mail_location = maildir:~/Maildir\n"
        )
        home = f"{d.mail_root}/%u"
        privileges = (
            f"default_login_user = {me}\n"
            f"default_internal_user = {me}\n"
            f"default_internal_group = {my_group}\n"
        )
        no_chroot = "  chroot =\n"  # chroot() needs root
    return (
        "# Generated by aftercare.testing.dovecot_config -- see its module docstring.\n"
        "protocols = imap\n"
        f"listen = {HOST}\n"
        f"base_dir = {d.run_dir}\n"
        f"state_dir = {w / 'state'}\n"
        f"log_path = {d.log_path}\n"
        "ssl = no\n"
        "disable_plaintext_auth = no\n"
        f"auth_mechanisms = {'plain login xoauth2 oauthbearer' if oauth2 else 'plain login'}\n"
        "auth_cache_size = 0\n"
        "auth_failure_delay = 0 secs\n"
        "auth_verbose = yes\n"
        "login_trusted_networks = 127.0.0.0/8\n"
        f"first_valid_uid = {min(d._mail_uid, 500)}\n"
        "last_valid_uid = 0\n"
        f"first_valid_gid = {min(d._mail_gid, 1)}\n"
        "last_valid_gid = 0\n"
        f"{mail}"
        "mailbox_idle_check_interval = 1 secs\n"
        "imap_idle_notify_interval = 2 secs\n"
        f"{_capability_setting(d)}"
        f"{privileges}"
        "passdb {\n"
        "  driver = passwd-file\n"
        f"{'  mechanisms = plain login' + chr(10) if oauth2 else ''}"
        f"  args = scheme=PLAIN username_format=%u {d.passwd_path}\n"
        "}\n"
        f"{_oauth2_passdb(d) if oauth2 else ''}"
        "userdb {\n"
        "  driver = static\n"
        f"  args = home={home}\n"
        "}\n"
        "service anvil {\n"
        f"{no_chroot}"
        "  unix_listener anvil-auth-penalty {\n"
        "    path = anvil-auth-penalty-disabled\n"
        "  }\n"
        "}\n"
        "service imap-login {\n"
        f"{no_chroot}"
        "  inet_listener imap {\n"
        f"    address = {HOST}\n"
        f"    port = {d.port}\n"
        "  }\n"
        "  inet_listener imaps {\n"
        "    port = 0\n"
        "  }\n"
        "}\n"
    )



def _oauth2_passdb(d: "Dovecot") -> str:
    return (
        "passdb {\n"
        "  driver = oauth2\n"
        "  mechanisms = xoauth2 oauthbearer\n"
        f"  args = {d.oauth2_conf_path}\n"
        "}\n"
    )


def dovecot_oauth2_conf(d: "Dovecot") -> str:
    """The ``dovecot-oauth2.conf.ext`` of a server made with ``oauth2_introspection_url``."""
    return (
        "# Generated by aftercare.testing.dovecot_config -- see its module docstring.\n"
        "introspection_mode = post\n"
        f"introspection_url = {d.oauth2_introspection_url}\n"
        "force_introspection = yes\n"
        "username_attribute = username\n"
        "active_attribute = active\n"
        "active_value = true\n"
    )
