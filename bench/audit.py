"""The access log at a million events: append rate, whole-log verification, proof sizes.

    .venv/bin/python bench/audit.py [--events 1000000] [--per-transaction-events 20000]
        [--batch 1000] [--database-url postgresql+psycopg://...] [--keep] [--quick]

Builds a throwaway installation in a temporary folder (SQLite there, or a fresh schema in
the PostgreSQL database ``--database-url`` names, dropped at the end), runs ``init`` so the
verifier key is recorded, adds a few staff accounts, then:

1. Appends ``--per-transaction-events`` events one per transaction, as requests do
   (``record_event`` + ``commit`` on a new session each): events/s.
2. Appends in transactions of ``--batch`` events until the log holds ``--events``:
   events/s. The signed head nearest half-way is saved, as an auditor would.
3. Times ``verify_log`` over the whole log (with the saved head) against a baseline
   measured in the same run, before and after it: SELECT the same columns in leaf order
   and SHA-256 each event's canonical encoding, nothing else. Prints both and the ratio.
4. Proofs at full size: inclusion proofs for the first, middle and last event (hashes,
   raw bytes, the JSON document as the auditor downloads it), the consistency proof from
   the saved head, and the median time of one inclusion proof request.

Targets (the issue): verification under 20 s at 1M events; proofs logarithmic, under
1 KiB. Nothing is asserted and the exit code is 0; the summary says yes or no per target.
The temporary folder (and schema) are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from config.settings import load_settings
from crypto.checkpoint import open_checkpoint
from crypto.merkle import consistency_proof, verify_consistency
from reporting_portal.app import create_app
from reporting_portal.audit.events import (
    ANONYMOUS,
    REPORTER,
    SYSTEM,
    AuditAction,
    ObjectType,
    Outcome,
    record_event,
)
from reporting_portal.audit.log import encode_stored_event
from reporting_portal.audit.proofs import (
    inclusion_proof_for,
    latest_head,
    stored_nodes,
    verifier_key,
)
from reporting_portal.audit.verify import stored_time_text, verify_log
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.installation import initialise_installation
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.auditor.browse import EventFilter, event_page
from reporting_portal.storage.db import new_public_id
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import (
    AuditEvent,
    AuditTreeHead,
    AuditTreeNode,
    Role,
    StaffAccount,
)
from reporting_portal.web.database import get_database

TARGET_VERIFY_S = 20.0
TARGET_PROOF_BYTES = 1024
QUICK_EVENTS = 50_000
QUICK_PER_TRANSACTION = 5_000
PROOF_REQUESTS = 50
VERIFY_BATCH = 20_000  # verify_log's yield_per, so the baseline reads the same way
STAFF = [("handler", Role.CASE_HANDLER, 6), ("auditor", Role.AUDITOR, 1),
         ("custodian", Role.IDENTITY_CUSTODIAN, 1)]

# (action, who, object type, outcome, weight): a busy office's mix. "reporter" and
# "anonymous" have no account, so no actor id; the rest name a staff member.
EVENT_MIX: list[tuple[AuditAction, str, ObjectType | None, Outcome, int]] = [
    (AuditAction.CASE_READ, "handler", ObjectType.REPORT, Outcome.SUCCESS, 30),
    (AuditAction.FILE_DOWNLOADED, "handler", ObjectType.FILE, Outcome.SUCCESS, 8),
    (AuditAction.HANDLER_MESSAGE_SENT, "handler", ObjectType.REPORT, Outcome.SUCCESS, 5),
    (AuditAction.CASE_STATUS_CHANGED, "handler", ObjectType.REPORT, Outcome.SUCCESS, 4),
    (AuditAction.CASE_NOTE_WRITTEN, "handler", ObjectType.REPORT, Outcome.SUCCESS, 3),
    (AuditAction.STAFF_SIGN_IN, "staff", ObjectType.ACCOUNT, Outcome.SUCCESS, 8),
    (AuditAction.STAFF_SIGN_IN_FAILED, "anonymous", None, Outcome.FAILURE, 2),
    (AuditAction.REPORT_SUBMITTED, "reporter", ObjectType.REPORT, Outcome.SUCCESS, 10),
    (AuditAction.REPORTER_SIGNED_IN, "reporter", ObjectType.REPORT, Outcome.SUCCESS, 10),
    (AuditAction.REPORTER_MAILBOX_READ, "reporter", ObjectType.REPORT, Outcome.SUCCESS, 10),
    (AuditAction.REPORTER_SIGN_IN_FAILED, "anonymous", None, Outcome.FAILURE, 3),
    (AuditAction.IDENTITY_ACCESS_REQUESTED, "handler", ObjectType.REPORT, Outcome.SUCCESS, 1),
    (AuditAction.IDENTITY_ACCESS_APPROVED, "custodian", ObjectType.REPORT, Outcome.SUCCESS, 1),
    (AuditAction.AUDIT_LOG_VIEWED, "auditor", None, Outcome.SUCCESS, 2),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Installation ----------------------------------------------------------------------


@contextmanager
def throwaway_database(base_url: str | None, workdir: Path, keep: bool) -> Iterator[str]:
    """SQLite in ``workdir``, or a fresh schema in ``base_url`` dropped afterwards."""
    if not base_url:
        yield f"sqlite:///{workdir / 'audit-bench.db'}"
        return
    schema = f"audit_bench_{secrets.token_hex(4)}"
    admin_engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        if keep:
            log(f"kept schema {schema} (DROP SCHEMA \"{schema}\" CASCADE when done)")
        else:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


def set_up(workdir: Path, database_url: str) -> tuple[Flask, list[tuple[StaffAccount, str]]]:
    """``init`` plus a few staff accounts; return the app and (account, role) actors."""
    settings = load_settings(
        environ={}, environment="test", secret_key=secrets.token_urlsafe(40),
        instance_dir=str(workdir / "instance"), database_url=database_url,
        # Accounts are made once here; their password hashes need not cost anything.
        password_hash_time_cost=1, password_hash_memory_kib=19456,
        identity_wrap_time_cost=2, identity_wrap_memory_kib=19456,
        receipt_kdf_time_cost=2, receipt_kdf_memory_kib=19456,
    )
    app = create_app(settings)
    upgrade_database(get_database(app).engine)
    system = Actor(account=None, role=SYSTEM)
    actors: list[tuple[StaffAccount, str]] = []
    with app.app_context(), get_database(app).session_factory() as db:
        initialise_installation(db, get_passwords(), system, admin_username="admin")
        for kind, role, count in STAFF:
            for number in range(count):
                account = create_account(
                    db, get_passwords(), system, username=f"{kind}-{number}",
                    display_name=f"{kind.title()} {number}", roles=(role,)).account
                actors.append((account, str(role)))
        db.commit()
    return app, actors


# --- Events ----------------------------------------------------------------------------


class EventMix:
    """Records events with realistic values: 22-character public ids, a few actions."""

    def __init__(self, actors: list[tuple[StaffAccount, str]], seed: int = 20261128) -> None:
        self.rng = random.Random(seed)
        self.by_role: dict[str, list[tuple[StaffAccount, str]]] = {
            "handler": [a for a in actors if a[1] == Role.CASE_HANDLER],
            "auditor": [a for a in actors if a[1] == Role.AUDITOR],
            "custodian": [a for a in actors if a[1] == Role.IDENTITY_CUSTODIAN],
            "staff": actors,
        }
        self.kinds = [entry[:4] for entry in EVENT_MIX]
        self.weights = [entry[4] for entry in EVENT_MIX]
        # Object ids come from pools, as events keep naming the same open cases.
        self.objects = {ObjectType.REPORT: [new_public_id() for _ in range(20_000)],
                        ObjectType.FILE: [new_public_id() for _ in range(20_000)]}

    def record(self, db: Session, count: int = 1) -> None:
        for action, who, object_type, outcome in self.rng.choices(
                self.kinds, self.weights, k=count):
            account: StaffAccount | None = None
            if who in self.by_role:
                account, role = self.rng.choice(self.by_role[who])
            else:
                role = REPORTER if who == "reporter" else ANONYMOUS
            if object_type == ObjectType.ACCOUNT and account is not None:
                object_id: str | None = account.public_id
            elif object_type is not None:
                object_id = self.rng.choice(self.objects[object_type])
            else:
                object_id = None
            record_event(db, action, actor=account, actor_role=role, outcome=outcome,
                         object_type=object_type, object_id=object_id)


@dataclass
class Appender:
    """Appends through the app's sessionmaker; keeps the head nearest half-way."""

    factory: sessionmaker[Session]
    mix: EventMix
    total: int
    size: int = 0
    saved_head: str = ""
    rates: dict[str, float] = field(default_factory=dict)

    def transaction(self, count: int) -> None:
        with self.factory() as db:
            self.mix.record(db, count)
            db.commit()
        self.size += count
        if not self.saved_head and self.size >= self.total // 2:
            with self.factory() as db:  # one query, once: what `audit head` reads
                head = latest_head(db)
                self.saved_head = head.checkpoint if head is not None else ""

    def phase(self, name: str, events: int, per_transaction: int) -> None:
        if events <= 0:
            self.rates[name] = float("nan")
            return
        log(f"{name}: {events:,} events, {per_transaction:,} per transaction ...")
        started = last_report = time.perf_counter()
        done = 0
        while done < events:
            count = min(per_transaction, events - done)
            self.transaction(count)
            done += count
            now = time.perf_counter()
            if now - last_report > 30:
                log(f"  {done:,}/{events:,} ({done / (now - started):,.0f} events/s)")
                last_report = now
        elapsed = time.perf_counter() - started
        self.rates[name] = events / elapsed
        log(f"  {events:,} events in {elapsed:.1f} s: {events / elapsed:,.0f} events/s")


# --- Verification ----------------------------------------------------------------------


def peak_rss_reset() -> None:
    """Reset VmHWM (Linux: clear_refs 5), so the next reading is this step's peak."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def hash_only(db: Session) -> float:
    """The floor: read every event as verify_log does (raw rows in leaf order) and
    SHA-256 its canonical encoding; no tree, no comparisons, no heads, no subtrees."""
    started = time.perf_counter()
    rows = db.connection().execution_options(yield_per=VERIFY_BATCH).exec_driver_sql(
        "SELECT leaf_index, leaf_hash, occurred_at, receipt_channel, receipt_headers, "
        "actor_id, actor_role, action, object_type, object_id, outcome "
        "FROM audit_event ORDER BY leaf_index")
    for index, _stored, occurred_at, channel, headers, *fields in rows:
        hashlib.sha256(b"\0" + encode_stored_event(index, stored_time_text(occurred_at),
                                                    tuple(fields), channel, headers)).digest()
    return time.perf_counter() - started


def timed(factory: sessionmaker[Session], work: Callable[[Session], Any]) -> tuple[float, Any]:
    with factory() as db:
        started = time.perf_counter()
        result = work(db)
        return time.perf_counter() - started, result


def verify(factory: sessionmaker[Session], saved_head: str) -> dict[str, Any]:
    log("baseline (select + SHA-256 only) ...")
    baseline_before, _ = timed(factory, hash_only)
    log("verify_log ...")
    peak_rss_reset()
    with factory() as db:
        key = verifier_key(db)
    seconds, result = timed(factory, lambda db: verify_log(db, key, saved_head or None))
    peak = peak_rss_mib()
    log("baseline again ...")
    baseline_after, _ = timed(factory, hash_only)
    baseline = (baseline_before + baseline_after) / 2
    first = result.first_problem
    return {"seconds": seconds, "intact": result.intact, "tree_size": result.tree_size,
            "heads_checked": result.heads_checked, "peak_rss_mib": peak,
            "saved_head_size": result.saved_head.size if result.saved_head else None,
            "problem": f"entry {first.leaf_index}: {first.message}" if first else None,
            "baseline_before": baseline_before, "baseline_after": baseline_after,
            "baseline": baseline, "ratio": seconds / baseline}


# --- Proofs ----------------------------------------------------------------------------


def proofs(factory: sessionmaker[Session], saved_head: str, rng: random.Random,
           ) -> dict[str, Any]:
    with factory() as db:
        head = latest_head(db)
        key = verifier_key(db)
        if head is None:
            raise RuntimeError("the log has no signed head")
        size = head.tree_size
        inclusion = {}
        for label, index in (("first", 0), ("middle", size // 2), ("last", size - 1)):
            proof = inclusion_proof_for(db, index)
            # As audit/views.py serves it (?format=json).
            document = json.dumps(proof.as_document(), indent=1).encode()
            inclusion[label] = {"leaf_index": index, "hashes": len(proof.hashes),
                                "bytes": proof.size_in_bytes, "json_bytes": len(document)}
        saved = open_checkpoint(saved_head, key)
        hashes = consistency_proof(saved.size, size, stored_nodes(db))
        verify_consistency(saved.size, size, saved.root_hash, head.root_hash, hashes)
    consistency = {"old_size": saved.size, "new_size": size, "hashes": len(hashes),
                   "bytes": sum(len(value) for value in hashes)}
    samples = []
    for _ in range(PROOF_REQUESTS):
        # A request: its own session, one proof for an event anywhere in the log.
        seconds, _ = timed(factory, lambda db: inclusion_proof_for(db, rng.randrange(size)))
        samples.append(seconds * 1000)
    return {"tree_size": size, "inclusion": inclusion, "consistency": consistency,
            "request_ms": {"median": statistics.median(samples), "max": max(samples),
                           "requests": PROOF_REQUESTS}}


def pages(factory: sessionmaker[Session], actors: list[tuple[StaffAccount, str]],
          ) -> dict[str, float]:
    """The auditor's first page of events under each kind of filter: median of 5, in ms."""
    with factory() as db:
        some_case = db.scalar(select(AuditEvent.object_id).where(
            AuditEvent.object_type == "report").order_by(AuditEvent.leaf_index).limit(1))
    filters = {
        "no filter": {},
        "one staff member": {"actor": actors[0][0].public_id},
        "reporters": {"actor": REPORTER},
        "a common action": {"action": str(AuditAction.CASE_READ)},
        "one case": {"object_type": "report", "object_id": some_case or ""},
        "member and action": {"actor": actors[0][0].public_id,
                              "action": str(AuditAction.CASE_READ)},
    }
    medians = {}
    for label, args in filters.items():
        chosen = EventFilter.from_args(args)
        samples = [timed(factory, lambda db, chosen=chosen: event_page(db, chosen, None))[0]
                   for _ in range(5)]
        medians[label] = statistics.median(samples) * 1000
    return medians


def storage(factory: sessionmaker[Session], workdir: Path) -> dict[str, Any]:
    """Rows and bytes the log takes: a signed head per commit adds up."""
    with factory() as db:
        heads = db.scalar(select(func.count()).select_from(AuditTreeHead))
        nodes = db.scalar(select(func.count()).select_from(AuditTreeNode))
        if db.get_bind().dialect.name == "postgresql":
            size = db.scalar(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"))
        else:
            size = sum(path.stat().st_size for path in workdir.glob("audit-bench.db*"))
    return {"heads": heads, "nodes": nodes, "database_mib": int(size or 0) / 2**20}


# --- Report ----------------------------------------------------------------------------


def yes_no(passed: bool) -> str:
    return "yes" if passed else "NO"


def report(figures: dict[str, Any]) -> str:
    rates, checked, proven = figures["rates"], figures["verify"], figures["proofs"]
    batch = figures["batch"]
    lines = [
        f"audit log bench: {checked['tree_size']:,} events, {figures['database']}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        "append",
        f"  1 event per transaction     {rates['per_transaction']:>10,.0f} events/s  "
        f"({figures['per_transaction_events']:,} events)",
        f"  {batch:,} events per transaction {rates['bulk']:>10,.0f} events/s  "
        f"(to {figures['events']:,})",
        "",
        "verify (whole log, with the head saved at "
        f"{checked['saved_head_size']:,})",
        f"  verify_log                  {checked['seconds']:>8.2f} s  "
        f"{'intact' if checked['intact'] else 'NOT INTACT: ' + str(checked['problem'])}, "
        f"{checked['heads_checked']} head(s) checked, peak RSS {checked['peak_rss_mib']:.0f} MiB",
        f"  baseline select + SHA-256   {checked['baseline']:>8.2f} s  "
        f"(before {checked['baseline_before']:.2f} s, after {checked['baseline_after']:.2f} s)",
        f"  ratio verify/baseline       {checked['ratio']:>8.2f}",
        "",
        f"proofs at {proven['tree_size']:,}",
    ]
    for label, row in proven["inclusion"].items():
        lines.append(f"  inclusion, {label:<6} #{row['leaf_index']:<9,} {row['hashes']:>3} hashes "
                     f"{row['bytes']:>5} bytes  (JSON download {row['json_bytes']:,} bytes)")
    consistency = proven["consistency"]
    lines.append(f"  consistency {consistency['old_size']:,} -> {consistency['new_size']:,}  "
                 f"{consistency['hashes']:>3} hashes {consistency['bytes']:>5} bytes")
    request = proven["request_ms"]
    stored = figures["storage"]
    lines.append(f"  one inclusion proof request: median {request['median']:.2f} ms, "
                 f"max {request['max']:.2f} ms ({request['requests']} requests)")
    largest = max([row["bytes"] for row in proven["inclusion"].values()]
                  + [consistency["bytes"]])
    lines += ["", "the auditor's first page of events (median of 5)"]
    lines += [f"  {label:<22} {ms:>8.1f} ms" for label, ms in figures["pages"].items()]
    lines += ["", f"storage: {stored['heads']:,} signed heads, {stored['nodes']:,} subtree "
              f"nodes, whole database {stored['database_mib']:,.0f} MiB"]
    largest_json = max(row["json_bytes"] for row in proven["inclusion"].values())
    verify_ok = checked["intact"] and checked["seconds"] < TARGET_VERIFY_S
    lines += [
        "",
        "summary",
        f"  log intact after {checked['tree_size']:,} appends: {yes_no(checked['intact'])}",
        f"  verify < {TARGET_VERIFY_S:.0f} s: {yes_no(verify_ok)} ({checked['seconds']:.1f} s)"
        + ("" if checked["tree_size"] >= 1_000_000 else
           f"  [only {checked['tree_size']:,} events: the target is for 1,000,000]"),
        f"  largest proof < {TARGET_PROOF_BYTES} bytes: "
        f"{yes_no(largest < TARGET_PROOF_BYTES)} ({largest} bytes of hashes)",
        f"  (not a target: the largest JSON proof download, event and signed head "
        f"included, is {largest_json:,} bytes)",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with throwaway_database(args.database_url, workdir, args.keep) as database_url:
        app, actors = set_up(workdir, database_url)
        factory = get_database(app).session_factory
        try:
            with factory() as db:
                head = latest_head(db)
                setup_events = head.tree_size if head is not None else 0
            appender = Appender(factory, EventMix(actors), total=args.events, size=setup_events)
            per_transaction = min(args.per_transaction_events, args.events - setup_events)
            appender.phase("per_transaction", per_transaction, 1)
            appender.phase("bulk", args.events - appender.size, args.batch)
            checked = verify(factory, appender.saved_head)
            log("proofs ...")
            proven = proofs(factory, appender.saved_head, random.Random(7))
            log("auditor pages ...")
            paged = pages(factory, actors)
            stored = storage(factory, workdir)
        finally:
            get_database(app).engine.dispose()
    return {"events": args.events, "per_transaction_events": per_transaction,
            "batch": args.batch, "setup_events": setup_events,
            "database": "postgresql" if args.database_url else "sqlite",
            "rates": appender.rates, "verify": checked, "proofs": proven,
            "pages": paged, "storage": stored}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="the log's size at the end (init's own events included)")
    parser.add_argument("--per-transaction-events", type=int, default=20_000,
                        help="events appended one per transaction first")
    parser.add_argument("--batch", type=int, default=1_000,
                        help="events per transaction in the bulk phase")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL database to make a throwaway schema in "
                             "(default: SQLite in the temporary folder)")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (and PostgreSQL schema)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {QUICK_EVENTS:,} events, "
                             f"{QUICK_PER_TRANSACTION:,} one per transaction")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = QUICK_EVENTS
        args.per_transaction_events = min(args.per_transaction_events, QUICK_PER_TRANSACTION)
    if args.events < 100 or args.batch < 1 or args.per_transaction_events < 0:
        parser.error("need --events >= 100, --batch >= 1, --per-transaction-events >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=args.tmpdir))
    try:
        figures = run(args, workdir)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
