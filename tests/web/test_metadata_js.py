"""The browser's metadata rules (web/src/metadata/), run under Node on the same sample
files as the server's: they name what each file reveals, and none of it survives."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from tests.helpers import metadata_samples as samples
from tests.helpers.web_packages import install_web_packages

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCRIPT = Path(__file__).with_name("clean_files.mjs")
# Made once: an ICC profile carries the second it was made, so two runs differ there.
SAMPLES = {sample.name: sample for sample in [
    *samples.all_samples(), samples.xlsx_with_notes(), samples.pptx_with_comments()]}


@pytest.fixture(scope="module")
def cleaned_by_js(tmp_path_factory) -> tuple[dict[str, dict], dict[str, bytes]]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed to test web/src/metadata")
        pytest.skip("node and npm are needed to test web/src/metadata")
    install_web_packages(npm)
    folder = tmp_path_factory.mktemp("samples")
    paths = []
    for sample in SAMPLES.values():
        (folder / sample.name).write_bytes(sample.data)
        paths.append(str(folder / sample.name))
    (folder / "notes.txt").write_bytes(b"plain words")
    paths.append(str(folder / "notes.txt"))
    bundle = folder / "metadata.bundle.mjs"
    run = subprocess.run([node, str(SCRIPT), str(bundle), *paths], capture_output=True,
                         check=False, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    cleaned = {p.name.removesuffix(".cleaned"): p.read_bytes()
               for p in folder.glob("*.cleaned")}
    return json.loads(run.stdout), cleaned


EXPECTED_FINDINGS = {
    "photo.jpg": ["gps", "camera", "author", "software", "times", "comments", "other"],
    "screen.png": ["gps", "camera", "author", "software", "times", "comments", "other"],
    "invoice.pdf": ["author", "software", "times", "comments", "other"],
    "minutes.docx": ["author", "organisation", "software", "times", "comments",
                     "trackedChanges"],
    "minutes.odt": ["author", "software", "times", "comments", "trackedChanges", "other"],
    "ledger.xlsx": ["organisation", "comments", "other"],
    "deck.pptx": ["comments"],
}


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=lambda s: s.name)
def test_the_page_names_what_each_file_reveals(cleaned_by_js, sample):
    report, _cleaned = cleaned_by_js
    assert report[sample.name] == {"findings": EXPECTED_FINDINGS[sample.name], "reason": None}


def _unpacked(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(info) for info in archive.infolist())


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=lambda s: s.name)
def test_none_of_the_metadata_survives_and_the_content_does(cleaned_by_js, sample):
    _report, cleaned = cleaned_by_js
    data = cleaned[sample.name]
    readable = _unpacked(data) if data.startswith(b"PK") else data
    for secret in sample.secrets:
        assert secret not in readable, secret
    for kept in sample.content:
        assert kept in readable, kept


def test_pictures_keep_every_pixel(cleaned_by_js):
    _report, cleaned = cleaned_by_js
    for name in ("photo.jpg", "screen.png"):
        after = Image.open(io.BytesIO(cleaned[name]))
        assert not after.getexif()
        assert after.tobytes() == Image.open(io.BytesIO(SAMPLES[name].data)).tobytes()


def test_the_cleaned_pdf_opens_with_its_page_and_no_info(cleaned_by_js):
    _report, cleaned = cleaned_by_js
    with pikepdf.open(io.BytesIO(cleaned["invoice.pdf"])) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert samples.PAGE_TEXT in pdf.pages[0].Contents.read_bytes()


def test_the_browser_and_the_server_clean_pictures_to_the_same_bytes(cleaned_by_js):
    from reporting_portal.domain.metadata_cleaning import clean_file

    _report, cleaned = cleaned_by_js
    for name in ("photo.jpg", "screen.png"):
        assert cleaned[name] == clean_file(SAMPLES[name].data)


def test_a_file_it_cannot_clean_is_named_as_such(cleaned_by_js):
    report, cleaned = cleaned_by_js
    assert report["notes.txt"] == {"findings": [], "reason": "unknownFormat"}
    assert "notes.txt" not in cleaned
