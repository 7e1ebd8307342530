"""Whether a failed commit may nevertheless have been committed.

A COMMIT sent to PostgreSQL is durable once the server has written it, but the reply can
be lost on its way back: the server restarts, the network drops. The application then
sees an error for a transaction that is, in fact, stored. Treating that error as "nothing
was saved" is wrong in two ways: the blobs of a stored report would be deleted as
uncommitted (an unreadable case), and the reporter would be told that nothing was kept.

So the commit is watched: once the database driver has been asked to commit, the
session's outcome is *in doubt* until SQLAlchemy reports success. A session whose
transaction ended in doubt keeps its new blobs (fsck removes them later if no row names
them), and the error page says that what was sent may have been saved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

_OUTCOME = "commit_outcome"  # in Session.info: {"sent": bool}, one per root transaction
_LINK = "portal_commit_outcome"  # in the connection's info, while a session uses it


def install_commit_tracking(factory: sessionmaker[Session]) -> None:
    """Mark each session from ``factory`` whose COMMIT reached the driver."""
    event.listen(factory, "after_transaction_create", _new_outcome)
    event.listen(factory, "after_begin", _link_connection)
    event.listen(factory, "after_commit", _mark_committed)
    engine = factory.kw["bind"]
    event.listen(engine, "commit", _commit_sent)
    event.listen(engine.pool, "checkin", _unlink)


def commit_in_doubt(db: Session) -> bool:
    """True once ``db``'s last transaction sent its COMMIT and did not see it succeed.

    Valid after the transaction ended (a rollback after the failed commit) until the
    session begins its next one.
    """
    outcome = db.info.get(_OUTCOME)
    return bool(outcome and outcome["sent"] and not outcome["committed"])


def _new_outcome(db: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        db.info[_OUTCOME] = {"sent": False, "committed": False}


def _link_connection(db: Session, _transaction: SessionTransaction,
                     connection: Connection) -> None:
    connection.info[_LINK] = db.info.get(_OUTCOME)


def _commit_sent(connection: Connection) -> None:
    outcome = connection.info.get(_LINK)
    if outcome is not None:
        outcome["sent"] = True


def _mark_committed(db: Session) -> None:
    outcome = db.info.get(_OUTCOME)
    if outcome is not None:
        outcome["committed"] = True


def _unlink(_dbapi_connection: Any, record: Any) -> None:
    # Back in the pool, the connection belongs to no session's transaction.
    record.info.pop(_LINK, None)
