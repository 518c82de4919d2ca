"""What the wheel carries for installing the service, and the completion and man page made from the parser."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from aftercare.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "aftercare.service"
EXAMPLE = ROOT / "config.example.toml"


def aftercare(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aftercare", *args], capture_output=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv): the wheel built from a copy of the whole tree, installed in a venv of its own.

    The whole tree, so that a file added at the top of the checkout would show up in the wheel's
    aftercare/bundled_service/ (pyproject.toml maps that package to the top folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info",
                                                             "__pycache__", ".pytest_cache", ".hypothesis", "corpus"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    wheel = next((tmp / "dist").glob("aftercare-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    # The dependencies come from this environment (a path, not its .pth hooks), the package from the wheel.
    (site / "deps.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    return wheel, venv


def test_the_wheel_carries_the_unit_and_the_example_configuration_and_nothing_else_from_the_top(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if n.startswith("aftercare/bundled_service/")) == [
        "aftercare/bundled_service/config.example.toml", "aftercare/bundled_service/systemd/aftercare.service"]
    assert zipfile.ZipFile(wheel).read("aftercare/bundled_service/systemd/aftercare.service") == UNIT.read_bytes()


@pytest.mark.parametrize("command, original", [("print-unit", UNIT), ("print-config", EXAMPLE)])
def test_a_wheel_install_prints_the_repository_files_byte_for_byte(installed, tmp_path, command, original):
    """Run from the installed venv, away from the checkout (whose files it could otherwise have read)."""
    _, venv = installed
    out = subprocess.run([str(venv / "bin" / "aftercare"), command], capture_output=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == original.read_bytes()


@pytest.mark.parametrize("command, original", [("print-unit", UNIT), ("print-config", EXAMPLE)])
def test_the_checkout_prints_the_same_files(command, original):
    out = aftercare(command)
    assert out.returncode == 0, out.stderr
    assert out.stdout == original.read_bytes()


@pytest.mark.parametrize("args", [["print-unit"], ["print-config"], ["completion", "bash"], ["man"]])
def test_commands_for_setting_up_read_no_configuration(tmp_path, args):
    """They work before there is a configuration: a named file that does not exist is never opened."""
    missing = str(tmp_path / "nope.toml")
    out = aftercare("--config", missing, *args, env={**os.environ, "AFTERCARE_CONFIG": missing})
    assert out.returncode == 0, out.stderr
    assert out.stdout and out.stderr == b""


def _complete(script: Path, words: list[str], cwd: Path) -> list[str]:
    """COMPREPLY from the generated bash function, as bash computes it for the line ``words`` (cursor at the end)."""
    line = f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; " \
           "_shtab_aftercare; printf '%s\\n' \"${COMPREPLY[@]}\""
    out = subprocess.run(["bash", "-c", line], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completion_is_valid_and_completes_subcommands_options_and_the_config_file(tmp_path):
    out = aftercare("completion", "bash", text=True)
    assert out.returncode == 0, out.stderr
    script = tmp_path / "aftercare.bash"
    script.write_text(out.stdout)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    (tmp_path / "site.toml").write_text("")
    assert _complete(script, ["aftercare", "ca"], tmp_path) == ["cases"]
    assert "list" in _complete(script, ["aftercare", "cases", "l"], tmp_path)
    assert _complete(script, ["aftercare", "completion", "z"], tmp_path) == ["zsh"]
    assert _complete(script, ["aftercare", "--config", "si"], tmp_path) == ["site.toml"]
    assert _complete(script, ["aftercare", "run", "--config", "si"], tmp_path) == ["site.toml"]


def _command_paths(parser: argparse.ArgumentParser, prefix: str = "aftercare"):
    """Every subcommand, nested ones too ("aftercare cases list"), as the parser has them now."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield f"{prefix} {name}"
                yield from _command_paths(subparser, f"{prefix} {name}")


def test_the_man_page_renders_and_covers_every_subcommand():
    out = aftercare("man", text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(".TH AFTERCARE \"1\"")
    if Path("/usr/bin/man").exists():
        render = ["man", "-l", "-"]
    elif Path("/usr/bin/groff").exists():
        render = ["groff", "-man", "-Tutf8", "-P", "-cbou"]
    else:
        pytest.skip("neither man nor groff is installed")
    env = {**os.environ, "MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat", "MAN_KEEP_FORMATTING": ""}
    page = subprocess.run(render, input=out.stdout, capture_output=True, text=True, env=env, timeout=60)
    assert page.returncode == 0, page.stderr
    assert "error" not in page.stderr.lower(), page.stderr
    text = page.stdout
    assert "NAME\n       aftercare - follow-up daemon for customer complaints" in text
    paths = list(_command_paths(build_parser()))
    assert {"aftercare print-unit", "aftercare man", "aftercare cases list"} <= set(paths)
    missing = [p for p in paths if f"COMMAND '{p}'" not in text]
    assert missing == []
    assert "--log-format" in text and "--offline" in text  # options, not only command names
