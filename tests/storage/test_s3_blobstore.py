"""The blob store contract on both stores, and the S3 store's streaming, over moto's HTTP.

Every contract test runs on the local folder and on a bucket of moto's standalone
server; the S3-only tests count the requests boto3 really sends (a botocore event hook)
and look at the bucket behind the store's back.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest

from reporting_portal.storage.blobstore import BlobNotFoundError, LocalBlobStore, open_blob_store
from reporting_portal.storage.s3_blobstore import PART_SIZE, READ_RANGE, S3BlobStore
from tests.helpers.s3 import PREFIX, s3_client

MIB = 1024 * 1024
BAD_NAMES = ["", "../" + "a" * 32, "A" * 32, "a" * 31, "a" * 33, "a" * 32 + "/x",
             "blobs/" + "a" * 32, "%2e%2e" + "a" * 26, "a" * 32 + "\n"]


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, settings):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    bucket = request.getfixturevalue("s3_bucket")
    return open_blob_store(bucket.settings_for(settings))


@pytest.fixture
def s3_store(settings, s3_bucket):
    store = open_blob_store(s3_bucket.settings_for(settings))
    assert isinstance(store, S3BlobStore)
    return store


def leftovers(store) -> list[str]:
    """Whatever a store holds, committed or not, seen without its own listing."""
    if isinstance(store, LocalBlobStore):
        return sorted(str(p) for p in store.root.rglob("*") if p.is_file())
    client = s3_client(store.client.meta.endpoint_url)
    keys = client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return sorted([item["Key"] for item in keys] + [f"upload {u['Key']}" for u in uploads])


class Requests:
    """The S3 operations a client sends, with the parameters that matter here."""

    def __init__(self, client) -> None:
        self.sent: list[tuple[str, dict]] = []
        client.meta.events.register("provide-client-params.s3", self._record)

    def _record(self, params, model, **_):
        kept = {key: params[key] for key in ("Range", "PartNumber") if key in params}
        if "Body" in params:
            body = params["Body"]
            if isinstance(body, io.BytesIO):
                with body.getbuffer() as view:
                    kept["body_bytes"] = view.nbytes
            else:
                kept["body_bytes"] = len(body)
        self.sent.append((model.name, kept))

    def named(self, operation: str) -> list[dict]:
        return [params for name, params in self.sent if name == operation]


# --- The contract, on both stores ------------------------------------------------------


def test_committed_blob_reads_back_with_its_size(store):
    with store.create() as writer:
        writer.write(b"age-ciphertext-")
        writer.write(memoryview(b"chunk"))
        size = writer.commit()
    assert size == 20
    assert store.size(writer.name) == 20
    with store.open(writer.name) as blob:
        assert blob.read(4) == b"age-"
        assert blob.read() == b"ciphertext-chunk"
        assert blob.read(1) == b""


def test_an_empty_blob_is_a_blob(store):
    with store.create() as writer:
        assert writer.commit() == 0
    assert store.size(writer.name) == 0
    with store.open(writer.name) as blob:
        assert blob.read() == b""


def test_blob_is_invisible_until_committed(store):
    with store.create() as writer:
        writer.write(b"x" * 100)
        with pytest.raises(BlobNotFoundError):
            store.open(writer.name)
        assert writer.name not in set(store.names())
        writer.commit()
    assert store.size(writer.name) == 100


def test_delete_removes_and_tolerates_absence(store):
    with store.create() as writer:
        writer.write(b"payload")
        writer.commit()
    store.delete(writer.name)
    store.delete(writer.name)
    with pytest.raises(BlobNotFoundError):
        store.size(writer.name)
    with pytest.raises(BlobNotFoundError):
        store.open(writer.name)
    assert leftovers(store) == []


def test_names_lists_every_committed_blob_and_nothing_else(store):
    committed = set()
    for number in range(3):
        with store.create() as writer:
            writer.write(b"blob %d" % number)
            writer.commit()
        committed.add(writer.name)
    with store.create() as unfinished:
        unfinished.write(b"still arriving")
        assert set(store.names()) == committed
        unfinished.abort()


def test_names_that_are_not_blob_names_are_refused(store):
    for name in BAD_NAMES:
        for call in (store.open, store.size, store.delete):
            with pytest.raises(BlobNotFoundError):
                call(name)


def test_a_blob_that_was_never_written_is_not_found(store):
    with pytest.raises(BlobNotFoundError):
        store.open("0" * 32)
    with pytest.raises(BlobNotFoundError):
        store.size("0" * 32)


def test_abort_leaves_nothing_even_after_a_part_went_out(store):
    with store.create() as writer:
        writer.write(os.urandom(PART_SIZE + MIB))
        writer.abort()
        writer.abort()
    assert leftovers(store) == []
    with pytest.raises(BlobNotFoundError):
        store.open(writer.name)


def test_an_exception_inside_create_leaves_nothing(store):
    def interrupted_upload():
        with store.create() as writer:
            writer.write(os.urandom(PART_SIZE + MIB))
            raise RuntimeError(writer.name)

    with pytest.raises(RuntimeError) as caught:
        interrupted_upload()
    assert leftovers(store) == []
    with pytest.raises(BlobNotFoundError):
        store.open(str(caught.value))


def test_a_writer_left_open_is_an_unfinished_upload_until_repaired(store):
    # A killed worker: parts went out, nobody committed or aborted.
    abandoned = store.create()
    abandoned.write(os.urandom(PART_SIZE + MIB))
    [upload] = list(store.unfinished_uploads())
    # A repair spares recent writes by this time. (moto answers one fixed Initiated time,
    # 2010-11-10, for every upload, so only its type and zone can be checked on S3.)
    assert upload.started.utcoffset() == timedelta(0)
    assert upload.started <= datetime.now(UTC)
    if isinstance(store, LocalBlobStore):
        assert datetime.now(UTC) - upload.started < timedelta(hours=1)
    assert list(store.names()) == []
    store.abort_unfinished(upload)
    store.abort_unfinished(upload)  # gone already: not an error
    assert list(store.unfinished_uploads()) == []
    assert leftovers(store) == []
    abandoned.abort()  # the worker's own clean-up, had it lived, finds nothing to do
    assert leftovers(store) == []


def test_a_made_up_unfinished_upload_is_refused(store):
    from reporting_portal.storage.blobstore import UnfinishedUpload

    for key in ["../../etc/passwd", "a" * 32, "ab/" + "a" * 32, "a" * 32 + "/ id"]:
        with pytest.raises(BlobNotFoundError):
            store.abort_unfinished(UnfinishedUpload(key=key, started=datetime.now(UTC)))


# --- S3: multipart writes, ranged reads, and no request for a bad name -----------------


def test_a_large_blob_streams_through_multipart_one_part_in_memory(s3_store):
    requests = Requests(s3_store.client)
    digest = hashlib.sha256()
    chunk = 64 * 1024
    size = 20 * MIB + 12345
    largest_buffer = 0
    with s3_store.create() as writer:
        for offset in range(0, size, chunk):
            piece = os.urandom(min(chunk, size - offset))
            digest.update(piece)
            writer.write(piece)
            largest_buffer = max(largest_buffer, writer.buffered)
            assert writer.buffered <= PART_SIZE
        assert writer.parts_sent == 2  # two full parts out, the rest waits for commit
        assert writer.commit() == size
    assert largest_buffer == PART_SIZE - chunk  # a full part is sent the moment it fills
    assert len(requests.named("CreateMultipartUpload")) == 1
    assert [p["body_bytes"] for p in requests.named("UploadPart")] == [
        PART_SIZE, PART_SIZE, size - 2 * PART_SIZE]
    assert requests.named("PutObject") == []
    assert len(requests.named("CompleteMultipartUpload")) == 1
    head = s3_client(s3_store.client.meta.endpoint_url).head_object(
        Bucket=s3_store.bucket, Key=PREFIX + writer.name)
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of a 3-part object
    assert head["ContentLength"] == size

    requests.sent.clear()
    read_back = hashlib.sha256()
    with s3_store.open(writer.name) as blob:
        while data := blob.read(256 * 1024):
            read_back.update(data)
    assert read_back.digest() == digest.digest()
    ranges = [p["Range"] for p in requests.named("GetObject")]
    spans = [tuple(int(n) for n in r.removeprefix("bytes=").split("-")) for r in ranges]
    assert spans[0][0] == 0
    assert spans[-1][1] == size - 1
    assert all(end - start + 1 <= READ_RANGE for start, end in spans)
    assert all(after[0] == before[1] + 1 for before, after in itertools.pairwise(spans))
    assert len(spans) == -(-size // READ_RANGE)


def test_a_small_blob_is_one_put_and_no_multipart_upload(s3_store):
    requests = Requests(s3_store.client)
    with s3_store.create() as writer:
        writer.write(b"a small answers object")
        assert requests.sent == []  # nothing goes out before commit
        writer.commit()
    assert [name for name, _ in requests.sent] == ["PutObject"]


def test_the_object_is_stored_under_the_prefix_by_its_name(s3_store):
    with s3_store.create() as writer:
        writer.write(b"ciphertext")
        writer.commit()
    assert leftovers(s3_store) == [PREFIX + writer.name]


def test_a_bad_name_sends_no_request(s3_store):
    requests = Requests(s3_store.client)
    for name in BAD_NAMES:
        with pytest.raises(BlobNotFoundError):
            s3_store.open(name)
        with pytest.raises(BlobNotFoundError):
            s3_store.delete(name)
    assert requests.sent == []


def test_keys_outside_the_prefix_or_not_blob_names_are_not_listed(s3_store):
    client = s3_client(s3_store.client.meta.endpoint_url)
    client.put_object(Bucket=s3_store.bucket, Key="b" * 32, Body=b"outside the prefix")
    client.put_object(Bucket=s3_store.bucket, Key=PREFIX + "notes.txt", Body=b"not a blob")
    with s3_store.create() as writer:
        writer.commit()
    assert list(s3_store.names()) == [writer.name]


def test_a_blob_replaced_while_being_read_is_refused(s3_store):
    with s3_store.create() as writer:
        writer.write(os.urandom(2 * READ_RANGE))
        writer.commit()
    with s3_store.open(writer.name) as blob:
        assert len(blob.read(READ_RANGE)) == READ_RANGE
        s3_client(s3_store.client.meta.endpoint_url).put_object(
            Bucket=s3_store.bucket, Key=PREFIX + writer.name, Body=os.urandom(2 * READ_RANGE))
        with pytest.raises(OSError, match="changed"):
            blob.read(READ_RANGE)


def test_a_blob_deleted_while_being_read_is_not_found(s3_store):
    with s3_store.create() as writer:
        writer.write(os.urandom(2 * READ_RANGE))
        writer.commit()
    with s3_store.open(writer.name) as blob:
        blob.read(READ_RANGE)
        s3_store.delete(writer.name)
        with pytest.raises(BlobNotFoundError):
            blob.read(READ_RANGE)


def test_nothing_is_written_after_commit_or_abort(s3_store):
    with s3_store.create() as writer:
        writer.commit()
    with pytest.raises(ValueError, match="committed or aborted"):
        writer.write(b"late")
    with pytest.raises(ValueError, match="committed or aborted"):
        writer.commit()
