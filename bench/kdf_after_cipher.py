"""Argon2id's CPU after ChaCha20 ran on the same thread, with and without the workers' mask.

    .venv/bin/python bench/kdf_after_cipher.py

On the reference machine (AMD EPYC, OpenSSL 3 in pyca/cryptography) a thread that has run
OpenSSL's AVX512VL ChaCha20 then takes about twice the CPU for each libargon2 derivation.
``config/gunicorn.conf.py`` masks that one feature (``OPENSSL_ia32cap=:~0x80000000``) for the
workers. This prints, for each setting, the CPU of five derivations after encrypting 1 MiB
divided by the CPU of five before, in the same process: a ratio, so the machine's other
load moves both sides alike. Nothing is asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# One process: the CPU one derivation takes, then again after ChaCha20 has encrypted a
# payload on the same thread, as a report's POST does. Printed as a ratio: the machine's
# other load moves both alike.
PROBE = """
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


def ratio(environment: dict[str, str]) -> float:
    completed = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=environment,
                               capture_output=True, text=True, check=True, timeout=300)
    return float(completed.stdout)


def main() -> None:
    plain = {key: value for key, value in os.environ.items() if key != "OPENSSL_ia32cap"}
    print(f"without the mask: derivation CPU after / before ChaCha20 {ratio(plain):.2f}")
    masked = {**plain, "OPENSSL_ia32cap": ":~0x80000000"}
    print(f"with the workers' mask: {ratio(masked):.2f}")


if __name__ == "__main__":
    main()
