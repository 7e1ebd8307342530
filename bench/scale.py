"""Scale-out on PostgreSQL and the S3 store: one gunicorn worker process against two.

    .venv/bin/python bench/scale.py [--submissions 120] [--concurrency 8] [--file-kib 256]
        [--many 1000] [--many-concurrency 20] [--verify-concurrency 4] [--keep]

Starts moto's S3 server (``python -m moto.server``, the S3 implementation the tests use)
on a free loopback port with a fresh bucket, creates a fresh PostgreSQL database
``bench_scale_<random>`` on 127.0.0.1:5432, runs ``reporting-portal init`` with
production settings (``environment = "production"``, a random secret key, the S3 store,
the real Argon2id costs, which are printed), and gives the ``corruption`` channel two case
handlers with post-quantum keys, so every report is sealed for three recipients. Then:

1. The same load, ``--submissions`` reports from ``--concurrency`` reporters without
   JavaScript (GET the form, POST the answers and a ``--file-kib`` file, GET the
   receipt), against gunicorn (config/gunicorn.conf.py, ``reporting_portal.wsgi:reporter_app``)
   with one worker process and then with two (threads per worker: the config's default).
   Prints processes, submissions, seconds, submissions/s, p95 latency and the ratio.
2. ``--many`` reports from ``--many-concurrency`` reporters against the two-worker
   server, then every receipt code is posted to ``/followup`` and must open its mailbox:
   submissions/s, p95, and how many receipts opened in what time.

Receipt sign-ins are rate-limited for the whole installation on purpose (10 a minute
without JavaScript); this benchmark raises that budget through
``REPORTING_PORTAL_RECEIPT_PLAIN_ATTEMPTS_PER_MINUTE`` and says so in its output.

Nothing is asserted. Unless ``--keep``, the database is dropped, moto stopped and the
instance folder removed at the end (also after an error or SIGTERM). With ``--keep`` they
stay, moto keeps running, and the settings that reach the installation are written to
``<instance>/scale.env`` (for timing a backup of it).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The sibling benchmark's reporter browser, load runner and gunicorn helpers.
from submission_load import (
    REPO,
    VENV_BIN,
    BenchError,
    Server,
    cpu_seconds,
    free_port,
    gunicorn,
    percentile,
    receipt_kdf_ceiling,
    run_load,
    set_up_installation,
    stop,
    verify_codes,
)

from config.settings import load_settings

KIB = 1024
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
RAISED_LIMITS = {"REPORTING_PORTAL_RECEIPT_PLAIN_ATTEMPTS_PER_MINUTE": "1000000"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- moto, PostgreSQL, the installation --------------------------------------------


@dataclass
class Moto:
    process: subprocess.Popen[bytes]
    endpoint_url: str
    bucket: str


def start_moto(log_path: Path) -> Moto:
    port = free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **FAKE_AWS}, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=2):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise BenchError("moto's server did not start") from None
            time.sleep(0.2)
    bucket = f"bench-scale-{secrets.token_hex(4)}"
    try:
        client = boto3.session.Session().client("s3", endpoint_url=endpoint_url)
        client.create_bucket(Bucket=bucket)
    except BaseException:
        stop(process)
        raise
    return Moto(process, endpoint_url, bucket)


@contextmanager
def fresh_database(keep: bool) -> Iterator[str]:
    name = f"bench_scale_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                    sql.Identifier(name)))


def environment(instance_dir: Path, database_url: str, moto: Moto) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("REPORTING_PORTAL_", "AWS_"))
           and key not in {"DATABASE_URL", "BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS"}}
    env.update(FAKE_AWS)
    env.update(RAISED_LIMITS)
    env.update({
        "REPORTING_PORTAL_ENVIRONMENT": "production",
        "REPORTING_PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "REPORTING_PORTAL_INSTANCE_DIR": str(instance_dir),
        "REPORTING_PORTAL_BLOB_STORE": "s3",
        "REPORTING_PORTAL_S3_ENDPOINT_URL": moto.endpoint_url,
        "REPORTING_PORTAL_S3_BUCKET": moto.bucket,
        "REPORTING_PORTAL_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
    })
    return env


def initialise(env: dict[str, str], handlers: int) -> None:
    """``reporting-portal init`` as an operator runs it, then case handlers with keys."""
    done = subprocess.run([str(VENV_BIN / "reporting-portal"), "init"], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"reporting-portal init failed:\n{done.stderr[-2000:]}")
    set_up_installation(env, handlers)


def reporter_gunicorn(env: dict[str, str], log_path: Path, workers: int
                      ) -> AbstractContextManager[Server]:
    """The reporter surface alone, as a reporter host of a scaled-out installation runs."""
    return gunicorn(env, log_path, workers=workers, threads=None,
                    app="reporting_portal.wsgi:reporter_app")


# --- The runs ------------------------------------------------------------------------


def timed_load(server: Server, moto: Moto, submissions: int, concurrency: int,
               file_bytes: int) -> dict[str, Any]:
    server_cpu, moto_cpu = server.cpu(), cpu_seconds(moto.process.pid)
    started = time.perf_counter()
    result = run_load(server.port, submissions, concurrency, file_bytes)
    seconds = time.perf_counter() - started
    done = len(result.codes)
    return {
        "submissions": submissions, "succeeded": done, "errors": result.errors[:5],
        "error_count": len(result.errors), "seconds": seconds,
        "per_second": done / seconds if seconds else 0.0,
        "p95_s": percentile(result.latencies, 95),
        "server_cpu_s": server.cpu() - server_cpu,
        "moto_cpu_s": cpu_seconds(moto.process.pid) - moto_cpu,
        "codes": result.codes,
    }


def run(args: argparse.Namespace, workdir: Path, moto: Moto, database_url: str
        ) -> dict[str, Any]:
    instance_dir = workdir / "instance"
    env = environment(instance_dir, database_url, moto)
    log("reporting-portal init (production settings), two case handlers ...")
    initialise(env, handlers=2)
    settings = load_settings(environ=env)
    figures: dict[str, Any] = {"cores": os.cpu_count(), "env": env}
    log("receipt Argon2id, timed in-process ...")
    figures["kdf"] = receipt_kdf_ceiling(settings, runs=5)
    figures["compare"] = []
    for workers in (1, 2):
        with reporter_gunicorn(env, workdir / f"gunicorn-{workers}.log", workers) as server:
            log(f"{workers} worker(s): warming up, then {args.submissions} submissions "
                f"from {args.concurrency} reporters ...")
            run_load(server.port, 2 * workers, 2 * workers, args.file_kib * KIB)
            load = timed_load(server, moto, args.submissions, args.concurrency,
                              args.file_kib * KIB)
            load.pop("codes")
            load["workers"] = workers
            load["log_problems"] = server.log_problems()[:5]
            figures["compare"].append(load)
    if args.many:
        with reporter_gunicorn(env, workdir / "gunicorn-many.log", 2) as server:
            log(f"{args.many} submissions from {args.many_concurrency} reporters "
                "(2 workers) ...")
            many = timed_load(server, moto, args.many, args.many_concurrency,
                              args.file_kib * KIB)
            codes = many.pop("codes")
            log(f"opening {len(codes)} receipts, {args.verify_concurrency} at a time ...")
            many["verify"] = verify_codes(server.port, codes, args.verify_concurrency)
            many["log_problems"] = server.log_problems()[:5]
            figures["many"] = many
    return figures


# --- Output --------------------------------------------------------------------------


def report(figures: dict[str, Any], args: argparse.Namespace) -> str:
    kdf = figures["kdf"]
    lines = [
        f"PostgreSQL 127.0.0.1:5432, S3 store on moto's server, {figures['cores']} cores; "
        "gunicorn reporting_portal.wsgi:reporter_app, gthread, threads per worker: "
        "config default; one server with 1 worker process, then one with 2",
        f"receipt Argon2id (real cost): t={kdf['time_cost']}, m={kdf['memory_kib']} KiB, "
        f"median {kdf['median_s']:.3f} s in-process; nominal ceiling "
        f"{kdf['ceiling_per_s']:.2f}/s on {kdf['cores']} cores, measured with "
        f"{kdf['cores']} processes at once {kdf['parallel_per_s']:.2f}/s",
        "raised for the benchmark: " + ", ".join(f"{k}={v}" for k, v in RAISED_LIMITS.items())
        + " (default 10: the receipt sign-in budget of the whole installation)",
        f"each submission: the default questionnaire's answers and a {args.file_kib} KiB file",
        "",
        f"{'processes':>9}  {'submissions':>11}  {'seconds':>8}  {'submissions/s':>13}  "
        f"{'p95 s':>6}  {'ratio':>5}  {'server CPU s':>12}  {'moto CPU s':>10}  errors",
    ]
    base = figures["compare"][0]["per_second"] or 1.0
    for row in figures["compare"]:
        lines.append(
            f"{row['workers']:>9}  {row['succeeded']:>11}  {row['seconds']:>8.1f}  "
            f"{row['per_second']:>13.2f}  {row['p95_s']:>6.2f}  "
            f"{row['per_second'] / base:>5.2f}  {row['server_cpu_s']:>12.1f}  "
            f"{row['moto_cpu_s']:>10.1f}  {row['error_count']}")
    many = figures.get("many")
    if many:
        verify = many["verify"]
        lines += [
            "",
            f"{many['submissions']} submissions, {args.many_concurrency} concurrent reporters, "
            f"2 workers: {many['succeeded']} ok, {many['error_count']} errors, "
            f"{many['seconds']:.1f} s, {many['per_second']:.2f} submissions/s, "
            f"p95 {many['p95_s']:.2f} s",
            f"opening every receipt ({verify['concurrency']} at a time): {verify['opened']} of "
            f"{verify['codes']} opened, {verify['failed']} failed, in {verify['seconds']:.1f} s "
            f"({verify['per_second']:.2f}/s, p50 {verify['p50_s']:.2f} s)",
        ]
        for failure in verify["failures"]:
            lines.append(f"receipt failure: {failure}")
    for row in [*figures["compare"], *([many] if many else [])]:
        lines += [f"error: {error}" for error in row["errors"]]
        lines += [f"server log: {line}" for line in row["log_problems"]]
    return "\n".join(lines)


def write_kept_environment(env: dict[str, str], instance_dir: Path, moto: Moto) -> Path:
    kept = instance_dir / "scale.env"
    wanted = [key for key in env if key.startswith(("REPORTING_PORTAL_", "AWS_"))]
    with kept.open("w", encoding="utf-8") as handle:
        os.chmod(kept, 0o600)
        handle.writelines(f"{key}={env[key]}\n" for key in [*wanted, "DATABASE_URL"])
    log(f"kept: the database and bucket {moto.bucket} at {moto.endpoint_url} (moto's server, "
        f"pid {moto.process.pid}: stop it with kill {moto.process.pid}); settings in {kept}")
    return kept


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=120,
                        help="submissions per run of the 1-versus-2 comparison")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="concurrent reporters in the comparison")
    parser.add_argument("--file-kib", type=int, default=256, help="file size per submission")
    parser.add_argument("--many", type=int, default=1000, help="0 skips the big run")
    parser.add_argument("--many-concurrency", type=int, default=20)
    parser.add_argument("--verify-concurrency", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--keep", action="store_true",
                        help="leave the database, the bucket (moto running) and the instance")
    parser.add_argument("--tmpdir", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM still runs the finally blocks that stop the servers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Fake credentials for moto, in this process too: it makes the bucket, and the
    # in-process set-up of the case handlers reaches the bucket through boto3.
    os.environ.update(FAKE_AWS)
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.tmpdir))
    try:
        moto = start_moto(workdir / "moto.log")
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        with fresh_database(args.keep) as database_url:
            figures = run(args, workdir, moto, database_url)
        print(report(figures, args))
        if args.keep:
            write_kept_environment(figures["env"], workdir / "instance", moto)
    finally:
        if not args.keep:
            stop(moto.process)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(main())
