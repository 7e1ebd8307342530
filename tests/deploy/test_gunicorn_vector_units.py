"""The gunicorn workers' OpenSSL setting keeps Argon2id at full speed after encrypting."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]

# One process: the CPU one derivation takes, then again after ChaCha20 has encrypted a
# payload on the same thread, as a report's POST does. Printed as a ratio: the machine's
# other load moves both alike.
_PROBE = """
import os, time
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from crypto.kdf import Argon2Params, derive

params = Argon2Params.insecure_for_tests(time_cost=3, memory_cost_kib=16 * 1024)
def cpu_of_derivations():
    derive(b"warm", b"s" * 16, params)
    started = time.thread_time()
    for number in range(5):
        derive(b"code %d" % number, b"s" * 16, params)
    return time.thread_time() - started

before = cpu_of_derivations()
cipher, data = ChaCha20Poly1305(os.urandom(32)), os.urandom(1 << 20)
for start in range(0, len(data), 65536):
    cipher.encrypt(b"\\0" * 12, data[start:start + 65536], None)
print(cpu_of_derivations() / before)
"""


def test_the_config_masks_avx512vl_unless_the_operator_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENSSL_ia32cap", raising=False)
    runpy.run_path(str(REPOSITORY / "config" / "gunicorn.conf.py"))
    assert os.environ["OPENSSL_ia32cap"] == ":~0x80000000"  # noqa: SIM112 -- OpenSSL's own name
    monkeypatch.setenv("OPENSSL_ia32cap", ":~0x0")
    runpy.run_path(str(REPOSITORY / "config" / "gunicorn.conf.py"))
    assert os.environ["OPENSSL_ia32cap"] == ":~0x0"  # noqa: SIM112 -- OpenSSL's own name


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="an x86 vector-register effect")
def test_a_derivation_after_encrypting_costs_what_it_did_before() -> None:
    environment = {**os.environ, "OPENSSL_ia32cap": ":~0x80000000"}
    ratio = float(
        subprocess.run(
            [sys.executable, "-c", _PROBE], cwd=REPOSITORY, env=environment,
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout
    )
    # Without the mask this is about 2 on the reference machine (AMD EPYC).
    assert ratio < 1.4
