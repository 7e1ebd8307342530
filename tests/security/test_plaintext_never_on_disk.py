"""Plaintext a reporter sends without JavaScript never reaches the disk or a log.

A unique marker goes into the answers, the identity and a file larger than Werkzeug's
in-memory limit (500 KiB, past which it spools uploads to temporary files). Afterwards
the database, the blob folder, the system temporary folder and every captured log line
are searched for it.
"""

import io
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from config.logging import AllowListFormatter, configure_logging
from tests.helpers import csrf_token, submission_token
from tests.helpers.reporting import content_of

pytestmark = pytest.mark.database

WERKZEUG_MEMORY_LIMIT = 500 * 1024
_SKIP_LARGER_THAN = 512 * 1024 * 1024


def files_containing(root: Path, needle: bytes, since: float) -> list[Path]:
    found = []
    for directory, _subdirs, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            try:
                stat = path.stat()
                if stat.st_mtime < since or stat.st_size > _SKIP_LARGER_THAN:
                    continue
                if needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue  # vanished or unreadable: not ours
    return found


def test_marker_is_nowhere_on_disk_or_in_logs(client, db, settings, channel_with_handlers):
    marker = f"MARKER-{secrets.token_hex(12)}"
    started = time.time() - 1
    configure_logging("DEBUG")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keeper = Keep()
    logging.getLogger().addHandler(keeper)
    try:
        big_file = (marker.encode() + b"\n") * (3 * WERKZEUG_MEMORY_LIMIT // len(marker))
        assert len(big_file) > 2 * WERKZEUG_MEMORY_LIMIT
        # Encoded in memory: the test client would otherwise spool it to a temporary file.
        boundary, body = encode_multipart(MultiDict([
            ("csrf_token", csrf_token(client, "/report/corruption")),
            ("submission_token", submission_token(client, "/report/corruption")),
            ("q_what", f"The payment {marker} went to the minister's cousin."),
            ("q_where", marker),
            ("identity_name", f"Name {marker}"),
            ("q_evidence", FileStorage(io.BytesIO(big_file), f"{marker}.txt", "q_evidence",
                                       "text/plain")),
            ("q_evidence", FileStorage(io.BytesIO(marker.encode()), "small.txt", "q_evidence",
                                       "text/plain")),
        ]))
        response = client.post("/report/corruption", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 303
        receipt = client.get("/report/receipt")
        assert receipt.status_code == 200
    finally:
        logging.getLogger().removeHandler(keeper)

    # The report did arrive, whole: a handler can read the marker.
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert marker in content["answers"]["what"]

    needle = marker.encode()
    assert files_containing(settings.instance_dir, needle, started) == []
    assert files_containing(settings.blob_dir, needle, started) == []
    assert files_containing(Path(tempfile.gettempdir()), needle, started) == []
    lines = [AllowListFormatter().format(record) for record in records]
    assert all(marker not in line for line in lines)
