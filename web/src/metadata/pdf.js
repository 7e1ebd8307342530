// PDF, cleaned with pdf-lib: the trailer's Info dictionary (author, title, creator,
// producer, dates), every XMP /Metadata stream, /PieceInfo (an application's private data)
// and, in annotations, the author /T and the dates /M and /CreationDate are removed, and
// the file is written anew, with no /ID carried over. The rules of
// reporting_portal/domain/metadata_cleaning/pdf.py; an encrypted PDF is refused.
// Only pdf-lib's core (parser, objects, writer) is bundled: its document API would bring
// fonts, image codecs and a second deflate library the cleaning never uses.
import PDFParser from "pdf-lib/es/core/parser/PDFParser.js";
import PDFDict from "pdf-lib/es/core/objects/PDFDict.js";
import PDFName from "pdf-lib/es/core/objects/PDFName.js";
import PDFRawStream from "pdf-lib/es/core/objects/PDFRawStream.js";
import PDFRef from "pdf-lib/es/core/objects/PDFRef.js";
import PDFStream from "pdf-lib/es/core/objects/PDFStream.js";
import PDFWriter from "pdf-lib/es/core/writers/PDFWriter.js";
import { xmpFindings } from "./exif.js";
import { AUTHOR, CannotClean, COMMENTS, OTHER, SOFTWARE, TIMES, latin1 } from "./findings.js";

const INFO_KEYS = new Map([
  ["Author", AUTHOR], ["Creator", SOFTWARE], ["Producer", SOFTWARE],
  ["CreationDate", TIMES], ["ModDate", TIMES],
]);
const OBJECT_KEYS = ["Metadata", "PieceInfo"];
const ANNOTATION_KEYS = ["T", "M", "CreationDate"];

function dictionaryOf(object) {
  if (object instanceof PDFDict) return object;
  if (object instanceof PDFStream) return object.dict;
  return null;
}

function isAnnotation(dict) {
  const type = dict.get(PDFName.of("Type"));
  if (type === PDFName.of("Annot")) return true;
  return dict.has(PDFName.of("Subtype")) && dict.has(PDFName.of("Rect"));
}

function removeInfo(context, found) {
  const info = context.trailerInfo.Info;
  if (!info) return;
  const dict = dictionaryOf(context.lookup(info));
  for (const key of dict ? dict.keys() : []) found.add(INFO_KEYS.get(key.decodeText()) ?? OTHER);
  if (info instanceof PDFRef) context.delete(info);
  context.trailerInfo.Info = undefined;
}

function removeFrom(context, dict, key, found) {
  const name = PDFName.of(key);
  const value = dict.get(name);
  if (value === undefined) return;
  const target = value instanceof PDFRef ? context.lookup(value) : value;
  const unfiltered = target instanceof PDFRawStream && !target.dict.has(PDFName.of("Filter"));
  if (key === "Metadata" && unfiltered) xmpFindings(latin1(target.contents), found);
  found.add(key === "T" ? COMMENTS : OTHER);
  dict.delete(name);
  if (value instanceof PDFRef) context.delete(value);
}

export async function cleanPdf(data, found) {
  let context;
  try {
    context = await PDFParser.forBytesWithOptions(data).parseDocument();
  } catch {
    throw new CannotClean("damaged");
  }
  if (context.trailerInfo.Encrypt) throw new CannotClean("encrypted");
  if (!context.trailerInfo.Root) throw new CannotClean("damaged");
  removeInfo(context, found);
  context.trailerInfo.ID = undefined; // the original's ID would link this copy to it
  for (const [, object] of context.enumerateIndirectObjects()) {
    const dict = dictionaryOf(object);
    if (!dict) continue;
    for (const key of OBJECT_KEYS) removeFrom(context, dict, key, found);
    if (isAnnotation(dict)) for (const key of ANNOTATION_KEYS) removeFrom(context, dict, key, found);
  }
  try {
    return await PDFWriter.forContext(context).serializeToBuffer();
  } catch {
    throw new CannotClean("damaged");
  }
}
