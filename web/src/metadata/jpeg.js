// JPEG, cleaned losslessly: marker segments filtered byte by byte, the image data never
// decoded (ITU T.81, B.1). The same rules as reporting_portal/domain/metadata_cleaning/
// jpeg.py: keep what draws the picture, a JFIF header without its thumbnail, an ICC
// profile, Adobe's APP14; drop EXIF and XMP (APP1), IPTC (APP13), comments, every other
// application segment, and what follows the end marker.
import { exifFindings, xmpFindings } from "./exif.js";
import { CannotClean, COMMENTS, OTHER, latin1 } from "./findings.js";

const MARKER = 0xff;
const SOS = 0xda;
const EOI = 0xd9;
const isRestart = (m) => m >= 0xd0 && m <= 0xd7;

const startsWith = (bytes, text) => latin1(bytes.subarray(0, text.length)) === text;

function keptPayload(marker, payload, found) {
  if (marker === 0xe0) {
    if (!startsWith(payload, "JFIF\0") || payload.length < 14) return null;
    const header = new Uint8Array(14);
    header.set(payload.subarray(0, 12));
    return header; // thumbnail size 0 x 0: no second picture
  }
  if (marker === 0xe1) {
    if (startsWith(payload, "Exif\0\0")) exifFindings(payload.subarray(6), found);
    else xmpFindings(latin1(payload), found);
    return null;
  }
  if (marker === 0xe2 && startsWith(payload, "ICC_PROFILE\0")) return payload;
  if (marker === 0xee && startsWith(payload, "Adobe")) return payload;
  if (marker === 0xfe) {
    found.add(COMMENTS);
    return null;
  }
  if (marker >= 0xe0 && marker <= 0xef) {
    found.add(OTHER);
    return null;
  }
  return payload;
}

function endOfScan(data, start) {
  for (let i = start; i + 1 < data.length; i++) {
    if (data[i] !== MARKER) continue;
    const next = data[i + 1];
    if (next !== 0x00 && next !== MARKER && !isRestart(next)) return i;
  }
  return data.length;
}

export function cleanJpeg(data, found) {
  if (data[0] !== MARKER || data[1] !== 0xd8) throw new CannotClean("damaged");
  const pieces = [data.subarray(0, 2)];
  let position = 2;
  while (position < data.length) {
    if (data[position] !== MARKER) throw new CannotClean("damaged");
    while (position < data.length && data[position] === MARKER) position++;
    if (position >= data.length) break;
    const marker = data[position++];
    if (marker === EOI) {
      pieces.push(Uint8Array.of(MARKER, EOI));
      if (position < data.length) found.add(OTHER); // appended pictures or data
      break;
    }
    if (marker === 0x01 || isRestart(marker)) {
      pieces.push(Uint8Array.of(MARKER, marker));
      continue;
    }
    if (position + 2 > data.length) throw new CannotClean("damaged");
    const length = (data[position] << 8) | data[position + 1];
    if (length < 2 || position + length > data.length) throw new CannotClean("damaged");
    const payload = data.subarray(position + 2, position + length);
    position += length;
    const kept = keptPayload(marker, payload, found);
    if (kept !== null) {
      const size = kept.length + 2;
      pieces.push(Uint8Array.of(MARKER, marker, size >> 8, size & 0xff), kept);
    }
    if (marker === SOS) {
      const end = endOfScan(data, position);
      pieces.push(data.subarray(position, end));
      position = end;
    }
  }
  return concat(pieces);
}

export function concat(pieces) {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
