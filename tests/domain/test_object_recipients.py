"""An object's header is sealed once to each recipient, given as a string or as a key."""

from __future__ import annotations

import io

from crypto import FileKey, PayloadEncryptor, decrypt_parts, inspect_header
from crypto.keys import generate_identity
from reporting_portal.domain.objects import distinct_recipients, seal_for


def test_a_key_given_as_its_string_and_as_itself_gets_one_stanza() -> None:
    handler, reporter = generate_identity(), generate_identity()
    handler_key, reporter_key = str(handler.recipient), reporter.recipient

    recipients = distinct_recipients([handler_key, reporter_key, str(reporter_key), handler_key])

    assert [str(r) for r in recipients] == [handler_key, str(reporter_key)]
    header = seal_for(FileKey.generate(), [handler_key, reporter_key, str(reporter_key)])
    assert inspect_header(header) == ["mlkem768x25519", "mlkem768x25519"]


def test_the_key_made_in_the_request_opens_what_is_sealed_to_it() -> None:
    reporter = generate_identity()
    file_key = FileKey.generate()
    header = seal_for(file_key, [reporter.recipient])
    payload = io.BytesIO()
    with PayloadEncryptor(payload, file_key) as encryptor:
        encryptor.write(b"what I sent")
    opened = io.BytesIO()
    decrypt_parts(header, io.BytesIO(payload.getvalue()), opened, [reporter])
    assert opened.getvalue() == b"what I sent"
