"""Throughput and memory of ``python -m crypto`` against the ``age`` CLI.

    .venv/bin/python bench/crypto_throughput.py [--size 1G] [--repeat 3] [--tmpdir /dev/shm]

Encrypts and decrypts the same pseudo-random file (default 1 GiB, written to a
temporary folder that is deleted afterwards) with both tools, each as its own child
process, and prints MiB/s, the speed ratio ours/age and each child's peak RSS (from
``wait4``'s rusage). The ``age`` CLI is the baseline, measured in the same run.
Targets for the project: ratio >= 1.5 on wall time in each direction (the goal is 2),
peak RSS < 64 MiB. The load average is printed before and after: on a busy host the
wall figures, and above all our threads, lose to the other processes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
TARGET_RATIO = 1.5
GOAL_RATIO = 2.0
TARGET_RSS_MIB = 64
UNITS = {"K": 1024, "M": MIB, "G": 1024 * MIB}


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int


def parse_size(text: str) -> int:
    unit = text[-1:].upper()
    if unit in UNITS:
        return int(float(text[:-1]) * UNITS[unit])
    return int(text)


def run_measured(command: list[str]) -> Measurement:
    """Run one child and return its wall time and its own peak RSS."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {stderr.strip()}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(elapsed, cpu, usage.ru_maxrss)  # ru_maxrss is in KiB on Linux


def write_input(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(MIB)
    with path.open("wb") as out:
        written = 0
        while written < size:
            # Vary each block cheaply so the file is not one repeated MiB.
            piece = hashlib.sha256(written.to_bytes(8, "big")).digest() + block[32:]
            piece = piece[: size - written]
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def best(measurements: list[Measurement]) -> Measurement:
    return Measurement(
        min(m.seconds for m in measurements),
        min(m.cpu_seconds for m in measurements),
        max(m.peak_rss_kib for m in measurements),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=UNITS["G"], help="e.g. 1G, 256M")
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool; best time kept")
    parser.add_argument(
        "--tmpdir",
        help="folder for the temporary files (about 3x --size); a RAM-backed one such as"
        " /dev/shm keeps the disk from dominating the figures",
    )
    arguments = parser.parse_args()
    age_cli = shutil.which("age")
    if age_cli is None or shutil.which("age-keygen") is None:
        sys.exit("the age CLI is needed for the comparison (apt install age)")
    ours = [sys.executable, "-m", "crypto"]
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="crypto-bench-", dir=arguments.tmpdir) as folder:
        work = Path(folder)
        key = work / "key.txt"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        recipient = subprocess.run(
            ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
        ).stdout.strip()
        plain = work / "plain"
        expected = write_input(plain, arguments.size)
        encrypted, decrypted = work / "file.age", work / "file.out"

        runs: dict[tuple[str, str], list[Measurement]] = {}
        # Tools alternate within each round so both see the same page-cache state.
        for _ in range(arguments.repeat):
            for name, tool in (("age", [age_cli]), ("ours", ours)):
                # Every run writes a new file, encryption as decryption: were the other
                # tool's output still there, age would truncate it in place and reuse
                # its freshly freed pages, while ours (which replaces the file only once
                # complete) would pay for freeing it and write into pages the VM's free
                # page reporting has handed back to the host, a fault each (README).
                encrypted.unlink(missing_ok=True)
                runs.setdefault((name, "encrypt"), []).append(
                    run_measured([*tool, "-r", recipient, "-o", str(encrypted), str(plain)])
                )
                runs.setdefault((name, "decrypt"), []).append(
                    run_measured(
                        [*tool, "-d", "-i", str(key), "-o", str(decrypted), str(encrypted)]
                    )
                )
                if file_digest(decrypted) != expected:
                    sys.exit(f"{name}: decrypted output differs from the input")
                decrypted.unlink()
        results = {key_: best(measurements) for key_, measurements in runs.items()}

    load_after = os.getloadavg()
    size_mib = arguments.size / MIB
    print(f"size: {size_mib:.0f} MiB; best of {arguments.repeat} runs per tool; baseline {age_cli}")
    print(
        f"load average before {' '.join(f'{load:.2f}' for load in load_before)},"
        f" after {' '.join(f'{load:.2f}' for load in load_after)} ({os.cpu_count()} cores)"
    )
    print("wall = elapsed time; cpu = the child's user + system time (steadier on a busy host)")
    header = ["", "age MiB/s", "ours MiB/s", "ours/age", "age RSS", "ours RSS"]
    print(f"{header[0]:14}" + "".join(f"{column:>12}" for column in header[1:]))
    for operation in ("encrypt", "decrypt"):
        theirs, mine = results["age", operation], results["ours", operation]
        for clock in ("wall", "cpu"):
            their_time = theirs.seconds if clock == "wall" else theirs.cpu_seconds
            my_time = mine.seconds if clock == "wall" else mine.cpu_seconds
            print(
                f"{operation + ' ' + clock:14}{size_mib / their_time:12.0f}"
                f"{size_mib / my_time:12.0f}{their_time / my_time:12.2f}"
                f"{theirs.peak_rss_kib / 1024:10.1f}Mi{mine.peak_rss_kib / 1024:10.1f}Mi"
            )
    print_verdict(results)


def print_verdict(results: dict[tuple[str, str], Measurement]) -> None:
    """One line per direction: the wall-time ratio against the target and the goal."""
    for operation in ("encrypt", "decrypt"):
        theirs, mine = results["age", operation], results["ours", operation]
        ratio = theirs.seconds / mine.seconds
        rss_mib = mine.peak_rss_kib / 1024
        met = ratio >= TARGET_RATIO and rss_mib < TARGET_RSS_MIB
        print(
            f"{operation}: ours/age {ratio:.2f} (target >= {TARGET_RATIO}, goal {GOAL_RATIO}),"
            f" peak RSS {rss_mib:.1f} MiB (target < {TARGET_RSS_MIB}):"
            f" {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
