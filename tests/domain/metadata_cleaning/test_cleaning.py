"""Each format's cleaning, on real files with known metadata: none of it survives, byte
for byte, and the content does (issue 18)."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from PIL import Image

from reporting_portal.domain.metadata_cleaning import (
    MAX_CLEANABLE_BYTES,
    CannotClean,
    FileFormat,
    Reason,
    clean_file,
    detect_format,
)
from tests.helpers import metadata_samples as samples


def _scan_data(jpeg: bytes) -> bytes:
    """From the first scan header to the end marker: the picture itself."""
    return jpeg[jpeg.index(b"\xff\xda"):jpeg.rindex(b"\xff\xd9") + 2]


@pytest.mark.parametrize("sample", samples.all_samples(), ids=lambda s: s.name)
def test_no_metadata_survives_and_the_content_does(sample):
    for secret in sample.secrets:
        assert secret in sample.data or sample.name.endswith((".docx", ".odt")), secret
    cleaned = clean_file(sample.data)
    for secret in sample.secrets:
        assert secret not in cleaned, secret
    for kept in sample.content:
        assert kept in cleaned or sample.name.endswith((".docx", ".odt")), kept


def test_a_jpeg_loses_exif_gps_xmp_and_comment_but_not_a_pixel():
    sample = samples.jpeg_with_gps()
    before = Image.open(io.BytesIO(sample.data))
    assert before.getexif().get_ifd(0x8825)  # the sample does carry a GPS position
    cleaned = clean_file(sample.data)
    after = Image.open(io.BytesIO(cleaned))
    assert not after.getexif()
    assert "comment" not in after.info
    assert "xmp" not in after.info
    assert after.info["icc_profile"] == samples.srgb_profile()  # colours kept
    assert _scan_data(cleaned) == _scan_data(sample.data)  # losslessly: not re-encoded
    assert after.tobytes() == before.tobytes()


def test_a_png_loses_its_text_time_and_exif_chunks_but_not_a_pixel():
    sample = samples.png_with_text()
    cleaned = clean_file(sample.data)
    after = Image.open(io.BytesIO(cleaned))
    assert set(after.info) <= {"icc_profile", "dpi"}
    assert after.tobytes() == Image.open(io.BytesIO(sample.data)).tobytes()


def test_a_pdf_loses_info_xmp_and_comment_authors_and_keeps_its_page():
    sample = samples.pdf_with_info_and_xmp()
    cleaned = clean_file(sample.data)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        page = pdf.pages[0]
        assert page.Contents.read_bytes() == (
            b"BT /F1 12 Tf 10 100 Td (" + samples.PAGE_TEXT + b") Tj ET")
        annotation = page.Annots[0]
        assert str(annotation.Contents) == "check this"
        assert "/T" not in annotation
        assert "/M" not in annotation


def test_a_password_protected_pdf_is_refused_as_encrypted():
    sample = samples.pdf_with_info_and_xmp()
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(sample.data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="user"))
    with pytest.raises(CannotClean) as refused:
        clean_file(out.getvalue())
    assert refused.value.reason == Reason.ENCRYPTED


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_docx_loses_its_properties_comments_and_revision_authors():
    sample = samples.docx_with_author()
    cleaned = clean_file(sample.data)
    parts = _parts(cleaned)
    assert set(parts) == set(_parts(sample.data))  # no relationship left dangling
    for content in parts.values():
        for secret in sample.secrets:
            assert secret not in content, secret
    document = parts["word/document.xml"]
    for kept in sample.content:
        assert kept in document
    assert b'<w:ins w:id="1" w:author=""><w:r>' in document  # the change stays, unsigned
    assert b"commentReference" not in document
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_an_odt_loses_meta_comments_change_authors_and_printer():
    sample = samples.odt_with_meta()
    cleaned = clean_file(sample.data)
    parts = _parts(cleaned)
    for content in parts.values():
        for secret in sample.secrets:
            assert secret not in content, secret
    assert samples.BODY_TEXT in parts["content.xml"]
    assert samples.INSERTED_TEXT in parts["content.xml"]
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED  # still a valid OpenDocument
    assert detect_format(cleaned) == FileFormat.ODF


@pytest.mark.parametrize(("data", "reason"), [
    (b"GIF89a" + bytes(20), Reason.UNKNOWN_FORMAT),
    (b"plain words in a text file", Reason.UNKNOWN_FORMAT),
    (b"\xff\xd8\xff\xe1\x00\xff", Reason.DAMAGED),
    (b"\x89PNG\r\n\x1a\n\x00\x00", Reason.DAMAGED),
    (b"PK\x03\x04 not a zip", Reason.UNKNOWN_FORMAT),
])
def test_what_cannot_be_cleaned_says_why(data, reason):
    with pytest.raises(CannotClean) as refused:
        clean_file(data)
    assert refused.value.reason == reason


def test_a_file_over_the_bound_is_refused_before_any_work():
    with pytest.raises(CannotClean) as refused:
        clean_file(b"\xff\xd8\xff" + bytes(MAX_CLEANABLE_BYTES))
    assert refused.value.reason == Reason.TOO_LARGE


def test_a_zip_bomb_is_refused_not_unpacked(monkeypatch):
    from reporting_portal.domain.metadata_cleaning import ooxml

    monkeypatch.setattr(ooxml, "MAX_UNPACKED_BYTES", 1000)
    bomb = samples._zip([("[Content_Types].xml", b"<Types/>"), ("word/big.xml", bytes(5000))])
    with pytest.raises(CannotClean) as refused:
        clean_file(bomb)
    assert refused.value.reason == Reason.TOO_LARGE


@pytest.mark.parametrize("sample", [samples.xlsx_with_notes(), samples.pptx_with_comments()],
                         ids=lambda s: s.name)
def test_spreadsheets_and_presentations_lose_notes_users_and_paths(sample):
    parts = _parts(clean_file(sample.data))
    everything = b"".join(parts.values())
    for secret in sample.secrets:
        assert secret not in everything, secret
    for kept in sample.content:
        assert kept in everything
    if "xl/comments1.xml" in parts:  # Excel needs both lists, even empty
        assert parts["xl/comments1.xml"].endswith(b"><authors/><commentList/></comments>")
    if "ppt/commentAuthors.xml" in parts:
        assert parts["ppt/commentAuthors.xml"].endswith(b"></p:cmAuthorLst>")
