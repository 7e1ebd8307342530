"""Settings: typed, layered, and loud about bad values."""

import pytest

from config.settings import SettingsError, load_settings


def test_defaults_give_the_embedded_set_up():
    settings = load_settings(environ={})
    assert settings.environment == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/reporting-portal.db")
    assert settings.blob_dir == settings.instance_dir / "blobs"
    assert settings.password_hash_memory_kib >= 19456


def test_environment_overrides_and_database_url(tmp_path):
    settings = load_settings(environ={
        "REPORTING_PORTAL_STAFF_IDLE_MINUTES": "20",
        "DATABASE_URL": "postgresql://db.example/portal",
        "REPORTING_PORTAL_BLOB_DIR": str(tmp_path),
    })
    assert settings.staff_idle_minutes == 20
    assert settings.database_url == "postgresql+psycopg://db.example/portal"
    assert settings.blob_dir == tmp_path


def test_settings_file_is_layered_between_default_and_environment(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('organisation_name = "Office"\nstaff_idle_minutes = 10\n')
    settings = load_settings(environ={
        "REPORTING_PORTAL_CONFIG": str(path), "REPORTING_PORTAL_STAFF_IDLE_MINUTES": "5"})
    assert settings.organisation_name == "Office"
    assert settings.staff_idle_minutes == 5


@pytest.mark.parametrize(("environ", "named"), [
    ({"REPORTING_PORTAL_STAFF_IDLE_MINUTES": "soon"}, "staff_idle_minutes"),
    ({"REPORTING_PORTAL_STAFF_IDLE_MINUTES": "0"}, "staff_idle_minutes"),
    ({"REPORTING_PORTAL_ENVIRONMENT": "staging"}, "environment"),
    ({"REPORTING_PORTAL_LOG_LEVEL": "chatty"}, "log_level"),
    ({"REPORTING_PORTAL_MAIL_LANGUAGE": "de"}, "mail_language"),
    ({"REPORTING_PORTAL_STAFF_TIME_ZONE": "Mars/Olympus_Mons"}, "staff_time_zone"),
    ({"REPORTING_PORTAL_PASSWORD_MIN_LENGTH": "6"}, "password_min_length"),
    ({"REPORTING_PORTAL_PASSWORD_HASH_MEMORY_KIB": "1024"}, "password_hash_memory_kib"),
    ({"REPORTING_PORTAL_CONFIG": "/nonexistent/x.toml"}, "REPORTING_PORTAL_CONFIG"),
])
def test_bad_values_stop_with_one_line_naming_the_setting(environ, named):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_staff_time_zone_is_utc_unless_set():
    assert load_settings(environ={}).staff_time_zone == "UTC"
    chosen = load_settings(environ={"REPORTING_PORTAL_STAFF_TIME_ZONE": "Europe/Paris"})
    assert chosen.staff_time_zone == "Europe/Paris"


def test_unknown_key_in_a_file_is_refused(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('secret_kee = "typo"\n')
    with pytest.raises(SettingsError, match="secret_kee"):
        load_settings(environ={"REPORTING_PORTAL_CONFIG": str(path)})


@pytest.mark.parametrize("secret", ["", "CHANGE-ME", "short-but-not-default"])
def test_production_refuses_default_or_weak_secret(secret):
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings(environ={"REPORTING_PORTAL_ENVIRONMENT": "production",
                               "REPORTING_PORTAL_SECRET_KEY": secret})


def test_production_accepts_a_real_secret():
    settings = load_settings(environ={"REPORTING_PORTAL_ENVIRONMENT": "production",
                                      "REPORTING_PORTAL_SECRET_KEY": "k" * 48})
    assert settings.is_production


def test_settings_are_frozen():
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.secret_key = "x"


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("TRUE", True), ("Yes", True), ("1", True),
    ("false", False), ("False", False), ("NO", False), ("0", False),
])
def test_boolean_settings_accept_the_usual_words_from_the_environment(raw, expected):
    settings = load_settings(environ={"REPORTING_PORTAL_SMTP_STARTTLS": raw})
    assert settings.smtp_starttls is expected


def test_boolean_settings_take_toml_booleans_and_refuse_other_values(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text("smtp_starttls = false\n")
    assert load_settings(environ={"REPORTING_PORTAL_CONFIG": str(path)}).smtp_starttls is False
    assert load_settings(environ={}).smtp_starttls is True  # the default
    for bad in ("maybe", "2", ""):
        with pytest.raises(SettingsError) as caught:
            load_settings(environ={"REPORTING_PORTAL_SMTP_STARTTLS": bad})
        assert "smtp_starttls" in str(caught.value)
        assert "\n" not in str(caught.value)
    path.write_text('smtp_starttls = "sometimes"\n')
    with pytest.raises(SettingsError, match="smtp_starttls"):
        load_settings(environ={"REPORTING_PORTAL_CONFIG": str(path)})


def test_smtp_password_stays_out_of_the_settings_repr():
    settings = load_settings(environ={"REPORTING_PORTAL_SMTP_PASSWORD": "hunter2-mail"})
    assert settings.smtp_password == "hunter2-mail"
    assert "hunter2-mail" not in repr(settings)


# What a setting's name says about it: these words mean it holds or may carry a secret.
SECRET_WORDS = ("secret", "password", "token", "_url")


def test_every_secret_setting_stays_out_of_the_repr():
    import dataclasses

    from config.settings import Settings

    secret_fields = [f for f in dataclasses.fields(Settings)
                     if any(word in f.name for word in SECRET_WORDS)
                     and not f.name.startswith("password_")]  # password_min_length etc.
    assert {f.name for f in secret_fields} >= {"secret_key", "smtp_password", "database_url"}
    assert [f.name for f in secret_fields if f.repr] == []
    settings = load_settings(
        environ={"DATABASE_URL": "postgresql://portal:db-pass-0c1f@db.example/portal"},
        secret_key="key-marker-" + "x" * 40, smtp_password="mail-marker-77",
    )
    shown = repr(settings)
    for marker in ("key-marker-", "mail-marker-77", "db-pass-0c1f"):
        assert marker not in shown
    assert "staff_idle_minutes=30" in shown  # the rest is still there to read


def test_the_development_secret_key_is_made_once_owner_only(tmp_path):
    from reporting_portal.web.bootstrap import development_secret_key

    first = development_secret_key(tmp_path / "instance")
    assert len(first) >= 48
    assert (tmp_path / "instance" / "secret-key").stat().st_mode & 0o077 == 0
    assert development_secret_key(tmp_path / "instance") == first


@pytest.mark.parametrize(("environ", "named"), [
    ({"REPORTING_PORTAL_WEBAUTHN_RP_ID": "https://example.org"}, "webauthn_rp_id"),
    ({"REPORTING_PORTAL_WEBAUTHN_RP_ID": ""}, "webauthn_rp_id"),
    ({"REPORTING_PORTAL_WEBAUTHN_RP_ID": "example.org",
      "REPORTING_PORTAL_WEBAUTHN_ORIGIN": "https://example.org.evil.test"}, "webauthn_origin"),
    ({"REPORTING_PORTAL_WEBAUTHN_ORIGIN": "localhost:5000"}, "webauthn_origin"),
])
def test_passkey_settings_refuse_an_origin_off_the_relying_party(
        environ, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(environ=environ)


def test_passkey_settings_take_a_subdomain_origin():
    settings = load_settings(environ={
        "REPORTING_PORTAL_WEBAUTHN_RP_ID": "example.org",
        "REPORTING_PORTAL_WEBAUTHN_ORIGIN": "https://staff.example.org"})
    assert settings.webauthn_origin == "https://staff.example.org"
