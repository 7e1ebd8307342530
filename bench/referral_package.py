"""A referral package's cost against plain age encryption of the same bytes.

    .venv/bin/python bench/referral_package.py [--megabytes 64] [--rounds 3]

Builds a package holding one file of ``--megabytes`` (random bytes, in 64 KiB chunks as
the blob store yields them) with crypto/referral.py, and, as the baseline in the same run,
age-encrypts the same bytes with ``crypto.age.encrypt``; then verifies the package as the
receiver does. Prints the median time of each, the ratios to the baseline, and the peak
memory the streaming build allocates (tracemalloc), which must stay near a few chunks
whatever the size: the package is streamed, never held whole. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
import tracemalloc
from datetime import date

from crypto import age
from crypto.checkpoint import generate_signer_key, verifier_key_for
from crypto.keys import X25519Identity
from crypto.referral import PackageEntry, stream_package, verify_package

CHUNK = 64 * 1024


def _median_seconds(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    data = os.urandom(arguments.megabytes * 1024 * 1024)
    receiver = X25519Identity.generate()
    signer = generate_signer_key("bench/audit")

    def chunks():
        return (data[i:i + CHUNK] for i in range(0, len(data), CHUNK))

    def build(sink) -> None:
        for piece in stream_package(
                receiver.recipient, signer, reference="bench", referred_on=date.today(),
                receiver="Bench", verifier_key=verifier_key_for(signer),
                entries=[PackageEntry("objects/file-1.bin", "file", chunks)]):
            sink(piece)

    def baseline() -> None:
        age.encrypt(io.BytesIO(data), io.BytesIO(), [receiver.recipient])

    sealed = io.BytesIO()
    build(sealed.write)
    baseline_s = _median_seconds(baseline, arguments.rounds)
    package_s = _median_seconds(lambda: build(lambda piece: None), arguments.rounds)
    verify_s = _median_seconds(
        lambda: verify_package(io.BytesIO(sealed.getvalue()), [receiver]), arguments.rounds)
    tracemalloc.start()
    build(lambda piece: None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = arguments.megabytes
    print(f"payload {size} MiB, {arguments.rounds} rounds (medians)")
    print(f"age.encrypt baseline   {baseline_s:7.3f} s  {size / baseline_s:7.1f} MiB/s")
    print(f"referral package build {package_s:7.3f} s  {size / package_s:7.1f} MiB/s"
          f"  ratio {package_s / baseline_s:.2f}")
    print(f"receiver's verify      {verify_s:7.3f} s  {size / verify_s:7.1f} MiB/s"
          f"  ratio {verify_s / baseline_s:.2f}")
    print(f"peak memory of the streamed build: {peak / 1024:.0f} KiB "
          f"({peak / len(data) * 100:.2f} % of the payload)")


if __name__ == "__main__":
    main()
