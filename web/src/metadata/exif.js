// Reads which details an EXIF block (TIFF structure, CIPA DC-008) holds, to name them to
// the reporter. Only tags are looked at, never their values: the block is dropped whole.
import { AUTHOR, CAMERA, GPS, OTHER, SOFTWARE, TIMES } from "./findings.js";

const IFD0_TAGS = new Map([
  [0x010f, CAMERA], // Make
  [0x0110, CAMERA], // Model
  [0x0131, SOFTWARE],
  [0x0132, TIMES], // DateTime
  [0x013b, AUTHOR], // Artist
  [0x8298, AUTHOR], // Copyright
]);
const EXIF_TAGS = new Map([
  [0x9003, TIMES], // DateTimeOriginal
  [0x9004, TIMES], // DateTimeDigitized
  [0xa430, AUTHOR], // CameraOwnerName
  [0xa431, CAMERA], // BodySerialNumber
  [0xa434, CAMERA], // LensModel
  [0xa435, CAMERA], // LensSerialNumber
]);
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;

function readIfd(view, offset, little, found, tags, depth) {
  if (depth > 2 || offset + 2 > view.byteLength) return;
  const count = view.getUint16(offset, little);
  for (let i = 0; i < count; i++) {
    const entry = offset + 2 + i * 12;
    if (entry + 12 > view.byteLength) return;
    const tag = view.getUint16(entry, little);
    if (tag === GPS_IFD) found.add(GPS);
    else if (tag === EXIF_IFD) {
      readIfd(view, view.getUint32(entry + 8, little), little, found, EXIF_TAGS, depth + 1);
    } else if (tags.has(tag)) found.add(tags.get(tag));
  }
}

// `tiff` starts at the TIFF header ("II*\0" or "MM\0*").
export function exifFindings(tiff, found) {
  found.add(OTHER);
  if (tiff.length < 8) return;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49;
  readIfd(view, view.getUint32(4, little), little, found, IFD0_TAGS, 0);
}

// XMP is text: the usual properties are recognised by name.
export function xmpFindings(text, found) {
  found.add(OTHER);
  if (/dc:creator|xmpRights|photoshop:AuthorsPosition|Iptc4xmpCore:Creator/.test(text)) found.add(AUTHOR);
  if (/CreatorTool|Producer|xmpMM:History/.test(text)) found.add(SOFTWARE);
  if (/CreateDate|ModifyDate|MetadataDate|DateCreated/.test(text)) found.add(TIMES);
  if (/exif:GPS/.test(text)) found.add(GPS);
  if (/tiff:Make|tiff:Model|SerialNumber/.test(text)) found.add(CAMERA);
}
