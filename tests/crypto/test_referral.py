"""A referral package (crypto/referral.py): the receiver opens it, and any change fails.

The package is untrusted to whoever runs ``verify-referral``: a wrong key, a changed
object, a changed manifest, an extra file, a signature by another key must each fail with
one clear :class:`ReferralError` (or the age error of a file that does not open), and no
input may raise anything else.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import age
from crypto.checkpoint import generate_signer_key, verifier_key_for
from crypto.cli import main
from crypto.errors import AgeError, NoMatchError
from crypto.keys import X25519Identity, generate_identity
from crypto.referral import (
    MANIFEST_NAME,
    PackageEntry,
    ReferralError,
    open_package,
    stream_package,
    verify_package,
    verify_zip,
)

RECEIVER = X25519Identity.generate()
SIGNER = generate_signer_key("reporting-portal/audit/0a1b2c3d")
VERIFIER = verifier_key_for(SIGNER)
EVIDENCE = b"%PDF-1.7 " + bytes(range(256)) * 600  # more than two 64 KiB chunks


def package(entries=None, *, recipient=RECEIVER.recipient, signer=SIGNER) -> bytes:
    entries = entries if entries is not None else [
        PackageEntry("objects/answers.json", "answers",
                     lambda: [b'{"answers": [{"question": "What", "answer": "[REDACTED]"}]}']),
        PackageEntry("objects/report-file-1-contract.pdf", "file",
                     lambda: [EVIDENCE[:70_000], EVIDENCE[70_000:]]),
    ]
    return b"".join(stream_package(
        recipient, signer, reference="Cq3x9", referred_on=date(2026, 12, 2),
        receiver="Public Prosecutor", verifier_key=verifier_key_for(signer), entries=entries))


def opened(sealed: bytes) -> bytes:
    return open_package(io.BytesIO(sealed), [RECEIVER])


def rezipped(opened_zip: bytes, changes: dict[str, bytes],
             extra: dict[str, bytes] | None = None) -> bytes:
    """The same zip with members replaced, each with a valid CRC: only the hashes can tell."""
    source = zipfile.ZipFile(io.BytesIO(opened_zip))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, changes.get(name, source.read(name)))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def test_the_receiver_opens_the_package_and_every_hash_and_the_signature_hold() -> None:
    referral = verify_package(io.BytesIO(package()), [RECEIVER], verifier_key=VERIFIER)
    assert referral.reference == "Cq3x9"
    assert referral.referred_on == date(2026, 12, 2)
    assert referral.receiver == "Public Prosecutor"
    assert [(o.name, o.kind, o.size) for o in referral.objects] == [
        ("objects/answers.json", "answers", 59),
        ("objects/report-file-1-contract.pdf", "file", len(EVIDENCE))]
    assert referral.contents["objects/report-file-1-contract.pdf"] == EVIDENCE


def test_only_the_receivers_identity_opens_it() -> None:
    with pytest.raises(NoMatchError):
        verify_package(io.BytesIO(package()), [X25519Identity.generate()])


def test_a_post_quantum_receiver_opens_it_too() -> None:
    receiver = generate_identity(post_quantum=True)
    sealed = package(recipient=receiver.recipient)
    assert verify_package(io.BytesIO(sealed), [receiver]).reference == "Cq3x9"


def test_one_changed_byte_of_an_object_fails() -> None:
    changed = bytearray(EVIDENCE)
    changed[1000] ^= 0x01
    tampered = rezipped(opened(package()), {"objects/report-file-1-contract.pdf": bytes(changed)})
    with pytest.raises(ReferralError, match="does not match its SHA-256"):
        verify_zip(tampered, verifier_key=VERIFIER)


def test_one_changed_byte_of_the_manifest_fails() -> None:
    original = opened(package())
    manifest = zipfile.ZipFile(io.BytesIO(original)).read(MANIFEST_NAME)
    changed = manifest.replace(b"Public Prosecutor", b"Public Prosecutos")
    with pytest.raises(ReferralError, match="signature is for another manifest"):
        verify_zip(rezipped(original, {MANIFEST_NAME: changed}), verifier_key=VERIFIER)


def test_a_changed_byte_in_the_zip_as_sent_fails_its_check() -> None:
    original = bytearray(opened(package()))
    original[original.index(b"%PDF-1.7") + 3] ^= 0x01  # CRC no longer matches
    with pytest.raises(ReferralError):
        verify_zip(bytes(original), verifier_key=VERIFIER)


def test_a_file_the_manifest_does_not_list_fails() -> None:
    tampered = rezipped(opened(package()), {}, extra={"objects/planted.exe": b"MZ"})
    with pytest.raises(ReferralError, match="does not list"):
        verify_zip(tampered, verifier_key=VERIFIER)


def test_a_package_signed_by_another_key_fails_against_the_pinned_key() -> None:
    impostor = generate_signer_key("reporting-portal/audit/0a1b2c3d")
    sealed = package(signer=impostor)
    assert verify_package(io.BytesIO(sealed), [RECEIVER]).verifier_key != VERIFIER
    with pytest.raises(ReferralError, match="signature does not verify"):
        verify_package(io.BytesIO(sealed), [RECEIVER], verifier_key=VERIFIER)


def test_an_oversized_package_is_refused_before_it_fills_memory() -> None:
    with pytest.raises(ReferralError, match="more than"):
        open_package(io.BytesIO(package()), [RECEIVER], max_bytes=50_000)


def test_verify_referral_lists_what_was_received(tmp_path, capsys) -> None:
    sealed = tmp_path / "referral.age"
    sealed.write_bytes(package())
    identity = tmp_path / "authority.txt"
    identity.write_text(RECEIVER.to_string() + "\n")
    assert main(["verify-referral", str(sealed), "-i", str(identity), "--key", VERIFIER]) == 0
    listing = capsys.readouterr().out
    assert "Referral of case Cq3x9 on 2026-12-02 to Public Prosecutor" in listing
    assert "objects/report-file-1-contract.pdf" in listing
    assert "(the key given with --key)" in listing


def test_verify_referral_exits_non_zero_with_one_clear_line(tmp_path, capsys) -> None:
    changed = bytearray(package())
    changed[-20] ^= 0x01
    sealed = tmp_path / "referral.age"
    sealed.write_bytes(bytes(changed))
    identity = tmp_path / "authority.txt"
    identity.write_text(RECEIVER.to_string() + "\n")
    assert main(["verify-referral", str(sealed), "-i", str(identity)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("python -m crypto verify-referral: verification failed:")
    assert error.count("\n") == 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_as_an_opened_package_raise_only_a_referral_error(data: bytes) -> None:
    with pytest.raises(ReferralError):
        verify_zip(data)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(JSON, st.sampled_from(["objects", "format", "reference", "verifier_key"]))
def test_any_manifest_is_refused_cleanly(value, key) -> None:
    original = opened(package())
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(original)).read(MANIFEST_NAME))
    manifest[key] = value
    tampered = rezipped(original, {MANIFEST_NAME: json.dumps(manifest).encode()})
    with pytest.raises(ReferralError):
        verify_zip(tampered, verifier_key=VERIFIER)


SEALED = package([PackageEntry("objects/answers.json", "answers", lambda: [b'{"a": 1}'])])


@settings(max_examples=120, deadline=None)
@given(st.integers(min_value=0, max_value=len(SEALED) - 1), st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_of_the_age_file_fails(position: int, bit: int) -> None:
    changed = bytearray(SEALED)
    changed[position] ^= 1 << bit
    with pytest.raises(AgeError):
        verify_package(io.BytesIO(bytes(changed)), [RECEIVER], verifier_key=VERIFIER)


def test_age_decrypts_a_package_as_any_age_file() -> None:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(package()), out, [RECEIVER])
    assert zipfile.ZipFile(out).namelist()[-2:] == ["manifest.json", "manifest.sig"]
