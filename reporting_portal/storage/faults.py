"""Which failures mean "our storage is not there right now", as opposed to a bug.

A database that is down or restarting, and a disk that is full, are faults of the
operator's world rather than of the code: the person gets a calm "try again later" page
and the operator a one-word log line, never a traceback. Kept here, beside the storage
they describe, so that request code and commands classify them alike.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# ENOSPC: the file system is full; EDQUOT: the service account's quota is.
_STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_database_unavailable(error: BaseException) -> bool:
    """The database could not be reached, went away mid-request, or had no free
    connection in time (a restart, a failover, an exhausted pool)."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_storage_full(error: BaseException) -> bool:
    """A write failed because the disk (or the account's quota) is full."""
    return isinstance(error, OSError) and error.errno in _STORAGE_FULL_ERRNOS
