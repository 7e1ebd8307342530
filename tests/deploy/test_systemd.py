"""deploy/systemd/: the units name commands that exist, and systemd accepts them.

Every ExecStart that runs ``reporting-portal`` must name a command (and options) of the
click group as it is now, so renaming a command breaks this test rather than an
operator's nightly timer. The gunicorn units must name an entry point of
reporting_portal.wsgi and the shipped gunicorn settings. ``systemd-analyze verify`` runs
on the units, rendered with this checkout's paths, where systemd-analyze exists.
"""

from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from reporting_portal import wsgi
from reporting_portal.cli import main
from tests.helpers.deploy import REPOSITORY, SYSTEMD_DIR

VENV_BIN = "/opt/reporting-portal/venv/bin/"
SOURCE = "/opt/reporting-portal/src"
UNITS = sorted(SYSTEMD_DIR.glob("*.service")) + sorted(SYSTEMD_DIR.glob("*.timer"))
# What each timer must run, and how often (the operator's guide promises these).
TIMERS = {
    "reporting-portal-purge": ["purge"],
    "reporting-portal-send-notices": ["send-notices"],
    "reporting-portal-audit-release": ["audit", "release"],
    "reporting-portal-backup": ["backup"],
    "reporting-portal-fsck": ["fsck"],
}


def unit_file(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


@dataclass(frozen=True)
class Invocation:
    program: str
    arguments: list[str]


def exec_start(path: Path) -> Invocation:
    """The program a service's ExecStart runs, seen through a ``/bin/sh -c`` wrapper, with
    systemd's own escapes (``%%``, ``$$``) undone."""
    line = unit_file(path)["Service"]["ExecStart"]
    words = shlex.split(line.replace("%%", "%").replace("$$", "$"))
    if words[0] == "/bin/sh" and words[1] == "-c":
        words = shlex.split(words[2])
        if words[0] == "exec":
            words = words[1:]
    return Invocation(words[0], words[1:])


def cli_command(arguments: list[str]) -> tuple[click.Command, list[str]]:
    """The click command that ``reporting-portal ARGUMENTS`` reaches, and its options."""
    command: click.Command = main
    words = list(arguments)
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name = words.pop(0)
        found = command.commands.get(name)
        assert found is not None, f"reporting-portal has no command {name!r}"
        command = found
    assert not isinstance(command, click.Group), f"{arguments} names a group, not a command"
    return command, [word for word in words if word.startswith("-")]


def services_running_the_cli() -> list[Path]:
    return [path for path in SYSTEMD_DIR.glob("*.service")
            if exec_start(path).program == VENV_BIN + "reporting-portal"]


def test_exec_start_sees_through_the_shell_wrapper():
    invocation = exec_start(SYSTEMD_DIR / "reporting-portal-backup.service")
    assert invocation.program == VENV_BIN + "reporting-portal"
    assert invocation.arguments[:2] == ["backup", "-o"]
    assert invocation.arguments[2].endswith("-$(date -u +%Y-%m-%d).backup")


@pytest.mark.parametrize("service", services_running_the_cli(), ids=lambda path: path.stem)
def test_every_unit_runs_a_command_the_cli_has(service):
    arguments = exec_start(service).arguments
    command, options = cli_command(arguments)
    known = {option for parameter in command.params for option in parameter.opts}
    assert set(options) <= known, f"{service.name}: {set(options) - known} unknown"


@pytest.mark.parametrize("name", ["reporting-portal-reporter", "reporting-portal-staff"])
def test_the_app_services_run_gunicorn_on_a_wsgi_entry_point(name):
    invocation = exec_start(SYSTEMD_DIR / f"{name}.service")
    assert invocation.program == VENV_BIN + "gunicorn"
    config = invocation.arguments[invocation.arguments.index("-c") + 1]
    assert (REPOSITORY / config.removeprefix(SOURCE + "/")).is_file()
    module, _, attribute = invocation.arguments[-1].partition(":")
    assert module == "reporting_portal.wsgi"
    assert attribute == name.removeprefix("reporting-portal-") + "_app"
    assert attribute in wsgi._SURFACES


def test_each_timer_starts_its_service_and_each_job_has_a_timer():
    timers = {path.stem for path in SYSTEMD_DIR.glob("*.timer")}
    assert timers == set(TIMERS)
    for name, arguments in TIMERS.items():
        assert (SYSTEMD_DIR / f"{name}.service").is_file()
        assert exec_start(SYSTEMD_DIR / f"{name}.service").arguments[:len(arguments)] \
            == arguments
        timer = unit_file(SYSTEMD_DIR / f"{name}.timer")
        assert timer["Timer"]["Persistent"] == "true"
        assert timer["Install"]["WantedBy"] == "timers.target"
    assert unit_file(SYSTEMD_DIR / "reporting-portal-send-notices.timer")["Timer"][
        "OnCalendar"] == "*:0/5"


@pytest.mark.parametrize("service", sorted(SYSTEMD_DIR.glob("*.service")),
                         ids=lambda path: path.stem)
def test_every_service_runs_hardened_as_the_service_user(service):
    settings = unit_file(service)["Service"]
    assert settings["User"] == "reporting-portal"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "PrivateTmp": "yes", "ProtectHome": "yes", "UMask": "0077",
                       "CapabilityBoundingSet": "", "ReadWritePaths": "/var/lib/reporting-portal",
                       "SystemCallFilter": "@system-service"}.items():
        assert settings.get(key) == value, f"{service.name}: {key}"


def test_systemd_analyze_verify_accepts_the_units(system_tool, tmp_path):
    analyze = system_tool("systemd-analyze", ci_installs=False)
    # This checkout stands in for /opt/reporting-portal: verify checks that each
    # ExecStart program exists and is executable.
    for unit in UNITS:
        text = unit.read_text().replace(VENV_BIN, f"{Path(sys.executable).parent}/")
        (tmp_path / unit.name).write_text(text.replace(SOURCE, str(REPOSITORY)))
    checked = subprocess.run([analyze, "verify", "--man=no",
                              *(str(tmp_path / unit.name) for unit in UNITS)],
                             capture_output=True, text=True, timeout=120, check=False)
    complaints = [line for line in (checked.stdout + checked.stderr).splitlines()
                  if "reporting-portal" in line]
    assert checked.returncode == 0, checked.stderr
    assert complaints == []
