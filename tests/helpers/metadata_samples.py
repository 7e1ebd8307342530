"""Real files carrying known metadata, made here, for the cleaning tests (issue 18).

Each sample names the strings that must not survive cleaning (``secrets``) and those of
its content that must (``content``). The JPEG and PNG are written by Pillow, the PDF by
pikepdf, the DOCX and ODT by zipfile following ECMA-376 and ODF 1.3.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from fractions import Fraction

import pikepdf
from PIL import Image, ImageCms, PngImagePlugin


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    secrets: tuple[bytes, ...]
    content: tuple[bytes, ...]


CAMERA = b"SpyCam Inc"
CAMERA_SERIAL = b"SN-4417-0099"
AUTHOR = b"Alice Whistle"
ORGANISATION = b"Ministry of Quiet Affairs"
REVISER = b"Bob Insider"
COMMENTER = b"Carol Commenter"
SOFTWARE = b"LeakyEditor 9.1"
PRINTER = b"HR-Floor3-Printer"
XMP_PACKET = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/'
              b'1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/'
              b'elements/1.1/"><dc:creator>' + AUTHOR + b"</dc:creator></rdf:Description>"
              b"</rdf:RDF></x:xmpmeta>")


def picture() -> Image.Image:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    for x in range(0, 64, 8):
        for y in range(48):
            image.putpixel((x, y), (10, 120, 240))
    return image


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA.decode()  # Make
    exif[0x0110] = "Model X-17"  # Model
    exif[0x0131] = SOFTWARE.decode()  # Software
    exif[0x013B] = AUTHOR.decode()  # Artist
    exif[0x0132] = "2026:11:30 18:04:59"  # DateTime
    exif.get_ifd(0x8769)[0xA431] = CAMERA_SERIAL.decode()  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (Fraction(51), Fraction(30), Fraction(1234, 100))
    gps[3] = "E"
    gps[4] = (Fraction(0), Fraction(7), Fraction(3912, 100))
    return exif


def jpeg_with_gps() -> Sample:
    out = io.BytesIO()
    picture().save(out, "JPEG", quality=90, exif=camera_exif(), xmp=XMP_PACKET,
                   comment=b"Taken by " + AUTHOR, icc_profile=srgb_profile())
    return Sample("photo.jpg", out.getvalue(),
                  secrets=(CAMERA, CAMERA_SERIAL, AUTHOR, SOFTWARE, b"Exif\x00\x00",
                           b"2026:11:30", b"xmpmeta"),
                  content=(b"ICC_PROFILE\x00",))


def png_with_text() -> Sample:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR.decode())
    info.add_text("Software", SOFTWARE.decode(), zip=True)
    info.add_itxt("Comment", "Sent from the office of " + ORGANISATION.decode())
    info.add(b"tIME", bytes([0x07, 0xEA, 11, 30, 18, 4, 59]))
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info, exif=camera_exif(), icc_profile=srgb_profile())
    return Sample("screen.png", out.getvalue(),
                  secrets=(AUTHOR, b"tEXt", b"zTXt", b"iTXt", b"tIME", b"eXIf", CAMERA),
                  content=(b"IHDR", b"iCCP", b"IDAT"))


PAGE_TEXT = b"Invoice 77 was paid twice"


def pdf_with_info_and_xmp() -> Sample:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 12 Tf 10 100 Td (" + PAGE_TEXT + b") Tj ET")
    page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[10, 10, 30, 30],
        Contents=pikepdf.String("check this"), T=pikepdf.String(COMMENTER.decode()),
        M=pikepdf.String("D:20261130180459")))]))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR.decode()]
        meta["xmp:CreatorTool"] = SOFTWARE.decode()
    pdf.docinfo["/Author"] = AUTHOR.decode()
    pdf.docinfo["/Creator"] = SOFTWARE.decode()
    pdf.docinfo["/Producer"] = ORGANISATION.decode()
    pdf.docinfo["/CreationDate"] = "D:20261130180459"
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return Sample("invoice.pdf", out.getvalue(),
                  secrets=(AUTHOR, SOFTWARE, ORGANISATION, COMMENTER, b"D:20261130",
                           b"xmpmeta"),
                  content=(PAGE_TEXT, b"check this"))


W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
BODY_TEXT = b"The tender was rigged"
INSERTED_TEXT = b"and the minutes rewritten"


def _zip(parts: list[tuple[str, bytes]], *, first_stored: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(parts):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 30, 18, 4, 58))
            stored = first_stored and index == 0
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def docx_with_author() -> Sample:
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + W
        + b'><w:body><w:p w:rsidR="00A1B2C3"><w:r><w:t>' + BODY_TEXT + b"</w:t></w:r>"
        + b'<w:commentRangeStart w:id="0"/><w:ins w:id="1" w:author="' + REVISER
        + b'" w:date="2026-11-30T18:04:00Z"><w:r><w:t xml:space="preserve"> '
        + INSERTED_TEXT + b"</w:t></w:r></w:ins>"
        + b'<w:del w:id="2" w:author="' + REVISER + b'" w:date="2026-11-30T18:05:00Z">'
        + b"<w:r><w:delText>deleted words</w:delText></w:r></w:del>"
        + b'<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>'
        + b"</w:p></w:body></w:document>")
    comments = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:comments '
                + W + b'><w:comment w:id="0" w:author="' + COMMENTER + b'" w:initials="CC">'
                + b"<w:p><w:r><w:t>ask legal about this</w:t></w:r></w:p></w:comment>"
                + b"</w:comments>")
    core = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-'
            b'properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
            b'"http://purl.org/dc/terms/"><dc:creator>' + AUTHOR + b"</dc:creator>"
            b"<cp:lastModifiedBy>" + REVISER + b"</cp:lastModifiedBy><dcterms:created>"
            b"2026-11-30T18:04:59Z</dcterms:created></cp:coreProperties>")
    app = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns='
           b'"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           b"<Company>" + ORGANISATION + b"</Company><Application>" + SOFTWARE
           + b"</Application></Properties>")
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
        b'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
        b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
        b'Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
        b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'wordprocessingml.document.main+xml"/><Override PartName="/word/comments.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
        b'comments+xml"/><Override PartName="/docProps/core.xml" ContentType="application/'
        b'vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/'
        b'app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-'
        b'properties+xml"/></Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/officeDocument" Target="word/document.xml"/>'
            b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            b'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            b"</Relationships>")
    document_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
        b'"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
        b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/comments" Target="comments.xml"/></Relationships>')
    data = _zip([("[Content_Types].xml", content_types), ("_rels/.rels", rels),
                 ("docProps/core.xml", core), ("docProps/app.xml", app),
                 ("word/document.xml", document), ("word/_rels/document.xml.rels",
                                                   document_rels),
                 ("word/comments.xml", comments)])
    return Sample("minutes.docx", data,
                  secrets=(AUTHOR, REVISER, COMMENTER, ORGANISATION, SOFTWARE,
                           b"ask legal", b"2026-11-30", b"00A1B2C3"),
                  content=(BODY_TEXT, INSERTED_TEXT, b"deleted words"))


ODF_NS = (b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          b'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          b'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          b'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"')


def odt_with_meta() -> Sample:
    meta = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta ' + ODF_NS
            + b' office:version="1.3"><office:meta><meta:initial-creator>' + AUTHOR
            + b"</meta:initial-creator><dc:creator>" + REVISER + b"</dc:creator>"
            + b"<meta:generator>" + SOFTWARE + b"</meta:generator><dc:date>"
            + b"2026-11-30T18:04:59</dc:date></office:meta></office:document-meta>")
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content ' + ODF_NS
        + b' office:version="1.3"><office:body><office:text><text:tracked-changes>'
        + b'<text:changed-region text:id="ct1"><text:insertion><office:change-info>'
        + b"<dc:creator>" + REVISER + b"</dc:creator><dc:date>2026-11-30T18:05:00"
        + b"</dc:date></office:change-info></text:insertion></text:changed-region>"
        + b"</text:tracked-changes><text:p>" + BODY_TEXT
        + b'<office:annotation office:name="a1"><dc:creator>' + COMMENTER
        + b"</dc:creator><dc:date>2026-11-30T18:06:00</dc:date><text:p>ask legal"
        + b'</text:p></office:annotation><text:change-start text:change-id="ct1"/>'
        + INSERTED_TEXT + b'<text:change-end text:change-id="ct1"/>'
        + b'<office:annotation-end office:name="a1"/></text:p></office:text></office:body>'
        + b"</office:document-content>")
    settings = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-settings '
                + ODF_NS + b'><office:settings><config:config-item-set config:name="ooo:'
                + b'configuration-settings"><config:config-item config:name="PrinterName" '
                + b'config:type="string">' + PRINTER + b"</config:config-item>"
                + b"</config:config-item-set></office:settings></office:document-settings>")
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
                b'"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type="'
                b'application/vnd.oasis.opendocument.text"/></manifest:manifest>')
    data = _zip([("mimetype", b"application/vnd.oasis.opendocument.text"),
                 ("META-INF/manifest.xml", manifest), ("meta.xml", meta),
                 ("content.xml", content), ("settings.xml", settings)], first_stored=True)
    return Sample("minutes.odt", data,
                  secrets=(AUTHOR, REVISER, COMMENTER, SOFTWARE, PRINTER, b"ask legal",
                           b"2026-11-30"),
                  content=(BODY_TEXT, INSERTED_TEXT, b"application/vnd.oasis.opendocument"))


def all_samples() -> list[Sample]:
    return [jpeg_with_gps(), png_with_text(), pdf_with_info_and_xmp(), docx_with_author(),
            odt_with_meta()]


SHEET_TEXT = b"Payments to shell company"
SLIDE_TEXT = b"Quarterly kickbacks"


def xlsx_with_notes() -> Sample:
    """A workbook part set with a note by :data:`COMMENTER`, a shared-workbook user and
    the folder it was saved in (Excel's ``x15ac:absPath``)."""
    workbook = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x15ac='
                b'"http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac">'
                b'<fileSharing userName="' + REVISER + b'"/><x15ac:absPath url="C:\\Users\\'
                + b'alice.whistle\\Documents\\"/><sheets><sheet name="Sheet1" sheetId="1"/>'
                b"</sheets></workbook>")
    strings = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
               b'schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + SHEET_TEXT
               + b"</t></si></sst>")
    notes = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns='
             b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>'
             + COMMENTER + b'</author></authors><commentList><comment ref="A1" authorId="0">'
             b"<text><t>ask legal</t></text></comment></commentList></comments>")
    app = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns='
           b'"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           b"<Company>" + ORGANISATION + b"</Company></Properties>")
    data = _zip([("[Content_Types].xml", b"<Types/>"), ("docProps/app.xml", app),
                 ("xl/workbook.xml", workbook), ("xl/sharedStrings.xml", strings),
                 ("xl/comments1.xml", notes)])
    return Sample("ledger.xlsx", data,
                  secrets=(REVISER, b"alice.whistle", COMMENTER, b"ask legal", ORGANISATION),
                  content=(SHEET_TEXT,))


def pptx_with_comments() -> Sample:
    """A presentation with a comment and its author list."""
    authors = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<p:cmAuthorLst '
               b'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
               b'<p:cmAuthor id="0" name="' + COMMENTER + b'" initials="CC" lastIdx="1" '
               b'clrIdx="0"/></p:cmAuthorLst>')
    comment = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<p:cmLst xmlns:p='
               b'"http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm '
               b'authorId="0" dt="2026-11-30T18:04:59" idx="1"><p:text>ask legal</p:text>'
               b"</p:cm></p:cmLst>")
    slide = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<p:sld xmlns:p="http'
             b'://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas'
             b'.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><a:t>' + SLIDE_TEXT
             + b"</a:t></p:spTree></p:cSld></p:sld>")
    data = _zip([("[Content_Types].xml", b"<Types/>"), ("ppt/slides/slide1.xml", slide),
                 ("ppt/commentAuthors.xml", authors), ("ppt/comments/comment1.xml", comment)])
    return Sample("deck.pptx", data, secrets=(COMMENTER, b"ask legal", b"2026-11-30"),
                  content=(SLIDE_TEXT,))
