"""New blobs follow their transaction: kept when it commits, deleted when it does not.

The rule hangs on SQLAlchemy session events, so it holds alike in a request, on the
command line and in a job (STYLE.md 12b).
"""

import pytest

from reporting_portal.domain.objects import track_new_blobs
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store

pytestmark = pytest.mark.database


def new_blob(store) -> str:
    with store.create() as writer:
        writer.write(b"ciphertext")
        writer.commit()
    return writer.name


def exists(store, name) -> bool:
    try:
        store.open(name).close()
    except LookupError:
        return False
    return True


@pytest.mark.parametrize("ending", ["rollback", "close"])
def test_blobs_of_a_transaction_that_does_not_commit_are_deleted(app, ending):
    with app.app_context():
        store = get_blob_store()
    names: list[str] = []
    db = get_database(app).session_factory()
    track_new_blobs(db, names)
    names.append(new_blob(store))  # the list may still grow, as an upload's does
    names.append(new_blob(store))
    assert all(exists(store, name) for name in names)
    db.rollback() if ending == "rollback" else db.close()
    assert not any(exists(store, name) for name in names)


def test_blobs_of_a_committed_transaction_stay(app):
    with app.app_context():
        store = get_blob_store()
    with get_database(app).session_factory() as db:
        names = [new_blob(store)]
        track_new_blobs(db, names)
        db.commit()
        db.rollback()  # a later rollback in the same session concerns later work only
    assert exists(store, names[0])
