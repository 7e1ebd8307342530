"""deploy/container/: what can be checked without a container engine.

The images run as a non-root user and hold no secret; the compose file parses, runs
every service the guide names, takes its secrets from git-ignored files, and every
``reporting-portal`` command it runs exists; the settings example loads once its
secret is filled in.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from config.settings import SettingsError, load_settings
from reporting_portal.cli import main
from tests.helpers.deploy import DEPLOY, REPOSITORY

CONTAINER = DEPLOY / "container"
yaml = pytest.importorskip("yaml")  # PyYAML comes with bandit, a dev dependency


def instructions(path) -> list[tuple[str, str]]:
    """A Containerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage(path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


@pytest.mark.parametrize("name", ["Containerfile", "tor.Containerfile"])
def test_images_run_as_a_non_root_user(name):
    users = [rest for keyword, rest in final_stage(CONTAINER / name) if keyword == "USER"]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_app_image_is_multi_stage_with_no_secret_and_a_health_check():
    steps = instructions(CONTAINER / "Containerfile")
    assert [keyword for keyword, _ in steps].count("FROM") == 2
    stage = final_stage(CONTAINER / "Containerfile")
    settings = " ".join(rest for keyword, rest in stage if keyword in {"ENV", "ARG"})
    assert not re.search(r"(SECRET|PASSWORD|ACCESS_KEY)\w*=", settings, re.I)
    assert not any(keyword == "COPY" and "secrets" in rest for keyword, rest in steps)
    [healthcheck] = [rest for keyword, rest in stage if keyword == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    # What the image copies exists, and its entry point is the shipped gunicorn config.
    for keyword, rest in steps:
        if keyword == "COPY" and "--from" not in rest:
            for source in rest.split()[:-1]:
                assert (REPOSITORY / source).exists(), source
    [command] = [rest for keyword, rest in stage if keyword == "CMD"]
    assert "gunicorn -c /app/config/gunicorn.conf.py" in command
    assert (REPOSITORY / "config" / "gunicorn.conf.py").is_file()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((CONTAINER / "compose.yaml").read_text())


def test_compose_runs_the_apps_their_stores_tor_and_the_notice_sender(compose):
    services = compose["services"]
    assert {"app-reporter", "app-staff", "postgres", "minio", "tor",
            "send-notices"} <= set(services)
    assert services["app-reporter"]["environment"]["SURFACE"] == "reporter_app"
    assert services["app-staff"]["environment"]["SURFACE"] == "staff_app"
    for name in ("app-reporter", "app-staff", "send-notices"):
        service = services[name]
        assert service["user"] == "10001:10001"
        assert service["environment"]["REPORTING_PORTAL_BLOB_STORE"] == "s3"
        # Published on the host's loopback only, for the host's nginx.
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")
    assert services["tor"]["volumes"][0].startswith("../tor/torrc.example:")


def test_compose_secrets_are_git_ignored_files_and_no_value_is_a_secret(compose):
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(CONTAINER / "secrets" / "settings.toml")],
        cwd=REPOSITORY, check=False)
    assert ignored.returncode == 0, "deploy/container/secrets/ must be git-ignored"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|ACCESS_KEY|ROOT_USER", key):
                assert key.endswith("_FILE"), f"{name}: {key}={value!r}"
        assert service.get("user") not in {"root", "0", "0:0"}


def test_every_command_compose_runs_exists(compose):
    ran = []
    for service in compose["services"].values():
        command = service.get("command")
        text = " ".join(command) if isinstance(command, list) else (command or "")
        ran += re.findall(r"reporting-portal ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", text)
    assert ran, "compose runs no reporting-portal command"
    for words in ran:
        group_or_command = main.commands.get(shlex.split(words)[0])
        assert group_or_command is not None, f"reporting-portal has no command {words!r}"


def test_the_settings_example_loads_once_its_secret_is_set(compose):
    environ = {key: str(value) for key, value
               in compose["services"]["app-reporter"]["environment"].items()
               if key.startswith("REPORTING_PORTAL_")}
    environ["REPORTING_PORTAL_CONFIG"] = str(CONTAINER / "settings.example.toml")
    environ["REPORTING_PORTAL_AUDIT_KEY_FILE"] = "/nonexistent/audit-signing.key"
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings(environ)
    settings = load_settings({**environ, "REPORTING_PORTAL_SECRET_KEY": "x" * 48})
    assert settings.is_production
    assert settings.blob_store == "s3"
    assert settings.s3_bucket == "reporting-portal"
    assert settings.database_url.startswith("postgresql+psycopg://")
