"""An exported case names its objects only inside the encrypted manifest (issue 15, item 10)."""

import io
import json
import zipfile

import pytest

from crypto import NoMatchError, decrypt
from crypto.keys import generate_identity, parse_identity
from tests.helpers import csrf_token, hidden_fields
from tests.helpers.reporting import CASE_FILE_NAME, MULTIPART, multipart_body

pytestmark = pytest.mark.database


def _open(sealed: bytes, identity: str) -> dict:
    plaintext = io.BytesIO()
    decrypt(io.BytesIO(sealed), plaintext, [parse_identity(identity)])
    return json.loads(plaintext.getvalue())


def test_the_encrypted_manifest_names_each_object_and_its_place(
    client, case_with_file, sign_in, channel_with_handlers, installed
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    client.post(f"{path}/messages", data={"csrf_token": csrf_token(client, path),
                                         "reply": "Did anyone else see it?"})
    body = multipart_body([("csrf_token", csrf_token(client, path)), ("reply", "Two files."),
                           ("attachments", ("minutes.pdf", b"minutes")),
                           ("attachments", ("photo.jpg", b"photo"))])
    assert client.post(f"{path}/messages", data=body, content_type=MULTIPART).status_code == 302

    export = client.post(f"{path}/export", data=hidden_fields(client, path))
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    public = archive.read("manifest.json")
    for name in (b"minutes", b"photo", CASE_FILE_NAME.encode()):
        assert name not in public  # names are content: never in the clear

    sealed = archive.read("manifest.age")
    manifest = _open(sealed, channel_with_handlers["hana"].identity)
    assert manifest == _open(sealed, installed.recovery_identity)
    with pytest.raises(NoMatchError):
        _open(sealed, generate_identity().to_string())  # nobody else's key opens it
    by_place = {entry["place"]: entry for entry in manifest["objects"]}
    assert by_place["report, file 1"]["original_name"] == CASE_FILE_NAME
    assert by_place["message 2, file 1"]["original_name"] == "minutes.pdf"
    assert by_place["message 2, file 2"]["original_name"] == "photo.jpg"
    assert by_place["message 1"]["original_name"] is None
    assert {"report", "message 1", "message 2"} <= set(by_place)
    # Every entry points at a file of the zip.
    assert {entry["file"] for entry in manifest["objects"]} <= set(archive.namelist())


def test_the_readme_says_which_age_opens_post_quantum_keys(client, case_with_file, sign_in,
                                                           channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    export = client.post(f"{path}/export", data=hidden_fields(client, path))
    readme = zipfile.ZipFile(io.BytesIO(export.data)).read("README.txt").decode()
    assert "age 1.3 or later" in readme
    assert "python -m crypto" in readme
    assert "manifest.age" in readme
