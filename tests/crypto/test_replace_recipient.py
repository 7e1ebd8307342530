"""Key rotation by header rewrite: ``replace_recipient`` moves a grant from one key to
another, keeps every other recipient, and leaves the payload byte for byte as it was."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto import (
    HMACError,
    IncompatibleRecipientsError,
    NoMatchError,
    decrypt,
    decrypt_parts,
    encrypt,
    encrypt_payload,
    inspect_header,
    join,
    replace_recipient,
    replace_recipient_in_file,
    seal_header,
)
from crypto.keys import FallbackIdentity, HybridIdentity, X25519Identity, parse_identities
from tests.helpers.interop import run_js, unavailable

PLAINTEXT = os.urandom(2 * 64 * 1024 + 123)


def stored_object(recipients: list) -> tuple[bytes, bytes]:
    """An object as the portal stores it: header apart, payload apart."""
    payload = io.BytesIO()
    file_key = encrypt_payload(io.BytesIO(PLAINTEXT), payload)
    return seal_header(file_key, recipients), payload.getvalue()


def opens(header: bytes, payload: bytes, identity) -> bool:
    out = io.BytesIO()
    try:
        decrypt_parts(header, io.BytesIO(payload), out, [identity])
    except NoMatchError:
        return False
    assert out.getvalue() == PLAINTEXT
    return True


@pytest.mark.parametrize("kind", [HybridIdentity, X25519Identity])
def test_the_new_key_opens_the_old_does_not_and_everyone_else_still_does(kind) -> None:
    old, new, handler, custodian = (kind.generate() for _ in range(4))
    header, payload = stored_object([handler.recipient, old.recipient, custodian.recipient])

    rotated = replace_recipient(header, old, new.recipient)

    assert opens(rotated, payload, new)
    assert not opens(rotated, payload, old)
    assert opens(rotated, payload, handler)
    assert opens(rotated, payload, custodian)
    assert len(inspect_header(rotated)) == 3


def test_the_other_stanzas_are_kept_byte_for_byte_and_the_old_one_is_gone() -> None:
    old, new, handler = (X25519Identity.generate() for _ in range(3))
    header, _ = stored_object([handler.recipient, old.recipient])
    handler_stanza = header.split(b"\n-> ")[1].split(b"\n")[0:2]

    rotated = replace_recipient(header, old, new.recipient)

    lines = rotated.split(b"\n")
    assert lines[1:3] == [b"-> " + handler_stanza[0], handler_stanza[1]]
    assert header.split(b"\n")[3] not in rotated  # the old stanza's share


def test_every_stanza_of_the_old_key_is_dropped() -> None:
    old, new, handler = (HybridIdentity.generate() for _ in range(3))
    payload = io.BytesIO()
    file_key = encrypt_payload(io.BytesIO(PLAINTEXT), payload)
    # Granted twice (two paths led to the same key): both stanzas go.
    header = seal_header(file_key, [old.recipient, handler.recipient, old.recipient])

    rotated = replace_recipient(header, old, new.recipient)

    assert len(inspect_header(rotated)) == 2
    assert not opens(rotated, payload.getvalue(), old)
    assert opens(rotated, payload.getvalue(), new)


def test_a_header_the_old_key_does_not_open_is_refused_and_a_second_run_changes_nothing() -> None:
    old, new, handler = (HybridIdentity.generate() for _ in range(3))
    header, _ = stored_object([handler.recipient, old.recipient])
    rotated = replace_recipient(header, old, new.recipient)

    with pytest.raises(NoMatchError):
        replace_recipient(rotated, old, new.recipient)
    with pytest.raises(NoMatchError):
        replace_recipient(header, HybridIdentity.generate(), new.recipient)


def test_a_tampered_header_is_refused_rather_than_re_signed() -> None:
    old, new, handler = (X25519Identity.generate() for _ in range(3))
    header, _ = stored_object([handler.recipient, old.recipient])
    mac_at = header.rindex(b"--- ") + 4
    flipped = header[:mac_at] + (b"A" if header[mac_at:mac_at + 1] != b"A" else b"B") \
        + header[mac_at + 1:]

    with pytest.raises(HMACError):
        replace_recipient(flipped, old, new.recipient)


def test_a_classical_key_cannot_replace_a_post_quantum_one() -> None:
    old, handler = HybridIdentity.generate(), HybridIdentity.generate()
    header, _ = stored_object([handler.recipient, old.recipient])

    with pytest.raises(IncompatibleRecipientsError):
        replace_recipient(header, old, X25519Identity.generate().recipient)


def test_a_sealed_text_keeps_its_payload_bytes() -> None:
    old, new, custodian = (HybridIdentity.generate() for _ in range(3))
    sealed = io.BytesIO()
    encrypt(io.BytesIO(b"justification"), sealed, [custodian.recipient, old.recipient])
    original = sealed.getvalue()
    header_end = original.index(b"\n--- ") + 1
    header_end = original.index(b"\n", header_end) + 1

    rotated = replace_recipient_in_file(original, old, new.recipient)

    assert rotated.endswith(original[header_end:])
    for identity, expected in ((new, True), (custodian, True), (old, False)):
        out = io.BytesIO()
        try:
            decrypt(io.BytesIO(rotated), out, [identity])
        except NoMatchError:
            assert not expected
        else:
            assert expected
            assert out.getvalue() == b"justification"


def test_during_a_rotation_either_key_opens_through_a_fallback_identity() -> None:
    old, new = HybridIdentity.generate(), HybridIdentity.generate()
    not_yet, payload = stored_object([old.recipient])
    done = replace_recipient(not_yet, old, new.recipient)
    both = FallbackIdentity(new, old)

    assert opens(not_yet, payload, both)
    assert opens(done, payload, both)
    assert not opens(not_yet, payload, new)
    assert not opens(done, payload, old)


@pytest.mark.interop
def test_the_age_cli_opens_a_rotated_x25519_object_with_the_new_key(tmp_path: Path) -> None:
    age_cli = shutil.which("age")
    if age_cli is None or shutil.which("age-keygen") is None:
        unavailable("the age CLI is not installed (apt install age)")
    key_file = tmp_path / "new.txt"
    subprocess.run(["age-keygen", "-o", str(key_file)], check=True, capture_output=True)
    [new] = parse_identities(key_file.read_text())
    old, handler = X25519Identity.generate(), X25519Identity.generate()
    header, payload = stored_object([old.recipient, handler.recipient])
    joined = io.BytesIO()
    join(replace_recipient(header, old, new.recipient), io.BytesIO(payload), joined)

    result = subprocess.run([age_cli, "-d", "-i", str(key_file)], input=joined.getvalue(),
                            capture_output=True, check=True)

    assert result.stdout == PLAINTEXT
    assert joined.getvalue().endswith(payload)


@pytest.mark.interop
def test_the_age_encryption_package_opens_a_rotated_hybrid_object(node: str) -> None:
    identity_text, recipient = run_js(node, "keygen.mjs").decode().split()
    [new] = parse_identities(identity_text)
    old, handler = HybridIdentity.generate(), HybridIdentity.generate()
    header, payload = stored_object([old.recipient, handler.recipient])
    joined = io.BytesIO()
    join(replace_recipient(header, old, new.recipient), io.BytesIO(payload), joined)

    assert str(new.recipient) == recipient
    assert run_js(node, "decrypt.mjs", stdin=joined.getvalue(), identity=identity_text) \
        == PLAINTEXT
