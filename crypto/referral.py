"""A referral package: what one authority hands another, as one age file.

The package is a zip (stored, not compressed) encrypted to the receiving authority's
recipient only. It holds the referred objects under ``objects/`` and two documents:

* ``manifest.json``: the format, the case reference, the referral date, the receiver,
  the referring installation's verifier key (C2SP signed-note, the audit log's key) and,
  for each object, its name, kind, size and SHA-256;
* ``manifest.sig``: a signed note by that key whose text is the SHA-256 of
  ``manifest.json``, so the one Ed25519 signature covers every object through its hash.

:func:`stream_package` writes it chunk by chunk (no plaintext ever reaches a disk);
:func:`verify_package` is the receiving side, for ``python -m crypto verify-referral``.
Everything in a package is untrusted to the verifier: each failure raises
:class:`ReferralError` with a message for the person running the check.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO, Final

from crypto.age import decrypt, seal_header
from crypto.checkpoint import open_note, sign_note
from crypto.errors import AgeError
from crypto.header import FileKey
from crypto.keys import Identity, Recipient
from crypto.stream import PayloadEncryptor

FORMAT: Final = "reporting-portal/referral/v1"
MANIFEST_NAME: Final = "manifest.json"
SIGNATURE_NAME: Final = "manifest.sig"
OBJECT_DIRECTORY: Final = "objects/"
# A name the package itself chose: no path, no control character, no surprise.
OBJECT_NAME: Final = re.compile(r"objects/[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
MAX_MANIFEST_BYTES: Final = 1024 * 1024
MAX_SIGNATURE_BYTES: Final = 64 * 1024
MAX_OBJECTS: Final = 10_000
# The verifier holds the opened package in memory: refuse anything larger.
MAX_PACKAGE_BYTES: Final = 2 * 1024 * 1024 * 1024
_CHUNK: Final = 64 * 1024
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")


class ReferralError(AgeError):
    """The package is not a valid, intact referral; the message says what failed."""


@dataclass(frozen=True)
class PackageEntry:
    """One object to put in a package: its name under ``objects/``, its kind, its bytes."""

    name: str
    kind: str
    chunks: Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class ReceivedObject:
    name: str
    kind: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Referral:
    """A verified package: every hash and the signature checked."""

    reference: str
    referred_on: date
    receiver: str
    verifier_key: str
    objects: tuple[ReceivedObject, ...]
    contents: dict[str, bytes]


def signature_text(manifest: bytes) -> str:
    """The text the installation signs: the format and the manifest's SHA-256."""
    return f"{FORMAT}\nsha256 {hashlib.sha256(manifest).hexdigest()}\n"


class _EncryptingSink:
    """A write-only file for ZipFile that encrypts as it is written; drained by take()."""

    def __init__(self, file_key: FileKey) -> None:
        self.buffer = bytearray()
        self.encryptor = PayloadEncryptor(self, file_key)

    def write(self, data: bytes | memoryview) -> int:  # the encryptor's ciphertext
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class _Plaintext:
    """What ZipFile writes to: plaintext, passed straight on to the encryptor."""

    def __init__(self, sink: _EncryptingSink) -> None:
        self._sink = sink
        self._position = 0

    def write(self, data: bytes) -> int:
        self._sink.encryptor.write(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None


def stream_package(
    recipient: Recipient, signer_key: str, *, reference: str, referred_on: date,
    receiver: str, verifier_key: str, entries: Iterable[PackageEntry],
) -> Iterator[bytes]:
    """The package as age ciphertext, chunk by chunk, for ``recipient`` alone.

    Each entry's bytes are hashed as they are zipped, so memory stays near one chunk
    whatever the objects' size; the manifest and its signature close the zip."""
    file_key = FileKey.generate()
    yield seal_header(file_key, [recipient])
    sink = _EncryptingSink(file_key)
    listed: list[dict[str, object]] = []
    with zipfile.ZipFile(_Plaintext(sink), "w",  # type: ignore[call-overload]
                         compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            if OBJECT_NAME.fullmatch(entry.name) is None:
                raise ValueError(f"not a package object name: {entry.name!r}")
            digest, size = hashlib.sha256(), 0
            with archive.open(zipfile.ZipInfo(entry.name), "w", force_zip64=True) as member:
                for chunk in entry.chunks():
                    digest.update(chunk)
                    size += len(chunk)
                    member.write(chunk)
                    if len(sink.buffer) >= _CHUNK:
                        yield sink.take()
            listed.append({"name": entry.name, "kind": entry.kind, "size": size,
                           "sha256": digest.hexdigest()})
        manifest = json.dumps({
            "format": FORMAT, "reference": reference, "referred_on": referred_on.isoformat(),
            "receiver": receiver, "verifier_key": verifier_key, "objects": listed,
        }, indent=2, ensure_ascii=True).encode("ascii")
        archive.writestr(MANIFEST_NAME, manifest)
        archive.writestr(SIGNATURE_NAME, sign_note(signature_text(manifest), signer_key))
    sink.encryptor.finish()
    yield sink.take()


class _BoundedBuffer(io.BytesIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self._limit:
            raise ReferralError(f"the package opens to more than {self._limit} bytes")
        return super().write(data)


def open_package(source: BinaryIO, identities: Iterable[Identity], *,
                 max_bytes: int = MAX_PACKAGE_BYTES) -> bytes:
    """Decrypt the age file; an identity that does not open it is an :class:`AgeError`."""
    opened = _BoundedBuffer(max_bytes)
    decrypt(source, opened, identities)
    return opened.getvalue()


def verify_package(source: BinaryIO, identities: Iterable[Identity], *,
                   verifier_key: str | None = None,
                   max_bytes: int = MAX_PACKAGE_BYTES) -> Referral:
    """Open a package and check it whole; ``verifier_key`` pins the expected signer.

    Without a pinned key the key stated in the manifest is used: that proves the package
    is intact as its signer made it, and the caller must compare the key printed with
    the referring installation's published one."""
    return verify_zip(open_package(source, identities, max_bytes=max_bytes),
                      verifier_key=verifier_key)


def verify_zip(opened: bytes, *, verifier_key: str | None = None) -> Referral:
    """Check an opened package (the zip): names, every hash, the manifest's signature."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(opened))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise ReferralError(f"the package is not a readable zip: {error}") from None
    names = [member.filename for member in members]
    if len(names) != len(set(names)):
        raise ReferralError("the package names one file twice")
    by_name = {member.filename: member for member in members}
    manifest_bytes = _read_member(archive, by_name, MANIFEST_NAME, MAX_MANIFEST_BYTES)
    signature = _read_member(archive, by_name, SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
    manifest = _parse_manifest(manifest_bytes)
    _check_signature(manifest_bytes, signature, verifier_key or manifest["verifier_key"])
    listed: list[ReceivedObject] = manifest["objects"]
    unlisted = set(names) - {MANIFEST_NAME, SIGNATURE_NAME} - {o.name for o in listed}
    if unlisted:
        raise ReferralError(f"the package holds a file the manifest does not list: "
                            f"{sorted(unlisted)[0]!r}")
    contents = {item.name: _checked_object(archive, by_name, item) for item in listed}
    return Referral(reference=manifest["reference"], referred_on=manifest["referred_on"],
                    receiver=manifest["receiver"], verifier_key=manifest["verifier_key"],
                    objects=tuple(listed), contents=contents)


def _read_member(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], name: str,
                 limit: int) -> bytes:
    member = by_name.get(name)
    if member is None:
        raise ReferralError(f"the package has no {name}")
    try:
        with archive.open(member) as stream:
            data = stream.read(limit + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
            EOFError, zlib.error) as error:
        raise ReferralError(f"{name} cannot be read: {error}") from None
    if len(data) > limit:
        raise ReferralError(f"{name} is larger than {limit} bytes")
    return data


def _checked_object(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo],
                    item: ReceivedObject) -> bytes:
    data = _read_member(archive, by_name, item.name, item.size)
    if len(data) != item.size:
        raise ReferralError(f"{item.name} has {len(data)} bytes, the manifest says {item.size}")
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), item.sha256):
        raise ReferralError(f"{item.name} does not match its SHA-256 in the manifest")
    return data


def _check_signature(manifest: bytes, signature: bytes, verifier_key: str) -> None:
    try:
        text = open_note(signature.decode("utf-8"), verifier_key)
    except UnicodeDecodeError:
        raise ReferralError("the manifest's signature is not text") from None
    except AgeError as error:  # CheckpointError: a bad key, a bad or missing signature
        raise ReferralError(f"the manifest's signature does not verify: {error}") from None
    if not hmac.compare_digest(text.encode("utf-8"), signature_text(manifest).encode("utf-8")):
        raise ReferralError("the signature is for another manifest")


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ReferralError("manifest.json is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ReferralError(f"manifest.json is not a {FORMAT} manifest")
    fields = {key: document.get(key) for key in ("reference", "referred_on", "receiver",
                                                 "verifier_key")}
    if not all(isinstance(value, str) and value for value in fields.values()):
        raise ReferralError("manifest.json lacks the reference, date, receiver or key")
    try:
        referred_on = date.fromisoformat(str(fields["referred_on"]))
    except ValueError:
        raise ReferralError("manifest.json's referral date is not a date") from None
    entries = document.get("objects")
    if not isinstance(entries, list) or len(entries) > MAX_OBJECTS:
        raise ReferralError("manifest.json's object list is missing or too long")
    objects = [_manifest_object(entry) for entry in entries]
    if len({o.name for o in objects}) != len(objects):
        raise ReferralError("manifest.json lists one object twice")
    return {**fields, "referred_on": referred_on, "objects": objects}


def _manifest_object(entry: object) -> ReceivedObject:
    if not isinstance(entry, dict):
        raise ReferralError("an entry of manifest.json's object list is not an object")
    name, kind, size, digest = (entry.get(key) for key in ("name", "kind", "size", "sha256"))
    if not isinstance(name, str) or OBJECT_NAME.fullmatch(name) is None:
        raise ReferralError("manifest.json names an object outside objects/ or oddly")
    if not isinstance(kind, str) or not kind.isascii() or not kind.isalpha():
        raise ReferralError(f"manifest.json gives {name} no kind")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_PACKAGE_BYTES:
        raise ReferralError(f"manifest.json gives {name} no valid size")
    if not isinstance(digest, str) or _SHA256_HEX.fullmatch(digest) is None:
        raise ReferralError(f"manifest.json gives {name} no SHA-256")
    return ReceivedObject(name=name, kind=kind, size=size, sha256=digest)
