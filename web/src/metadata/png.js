// PNG, cleaned chunk by chunk (PNG specification, third edition, 5.3 and 11): the same
// rules as reporting_portal/domain/metadata_cleaning/png.py. Critical chunks and the
// ancillary chunks that change how the picture looks are kept; text (tEXt, zTXt, iTXt),
// time (tIME), EXIF (eXIf) and private chunks are dropped, and so is anything after IEND.
import { exifFindings, xmpFindings } from "./exif.js";
import { AUTHOR, CannotClean, COMMENTS, OTHER, SOFTWARE, TIMES, latin1 } from "./findings.js";
import { concat } from "./jpeg.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const RENDERING = new Set([
  "tRNS", "cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "cICP", "mDCV", "cLLI",
  "bKGD", "pHYs", "sPLT", "hIST", "acTL", "fcTL", "fdAT",
]);
const TEXT_KEYWORDS = new Map([
  ["Author", AUTHOR], ["Copyright", AUTHOR], ["Software", SOFTWARE],
  ["Creation Time", TIMES], ["Comment", COMMENTS], ["Description", COMMENTS],
]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function textFindings(type, body, found) {
  const end = body.indexOf(0);
  const keyword = latin1(body.subarray(0, end < 0 ? body.length : end));
  if (keyword === "XML:com.adobe.xmp") xmpFindings(latin1(body), found);
  found.add(TEXT_KEYWORDS.get(keyword) ?? OTHER);
}

export function isPng(data) {
  return SIGNATURE.every((byte, i) => data[i] === byte);
}

export function cleanPng(data, found) {
  if (!isPng(data)) throw new CannotClean("damaged");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pieces = [data.subarray(0, 8)];
  let position = 8;
  for (;;) {
    if (position + 12 > data.length) throw new CannotClean("damaged");
    const length = view.getUint32(position);
    const type = latin1(data.subarray(position + 4, position + 8));
    const end = position + 12 + length;
    if (end > data.length || !/^[A-Za-z]{4}$/.test(type)) throw new CannotClean("damaged");
    if (crc32(data.subarray(position + 4, end - 4)) !== view.getUint32(end - 4)) {
      throw new CannotClean("damaged");
    }
    const critical = type[0] >= "A" && type[0] <= "Z";
    if (critical || RENDERING.has(type)) pieces.push(data.subarray(position, end));
    else if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      textFindings(type, data.subarray(position + 8, end - 4), found);
    } else if (type === "tIME") found.add(TIMES);
    else if (type === "eXIf") exifFindings(data.subarray(position + 8, end - 4), found);
    else found.add(OTHER);
    position = end;
    if (type === "IEND") return concat(pieces);
  }
}
