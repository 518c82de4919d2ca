"""The Postfix settings of docs/postfix/ (README: "Postfix") are what Postfix itself takes.

Each example is copied into a Postfix configuration directory of its own, beside the distribution's
master.cf, and read back with ``postconf -c DIR``: no warning (postconf warns of a misspelt or unused
parameter, and of a master.cf line it cannot read), and the values are the ones meant. The transport
map is compiled with ``postmap`` and looked up. Needs Postfix (apt-get install postfix); skipped without
it, failed under AFTERCARE_REQUIRE_INTEGRATION=1.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from server_fixtures import require_integration

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "postfix"
#: Where Debian's postfix package keeps the distribution's master.cf (the one /etc/postfix starts from).
MASTER_CF = (Path("/usr/share/postfix/master.cf.dist"), Path("/etc/postfix/master.cf"))


def tool(name: str) -> str | None:
    """postconf and postmap live in /usr/sbin, which a user's PATH may leave out."""
    found = shutil.which(name) or f"/usr/sbin/{name}"
    return found if Path(found).exists() else None


@pytest.fixture
def postfix_dir(tmp_path: Path) -> Path:
    if tool("postconf") is None or tool("postmap") is None:
        require_integration("Postfix is not installed (apt-get install postfix: postconf, postmap)")
    master = next((p for p in MASTER_CF if p.exists()), None)
    if master is None:
        require_integration("Postfix's master.cf is not where Debian puts it")
    conf = tmp_path / "postfix"
    conf.mkdir()
    shutil.copy(master, conf / "master.cf")
    # The snippet names /etc/postfix/transport; here the map is the copy in this directory.
    main = (DOCS / "main.cf.snippet").read_text()
    assert "hash:/etc/postfix/transport" in main
    (conf / "main.cf").write_text(main.replace("/etc/postfix/transport", str(conf / "transport")))
    shutil.copy(DOCS / "transport", conf / "transport")
    return conf


def run(*args: str) -> str:
    done = subprocess.run([tool(args[0]) or args[0], *args[1:]], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
    assert not done.stderr.strip(), f"{' '.join(args)} warned:\n{done.stderr}"
    return done.stdout


def settings(conf: Path) -> dict[str, str]:
    out = run("postconf", "-c", str(conf), "-n")
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)


def lookup(conf: Path, address: str) -> str:
    return run("postmap", "-c", str(conf), "-q", address, f"hash:{conf / 'transport'}").strip()


def test_loopback_tcp_settings_read_back_without_warnings(postfix_dir: Path):
    conf = postfix_dir
    values = settings(conf)
    assert values["recipient_delimiter"] == "+"
    assert values["transport_maps"] == f"hash:{conf / 'transport'}"
    run("postmap", "-c", str(conf), str(conf / "transport"))
    assert lookup(conf, "support@example.com") == "lmtp:inet:127.0.0.1:10024"
    # Only the configured address goes to Aftercare.
    missing = subprocess.run([tool("postmap"), "-c", str(conf), "-q", "sales@example.com",
                              f"hash:{conf / 'transport'}"], capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and not missing.stdout, missing
    # The values left at their defaults, which the snippet explains.
    defaults = dict(line.split(" = ", 1) for line in run("postconf", "-c", str(conf), "-d",
                    "lmtp_destination_recipient_limit", "default_destination_recipient_limit",
                    "lmtp_connection_cache_on_demand", "message_size_limit").splitlines())
    assert defaults["lmtp_destination_recipient_limit"] == "$default_destination_recipient_limit"
    assert int(defaults["default_destination_recipient_limit"]) > 1
    assert defaults["lmtp_connection_cache_on_demand"] == "yes"
    assert int(defaults["message_size_limit"]) <= 50 * 1000 * 1000  # under Aftercare's max_message_size


def test_a_misspelt_parameter_would_be_reported(postfix_dir: Path):
    """The check above has teeth: postconf names a parameter it does not know."""
    with open(postfix_dir / "main.cf", "a") as f:
        f.write("lmtp_destination_recipient_limt = 1\n")
    done = subprocess.run([tool("postconf"), "-c", str(postfix_dir), "-n"], capture_output=True, text=True, timeout=30)
    assert "unused parameter: lmtp_destination_recipient_limt" in done.stderr, done.stderr


def test_unix_socket_settings_read_back_without_warnings(postfix_dir: Path):
    conf = postfix_dir
    with open(conf / "master.cf", "a") as f:
        f.write("\n" + (DOCS / "master.cf.snippet").read_text())
    # The commented alternative line of the transport map, in place of the loopback one.
    lines = (conf / "transport").read_text().splitlines()
    unix = [l for l in lines if l.startswith("#support@example.com")]
    assert len(unix) == 1, lines
    kept = [l for l in lines if not l.startswith("support@example.com")]
    (conf / "transport").write_text("\n".join(unix[0][1:] if l is unix[0] else l for l in kept) + "\n")
    # A parameter of the new transport is known to postconf only if its master.cf line was read.
    with open(conf / "main.cf", "a") as f:
        f.write("aftercare_destination_recipient_limit = 50\n")
    values = settings(conf)
    assert values["aftercare_destination_recipient_limit"] == "50"
    service = run("postconf", "-c", str(conf), "-M", "aftercare/unix").split()
    assert service == ["aftercare", "unix", "-", "-", "n", "-", "-", "lmtp"], service
    assert run("postconf", "-c", str(conf), "-Fh", "aftercare/unix/chroot").strip() == "n"
    run("postmap", "-c", str(conf), str(conf / "transport"))
    assert lookup(conf, "support@example.com") == "aftercare:unix:/run/aftercare/lmtp.sock"
