"""Header and payload stored apart: sealing, joining, granting and revoking access."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from crypto import age
from crypto.errors import (
    HeaderError,
    IncompatibleRecipientsError,
    NoMatchError,
    TruncatedPayloadError,
)
from crypto.keys import HybridIdentity, X25519Identity
from crypto.stream import CHUNK_SIZE, PayloadEncryptor

ALICE = HybridIdentity.generate()
BOB = HybridIdentity.generate()
CAROL = HybridIdentity.generate()
PLAINTEXT = os.urandom(CHUNK_SIZE + 123)


def stored_object(*recipients: HybridIdentity) -> tuple[bytes, bytes]:
    """Encrypt PLAINTEXT the way the platform stores it: (header row, blob bytes)."""
    payload = io.BytesIO()
    file_key = age.encrypt_payload(io.BytesIO(PLAINTEXT), payload)
    header = age.seal_header(file_key, [identity.recipient for identity in recipients])
    return header, payload.getvalue()


def opened(header: bytes, payload: bytes, identity: HybridIdentity | X25519Identity) -> bytes:
    out = io.BytesIO()
    age.decrypt_parts(header, io.BytesIO(payload), out, [identity])
    return out.getvalue()


def test_joined_parts_form_a_standard_age_file() -> None:
    header, payload = stored_object(ALICE)
    joined = io.BytesIO()
    age.join(header, io.BytesIO(payload), joined)
    assert joined.getvalue() == header + payload
    out = io.BytesIO()
    age.decrypt(io.BytesIO(joined.getvalue()), out, [ALICE])
    assert out.getvalue() == PLAINTEXT


def test_split_returns_the_header_and_streams_the_payload() -> None:
    encrypted = io.BytesIO()
    age.encrypt(io.BytesIO(PLAINTEXT), encrypted, [ALICE.recipient, BOB.recipient])
    payload = io.BytesIO()
    header = age.split(io.BytesIO(encrypted.getvalue()), payload)
    assert header + payload.getvalue() == encrypted.getvalue()
    assert age.inspect_header(header) == ["mlkem768x25519", "mlkem768x25519"]
    assert age.header_recipient_count(header) == 2
    assert opened(header, payload.getvalue(), BOB) == PLAINTEXT


def test_streaming_writer_accepts_upload_pieces() -> None:
    payload = io.BytesIO()
    encryptor = PayloadEncryptor(payload)
    for start in range(0, len(PLAINTEXT), 5000):
        encryptor.write(PLAINTEXT[start : start + 5000])
    encryptor.finish()
    header = age.seal_header(encryptor.file_key, [ALICE.recipient])
    assert opened(header, payload.getvalue(), ALICE) == PLAINTEXT
    with pytest.raises(ValueError, match="finished"):
        encryptor.write(b"late")


def test_an_interrupted_upload_has_no_final_chunk() -> None:
    payload = io.BytesIO()
    encryptor = PayloadEncryptor(payload)

    def upload() -> None:
        with encryptor:
            encryptor.write(PLAINTEXT)
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        upload()
    header = age.seal_header(encryptor.file_key, [ALICE.recipient])
    with pytest.raises(TruncatedPayloadError):
        opened(header, payload.getvalue(), ALICE)


def test_open_parts_fails_before_the_first_chunk_on_a_wrong_key() -> None:
    header, payload = stored_object(ALICE)
    with pytest.raises(NoMatchError):
        age.open_parts(header, io.BytesIO(payload), [BOB])
    chunks = list(age.open_parts(header, io.BytesIO(payload), [ALICE]))
    assert [len(chunk) for chunk in chunks] == [CHUNK_SIZE, 123]


def test_add_recipients_grants_access_without_touching_the_payload() -> None:
    header, payload = stored_object(ALICE)
    payload_digest = hashlib.sha256(payload).digest()
    granted = age.add_recipients(header, [ALICE], [BOB.recipient])
    assert age.inspect_header(granted) == ["mlkem768x25519", "mlkem768x25519"]
    assert granted.startswith(header.split(b"\n---")[0])  # existing stanzas kept as they were
    assert opened(granted, payload, BOB) == PLAINTEXT
    assert opened(granted, payload, ALICE) == PLAINTEXT
    assert hashlib.sha256(payload).digest() == payload_digest
    with pytest.raises(NoMatchError):
        opened(granted, payload, CAROL)


def test_only_a_current_recipient_can_grant() -> None:
    header, _ = stored_object(ALICE)
    with pytest.raises(NoMatchError):
        age.add_recipients(header, [BOB], [BOB.recipient])


def test_rewrite_recipients_revokes_a_removed_identity() -> None:
    header, payload = stored_object(ALICE, BOB)
    rewritten = age.rewrite_recipients(header, [ALICE], [ALICE.recipient, CAROL.recipient])
    assert opened(rewritten, payload, CAROL) == PLAINTEXT
    assert opened(rewritten, payload, ALICE) == PLAINTEXT
    with pytest.raises(NoMatchError):
        opened(rewritten, payload, BOB)


def test_post_quantum_and_x25519_recipients_are_not_mixed() -> None:
    classical = X25519Identity.generate()
    header, _ = stored_object(ALICE)
    with pytest.raises(IncompatibleRecipientsError):
        age.add_recipients(header, [ALICE], [classical.recipient])
    with pytest.raises(IncompatibleRecipientsError):
        age.encrypt(io.BytesIO(b"x"), io.BytesIO(), [ALICE.recipient, classical.recipient])


def test_join_refuses_a_damaged_header() -> None:
    header, payload = stored_object(ALICE)
    with pytest.raises(HeaderError):
        age.join(header[:-5], io.BytesIO(payload), io.BytesIO())


def test_payload_without_nonce_is_rejected() -> None:
    header, _ = stored_object(ALICE)
    with pytest.raises(HeaderError, match="nonce"):
        opened(header, b"short", ALICE)
