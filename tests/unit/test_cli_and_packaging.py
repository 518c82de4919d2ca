"""The operator's commands, the service unit and the wheel, as an operator meets them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from aftercare.testing.daemonproc import run_cli
from test_config import GOOD, write

ROOT = Path(__file__).resolve().parents[2]


def test_check_config_offline_validates_and_counts_templates(tmp_path):
    out = run_cli(write(tmp_path, GOOD), "check-config", "--offline")
    assert out.returncode == 0, out.stderr
    assert "configuration is valid" in out.stdout and "compiled and rendered with sample data" in out.stdout


def test_check_config_names_file_key_and_reason_and_exits_1(tmp_path):
    path = write(tmp_path, GOOD.replace("[smtp]", "[smtp]\nprot = 25"))
    out = run_cli(path, "check-config", "--offline")
    assert out.returncode == 1
    assert f"{path}: smtp.prot: unknown key (did you mean 'port'?)" in out.stderr
    assert "hunter2" not in out.stderr + out.stdout


def test_check_config_online_reports_unreachable_servers(tmp_path):
    text = GOOD.replace('host = "imap.example.com"', 'host = "127.0.0.1"\nport = 1\nsecurity = "none"\ntimeout = "2s"')
    text = text.replace('host = "smtp.example.com"', 'host = "127.0.0.1"\nport = 1\nsecurity = "none"\ntimeout = "2s"')
    out = run_cli(write(tmp_path, text), "check-config")
    assert out.returncode == 1
    assert "imap: cannot use 127.0.0.1:1" in out.stderr and "smtp: cannot connect" in out.stderr
    assert "hunter2" not in out.stderr + out.stdout


def test_render_shows_a_template_with_sample_data(tmp_path):
    out = run_cli(write(tmp_path, GOOD), "render", "customer/acknowledgment")
    assert out.returncode == 0, out.stderr
    assert "Subject: Re: Cracked kettle lid, order 10234 [Case #1042]" in out.stdout
    assert "Jane Doe" in out.stdout
    bad = run_cli(write(tmp_path, GOOD), "render", "customer/nope")
    assert bad.returncode != 0 and "customer/acknowledgment" in bad.stderr


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    out = run_cli(tmp_path / "nope.toml", "check-config", "--offline")
    assert out.returncode == 1 and "no such file" in out.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_service_unit_verifies_and_is_well_sandboxed(tmp_path):
    unit = (ROOT / "systemd" / "aftercare.service").read_text()
    # verify checks that ExecStart exists: point it at this environment's aftercare.
    exe = shutil.which("aftercare") or str(Path(sys.executable).parent / "aftercare")
    local = tmp_path / "aftercare.service"
    local.write_text(unit.replace("/usr/local/bin/aftercare", exe))
    verify = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(local)],
                              capture_output=True, text=True)
    line = next(l for l in security.stdout.splitlines() if "Overall exposure level" in l)
    score = float(line.split("level for aftercare.service:")[1].split()[0])
    assert score <= 2.0, line


def test_a_non_editable_install_finds_its_templates(tmp_path):
    """Build the wheel from a copy of the tree, install it in a fresh venv, and render from there."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", ".hypothesis", "corpus"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                          "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # No deprecation or package-discovery warnings from the build (licence as SPDX, templates as package data).
    warned = [line for line in (out.stdout + out.stderr).splitlines()
              if "BuildBackendWarning" in line or "SetuptoolsDeprecationWarning" in line]
    assert warned == []
    wheel = next((tmp_path / "dist").glob("aftercare-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "aftercare/bundled_templates/customer/acknowledgment.txt" in names
    assert not [n for n in names if n.startswith("daemon/")]  # python-daemon owns that name on PyPI
    assert "aftercare/testing/dovecot.py" in names  # aftercare demo needs it
    assert not [n for n in names if n.endswith("fixtures.py")]  # the pytest fixtures stay in tests/
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    # The dependencies come from this environment (a path, not its .pth hooks), the package from the wheel.
    (site / "deps.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    config = write(tmp_path, GOOD)
    run = subprocess.run([str(venv / "bin" / "aftercare"), "--config", str(config), "render",
                          "customer/acknowledgment"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Subject: Re: Cracked kettle lid" in run.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import aftercare; print(aftercare.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path).stdout
    assert str(venv) in where  # really the installed copy, not the checkout


def test_check_config_refuses_a_template_using_a_variable_its_email_never_has(tmp_path):
    tdir = tmp_path / "tpl" / "customer"
    tdir.mkdir(parents=True)
    (tdir / "acknowledgment.txt").write_text("Subject: Hello {{ case.ref }}\n\nDear {{ costumer.name }},\n")
    path = write(tmp_path, GOOD + f'\n[templates]\ndirectory = "{tmp_path / "tpl"}"\n')
    out = run_cli(path, "check-config", "--offline")
    assert out.returncode == 1
    assert "acknowledgment.txt, line 3: uses costumer" in out.stderr and "customer" in out.stderr
    (tdir / "acknowledgment.txt").write_text("Subject: Hello {{ case.ref }}\n\nDear {{ case.nope }},\n")
    out = run_cli(path, "check-config", "--offline")
    assert out.returncode == 1  # caught by rendering the sample data, at the file's line
    assert "acknowledgment.txt, line 3: 'dict object' has no attribute 'nope'" in out.stderr


def test_check_config_lists_each_template_with_its_variables(tmp_path):
    out = run_cli(write(tmp_path, GOOD), "check-config", "--offline", "--verbose")
    line = next(l for l in out.stdout.splitlines() if l.strip().startswith("customer/checkin:"))
    assert "discount.code" in line and "owner.name" in line and "case.ref" in line


def test_version_unknown_status_and_a_closed_pipe(tmp_path):
    """--version answers; an unknown status is an error, not "no cases"; a reader that goes away ends the
    output quietly (``aftercare check-config | head``), with no traceback."""
    version = subprocess.run([sys.executable, "-m", "aftercare", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("aftercare ") and version.stdout.strip() != "aftercare"
    config = write(tmp_path, GOOD)
    bogus = run_cli(config, "cases", "list", "--status", "bogus")
    assert bogus.returncode == 2 and "invalid choice: 'bogus'" in bogus.stderr
    proc = subprocess.Popen([sys.executable, "-m", "aftercare", "--config", str(config), "check-config", "--offline"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -0`: nobody reads
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err and proc.returncode == 141


def test_a_postgresql_url_without_its_driver_fails_check_config_and_every_command_clearly(tmp_path):
    """A machine without psycopg2 (simulated: the module is unimportable) hears so from check-config, with
    the file, the key and the remedy, and ``cases list`` says the same instead of ending in a traceback."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text('import sys\nsys.modules["psycopg2"] = None\n')
    text = GOOD.replace("[staff]", '[database]\nurl = "postgresql://127.0.0.1/test"\n\n[staff]', 1)
    config = write(tmp_path, text)
    env = {**os.environ, "PYTHONPATH": str(hide)}
    for args in (["check-config", "--offline"], ["cases", "list"]):
        out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(config), *args],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 1, out
        assert "database.url" in out.stderr and "aftercare[postgresql]" in out.stderr and str(config) in out.stderr
        assert "Traceback" not in out.stderr
    # with the driver, the same file is valid
    assert run_cli(config, "check-config", "--offline").returncode == 0
