"""What the rate limits leave an attacker, and what a flood costs a real reporter.

    .venv/bin/python bench/rate_limits.py [--seconds 3] [--cores 1,2,4,8,16,64] [--json]

Measures, on this machine, in one run:

1. The browser's SHA-256 rate with the real receipt-pow.bundle.js in Debian's chromium
   (driven by Playwright, headless), as hashes per second over random challenges, and from
   it the expected time to solve each difficulty level of the default settings. A few
   real solves of the lower levels are timed as a check.
2. An attacker's native rate: Python ``hashlib`` in a loop over the same 24-byte messages,
   on one core and on every core at once; and OpenSSL's ``speed`` figure for 24-byte
   inputs (C, one core), the better estimate of what a native attacker reaches.
3. One receipt Argon2id derivation at the default parameters: the server's cost of each
   attempt a budget admits.

From those and the budgets in config/default.toml it derives (ratios, not timings):
guesses per minute against one staff account and against receipt codes, the server CPU
a full flood costs, and how long a reporter with JavaScript waits while an attacker with
k cores keeps the cheapest levels full. Nothing is asserted; pytest never runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.settings import Settings, load_settings  # noqa: E402
from crypto.kdf import Argon2Params  # noqa: E402
from crypto.receipt import derive_receipt_secrets, generate_receipt_code  # noqa: E402
from reporting_portal.app import create_app  # noqa: E402, F401 -- imports the app in its order
from reporting_portal.reporter.followup.services import level_budget, pow_bits  # noqa: E402

STATIC_JS = ROOT / "reporting_portal" / "static" / "js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MESSAGE_BYTES = 24  # 16-byte challenge and 8-byte nonce
RECEIPT_CODE_BITS = 27 * math.log2(10)  # crypto/receipt.py: 27 random digits
INDEX = b"""<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="module">
import { solve } from "/receipt-pow.bundle.js";
window.benchSolve = solve;
window.benchReady = true;
</script>"""


class Handler(SimpleHTTPRequestHandler):
    """Serves the committed bundles and a blank page that imports the solver."""

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(INDEX)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        return None


@dataclass
class BrowserFigures:
    hashes_per_second: float
    timed_solves: dict[int, float]  # bits -> mean seconds of a few real solves


def measure_browser(seconds: float) -> BrowserFigures:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 -- only this step needs it

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(STATIC_JS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("window.benchReady === true")
            rate = page.evaluate(
                """async (seconds) => {
                    let hashes = 0, spent = 0;
                    while (spent < seconds * 1000) {
                        const challenge = crypto.getRandomValues(new Uint8Array(16));
                        const start = performance.now();
                        const nonce = await window.benchSolve(challenge, 18);
                        spent += performance.now() - start;
                        hashes += nonce + 1;
                    }
                    return hashes / (spent / 1000);
                }""",
                seconds,
            )
            timed = page.evaluate(
                """async (levels) => {
                    const out = {};
                    for (const bits of levels) {
                        let total = 0;
                        const rounds = 4;
                        for (let i = 0; i < rounds; i++) {
                            const challenge = crypto.getRandomValues(new Uint8Array(16));
                            const start = performance.now();
                            await window.benchSolve(challenge, bits);
                            total += performance.now() - start;
                        }
                        out[bits] = total / rounds / 1000;
                    }
                    return out;
                }""",
                [12, 14, 16],
            )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return BrowserFigures(float(rate), {int(bits): float(t) for bits, t in timed.items()})


def python_hash_rate(seconds: float) -> float:
    """Hashes per second of a plain hashlib loop over challenge || nonce, one core."""
    challenge = secrets.token_bytes(16)
    sha256 = hashlib.sha256
    count = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for nonce in range(count, count + 20000):
            sha256(challenge + nonce.to_bytes(8, "big")).digest()
        count += 20000
    return count / (time.perf_counter() - start)


def openssl_hash_rate(seconds: int) -> float | None:
    """OpenSSL's SHA-256 rate on 24-byte inputs, one core (C, with SHA extensions if any)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    result = subprocess.run(
        [openssl, "speed", "-seconds", str(seconds), "-bytes", str(MESSAGE_BYTES), "sha256"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    found = re.search(r"Doing sha256 .*?: (\d+) sha256's in ([\d.]+)s",
                      result.stderr + result.stdout)
    if found is None:
        return None
    return int(found.group(1)) / float(found.group(2))


def argon2_seconds(settings: Settings) -> float:
    params = Argon2Params(time_cost=settings.receipt_kdf_time_cost,
                          memory_cost_kib=settings.receipt_kdf_memory_kib, parallelism=1)
    code = generate_receipt_code()
    start = time.perf_counter()
    derive_receipt_secrets(code, secrets.token_bytes(32), params)
    return time.perf_counter() - start


@dataclass
class FloodRow:
    attacker: str
    cores: int
    levels_filled: int
    reporter_level: int | None
    reporter_wait_seconds: float | None  # None: every level is full while the flood runs


def flood_row(settings: Settings, attacker: str, cores: int, rate_per_core: float,
              browser_rate: float) -> FloodRow:
    """The attacker fills the cheapest levels first, every minute; the reporter solves the
    first level left open (the page starts there). A solve's length is exponentially
    distributed around its mean: 9 in 10 end within ln(10) = 2.3 times it."""
    per_minute = cores * rate_per_core * 60
    filled = 0
    for level in range(settings.receipt_pow_levels):
        cost = level_budget(settings, level).limit * 2 ** pow_bits(settings, level)
        if cost > per_minute:
            break
        per_minute -= cost
        filled += 1
    if filled == settings.receipt_pow_levels:
        return FloodRow(attacker, cores, filled, None, None)
    return FloodRow(attacker, cores, filled, filled,
                    2 ** pow_bits(settings, filled) / browser_rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--cores", default="1,2,4,8,16,64")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings(environ={}, environment="test", secret_key="bench " * 8)
    core_counts = [int(c) for c in args.cores.split(",")]

    browser = measure_browser(args.seconds)
    python_one = python_hash_rate(args.seconds)
    cpus = os.cpu_count() or 1
    with multiprocessing.Pool(cpus) as pool:
        python_all = sum(pool.map(python_hash_rate, [args.seconds] * cpus))
    openssl_one = openssl_hash_rate(max(1, int(args.seconds)))
    derivation = argon2_seconds(settings)

    window = settings.sign_in_window_minutes
    levels = {level: pow_bits(settings, level) for level in range(settings.receipt_pow_levels)}
    receipt_per_minute = settings.receipt_plain_attempts_per_minute + sum(
        level_budget(settings, level).limit for level in levels)
    attackers = {"python-hashlib": python_one}
    if openssl_one is not None:
        attackers["openssl-c"] = openssl_one
    flood = [asdict(flood_row(settings, name, cores, rate, browser.hashes_per_second))
             for name, rate in attackers.items() for cores in core_counts]
    fill_all = sum(level_budget(settings, level).limit * 2 ** bits
                   for level, bits in levels.items()) / 60
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()}, {cpus} cores, {platform.python_version()}",
        "browser_hashes_per_second": browser.hashes_per_second,
        "browser_timed_solves_seconds": browser.timed_solves,
        "browser_expected_solve_seconds": {
            f"level {level} ({bits} bits)": 2 ** bits / browser.hashes_per_second
            for level, bits in levels.items()},
        "python_hashes_per_second_one_core": python_one,
        "python_hashes_per_second_all_cores": python_all,
        "openssl_hashes_per_second_one_core": openssl_one,
        "receipt_argon2id_seconds": derivation,
        "staff_guesses_per_minute_untrusted_devices": settings.sign_in_max_failures / window,
        "staff_guesses_per_minute_per_stolen_device_cookie":
            settings.sign_in_device_max_failures / window,
        "staff_password_rechecks_per_minute": settings.password_check_max_failures / window,
        "receipt_guesses_per_minute_all_lanes": receipt_per_minute,
        "receipt_years_to_one_in_a_million_chance_per_report":
            1e-6 * 2 ** RECEIPT_CODE_BITS / receipt_per_minute / (60 * 24 * 365),
        "server_cpu_seconds_per_minute_at_full_budgets": receipt_per_minute * derivation,
        "hashes_per_second_to_fill_every_level": fill_all,
        "flood": flood,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"machine: {figures['machine']}")
    print(f"browser (chromium, receipt-pow.bundle.js): {browser.hashes_per_second:,.0f} hashes/s")
    for bits, seconds in browser.timed_solves.items():
        print(f"  timed solves at {bits} bits: {seconds * 1000:.0f} ms on average")
    for name, seconds in figures["browser_expected_solve_seconds"].items():
        print(f"  {name}: {seconds:.2f} s expected")
    print(f"attacker, python hashlib: {python_one:,.0f} hashes/s on one core, "
          f"{python_all:,.0f} on all {cpus}")
    if openssl_one is not None:
        print(f"attacker, openssl speed (24-byte inputs): {openssl_one:,.0f} hashes/s, one core")
    print(f"receipt Argon2id: {derivation:.2f} s per attempt admitted")
    untrusted = figures["staff_guesses_per_minute_untrusted_devices"]
    per_device = figures["staff_guesses_per_minute_per_stolen_device_cookie"]
    rechecks = figures["staff_password_rechecks_per_minute"]
    print(f"staff: {untrusted:.2f} guesses/min per account from untrusted devices, "
          f"+{per_device:.2f} per stolen device cookie; password re-checks {rechecks:.2f}/min")
    print(f"receipt codes: {receipt_per_minute} guesses/min over every lane; "
          f"{figures['receipt_years_to_one_in_a_million_chance_per_report']:.2e} years to a "
          "one-in-a-million chance of hitting one given report")
    cpu = figures["server_cpu_seconds_per_minute_at_full_budgets"]
    print(f"server CPU at full budgets: {cpu:.0f} s of Argon2id per minute")
    print(f"to fill every level: {fill_all:,.0f} hashes/s")
    print("flood (attacker keeps the cheapest levels full; reporter solves the first open one):")
    for row in flood:
        wait = ("every level full: JS lane closed while it lasts"
                if row["reporter_wait_seconds"] is None
                else f"level {row['reporter_level']}, {row['reporter_wait_seconds']:.1f} s "
                     f"expected, {row['reporter_wait_seconds'] * math.log(10):.1f} s or less "
                     "for 9 in 10")
        print(f"  {row['attacker']:>15} x {row['cores']:>3} cores: {row['levels_filled']} levels "
              f"filled; reporter: {wait}")


if __name__ == "__main__":
    main()
