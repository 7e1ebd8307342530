"""Cryptography for the reporting portal: the age v1 file format and key handling.

A pure library on pyca/cryptography; it imports no web framework or database code.
Everything the platform encrypts is an age file, so exports open with ``age -d``.
"""

from __future__ import annotations

from crypto.age import (
    add_recipients,
    decrypt,
    decrypt_parts,
    encrypt,
    encrypt_payload,
    header_recipient_count,
    inspect_header,
    join,
    open_parts,
    replace_recipient,
    replace_recipient_in_file,
    rewrite_recipients,
    seal_header,
    split,
)
from crypto.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HMACError,
    IncompatibleRecipientsError,
    KeyFormatError,
    NoMatchError,
    PayloadError,
    TruncatedPayloadError,
)
from crypto.header import FileKey
from crypto.keys import (
    HybridIdentity,
    HybridRecipient,
    X25519Identity,
    X25519Recipient,
    generate_identity,
    parse_identities,
    parse_identity,
    parse_recipient,
    parse_recipients,
)
from crypto.stream import PayloadEncryptor

__all__ = [
    "AgeError",
    "ArmorError",
    "FileKey",
    "HMACError",
    "HeaderError",
    "HybridIdentity",
    "HybridRecipient",
    "IncompatibleRecipientsError",
    "KeyFormatError",
    "NoMatchError",
    "PayloadEncryptor",
    "PayloadError",
    "TruncatedPayloadError",
    "X25519Identity",
    "X25519Recipient",
    "add_recipients",
    "decrypt",
    "decrypt_parts",
    "encrypt",
    "encrypt_payload",
    "generate_identity",
    "header_recipient_count",
    "inspect_header",
    "join",
    "open_parts",
    "parse_identities",
    "parse_identity",
    "parse_recipient",
    "parse_recipients",
    "replace_recipient",
    "replace_recipient_in_file",
    "rewrite_recipients",
    "seal_header",
    "split",
]

# Key wrapping and receipt code exports are appended below this line.
