"""The local blob store: atomic, random names, nothing half-written."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting_portal.storage.blobstore import BlobNotFoundError, LocalBlobStore


@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def files_under(path):
    return sorted(p for p in path.rglob("*") if p.is_file())


def test_committed_blob_reads_back_with_its_size(store):
    with store.create() as writer:
        writer.write(b"age-ciphertext-")
        writer.write(b"chunk")
        size = writer.commit()
    assert size == 20
    assert store.size(writer.name) == 20
    with store.open(writer.name) as blob:
        assert blob.read() == b"age-ciphertext-chunk"


def test_names_are_random_and_unrelated(store):
    names = []
    for _ in range(20):
        with store.create() as writer:
            writer.commit()
        names.append(writer.name)
    assert len(set(names)) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", name) for name in names)
    assert names != sorted(names)


def test_uncommitted_blob_leaves_nothing(store, tmp_path):
    def interrupted_upload():
        with store.create() as writer:
            writer.write(b"partial")
            raise RuntimeError(writer.name)

    with pytest.raises(RuntimeError) as caught:
        interrupted_upload()
    name = str(caught.value)
    assert files_under(tmp_path) == []
    with pytest.raises(BlobNotFoundError):
        store.open(name)


def test_blob_is_invisible_until_committed(store):
    with store.create() as writer:
        writer.write(b"x" * 100)
        with pytest.raises(BlobNotFoundError):
            store.open(writer.name)
        writer.commit()
    assert store.size(writer.name) == 100


def test_delete_removes_and_tolerates_absence(store):
    with store.create() as writer:
        writer.commit()
    store.delete(writer.name)
    store.delete(writer.name)
    with pytest.raises(BlobNotFoundError):
        store.size(writer.name)


@given(st.text(max_size=80))
def test_names_that_are_not_blob_names_never_touch_the_disk(tmp_path_factory, name):
    store = LocalBlobStore(tmp_path_factory.mktemp("blobs"))
    if re.fullmatch(r"[0-9a-f]{32}", name):
        return
    with pytest.raises(BlobNotFoundError):
        store.open(name)
    with pytest.raises(BlobNotFoundError):
        store.delete(name)


def test_written_blobs_carry_the_day_not_the_time(tmp_path):
    from datetime import UTC, datetime, time

    store = LocalBlobStore(tmp_path)
    with store.create() as writer:
        writer.write(b"ciphertext")
        writer.commit()
    midnight = datetime.combine(datetime.now(UTC).date(), time(0), UTC).timestamp()
    blob = next(p for p in tmp_path.rglob("*") if p.is_file())
    assert blob.stat().st_mtime == blob.stat().st_atime == midnight
    # (the folder's access time moves whenever it is listed: mount with noatime)
    assert blob.parent.stat().st_mtime == midnight
