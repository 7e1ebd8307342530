// What a file reveals, and a copy without it: the browser's side of issue 18.
//
// examineFile(file) reads the whole file into memory (up to MAX_CLEANABLE_BYTES, the same
// bound as the server's), decides its format from its bytes, never its name, and returns
// { findings: [kind…], cleaned: Blob } or { findings: [], reason } when it cannot be
// cleaned ("unknownFormat", "encrypted", "tooLarge", "damaged"). The rules are those of
// reporting_portal/domain/metadata_cleaning/; SECURITY.md says what each removes.
import { CannotClean, ORDER } from "./findings.js";
import { cleanJpeg } from "./jpeg.js";
import { cleanZip, zipKind } from "./office.js";
import { cleanPdf } from "./pdf.js";
import { cleanPng, isPng } from "./png.js";

export const MAX_CLEANABLE_BYTES = 64 * 1024 * 1024;
const MAX_UNPACKED_BYTES = 4 * MAX_CLEANABLE_BYTES;

function hasPdfHeader(data) {
  const head = data.subarray(0, 1024);
  for (let i = 0; i + 5 <= head.length; i++) {
    if (head[i] === 0x25 && head[i + 1] === 0x50 && head[i + 2] === 0x44 && head[i + 3] === 0x46 && head[i + 4] === 0x2d) {
      return true;
    }
  }
  return false;
}

async function clean(data, found) {
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return cleanJpeg(data, found);
  if (isPng(data)) return cleanPng(data, found);
  if (hasPdfHeader(data)) return cleanPdf(data, found);
  if (data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04) {
    const kind = zipKind(data);
    if (kind) return cleanZip(data, kind, found, MAX_UNPACKED_BYTES);
  }
  throw new CannotClean("unknownFormat");
}

export async function examineFile(file) {
  if (file.size > MAX_CLEANABLE_BYTES) return { findings: [], reason: "tooLarge" };
  const found = new Set();
  try {
    const cleaned = await clean(new Uint8Array(await file.arrayBuffer()), found);
    const findings = ORDER.filter((kind) => found.has(kind));
    return { findings, cleaned: new Blob([cleaned], { type: file.type }) };
  } catch (error) {
    if (error instanceof CannotClean) return { findings: [], reason: error.reason };
    return { findings: [], reason: "damaged" };
  }
}
