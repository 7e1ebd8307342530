"""PostgreSQL's connection pool takes its size and timeouts from the settings."""

import pytest
from sqlalchemy import event

from config.settings import SettingsError, load_settings
from reporting_portal.storage.db import PoolSettings, make_engine

URL = "postgresql+psycopg://portal@db.invalid/portal"  # never connected to here


def test_the_engine_uses_the_pool_settings():
    engine = make_engine(URL, PoolSettings(size=3, max_overflow=1, timeout_seconds=7,
                                           recycle_seconds=99, connect_timeout_seconds=2))
    assert (engine.pool.size(), engine.pool.timeout(), engine.pool.overflow()) == (3, 7, -3)
    assert engine.pool._recycle == 99  # no public accessor
    assert engine.pool._pre_ping  # dead connections replaced after a restart
    sent: dict = {}

    @event.listens_for(engine, "do_connect")
    def capture(_dialect, _record, _arguments, parameters):
        sent.update(parameters)
        raise ConnectionRefusedError  # stop before any network

    with pytest.raises(ConnectionRefusedError):
        engine.connect()
    assert sent["connect_timeout"] == 2  # a request waits at most this while the db is down
    engine.dispose()


def test_pool_settings_come_from_the_environment():
    settings = load_settings(environ={"REPORTING_PORTAL_DATABASE_POOL_SIZE": "9",
                                      "REPORTING_PORTAL_DATABASE_MAX_OVERFLOW": "0"})
    pool = PoolSettings.from_settings(settings)
    assert (pool.size, pool.max_overflow, pool.connect_timeout_seconds) == (9, 0, 5)


@pytest.mark.parametrize("name", ["DATABASE_POOL_SIZE", "DATABASE_CONNECT_TIMEOUT_SECONDS"])
def test_a_pool_of_nothing_is_refused_with_its_name(name):
    with pytest.raises(SettingsError, match=name.lower()):
        load_settings(environ={f"REPORTING_PORTAL_{name}": "0"})


def test_sqlite_keeps_its_own_settings(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}", PoolSettings(size=50))
    assert engine.pool.size() != 50
    engine.dispose()
