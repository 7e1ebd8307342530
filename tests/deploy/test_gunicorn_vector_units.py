"""The gunicorn workers' OpenSSL setting (why: bench/kdf_after_cipher.py measures it)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_config_masks_avx512vl_unless_the_operator_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENSSL_ia32cap", raising=False)
    runpy.run_path(str(REPOSITORY / "config" / "gunicorn.conf.py"))
    assert os.environ["OPENSSL_ia32cap"] == ":~0x80000000"  # noqa: SIM112 -- OpenSSL's own name
    monkeypatch.setenv("OPENSSL_ia32cap", ":~0x0")
    runpy.run_path(str(REPOSITORY / "config" / "gunicorn.conf.py"))
    assert os.environ["OPENSSL_ia32cap"] == ":~0x0"  # noqa: SIM112 -- OpenSSL's own name
