// Office Open XML (DOCX, XLSX, PPTX) and OpenDocument, cleaned part by part with fflate.
// The same rules as reporting_portal/domain/metadata_cleaning/ooxml.py and odf.py; parts
// are read and written as Latin-1, so every byte not changed stays as it was. The copy
// keeps each part's name, order and compression (ODF's "mimetype" first and stored), and
// gives every entry the date 1980-01-01: a ZIP date is when a part was last saved.
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import {
  AUTHOR, CannotClean, COMMENTS, ORGANISATION, OTHER, SOFTWARE, TIMES, TRACKED_CHANGES,
} from "./findings.js";

const NO_DATE = new Date(1980, 0, 1, 12, 0, 0);
export const ODF_MIMETYPE_PREFIX = "application/vnd.oasis.opendocument.";

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const BLANK_PROPERTIES = {
  "docProps/core.xml": XML_DECLARATION +
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>',
  "docProps/app.xml": XML_DECLARATION +
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
  "docProps/custom.xml": XML_DECLARATION +
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
};
const COMMENT_PARTS =
  /^(?:word\/(?:comments[A-Za-z]*|people)\.xml|xl\/comments\d*\.xml|xl\/threadedComments\/.+\.xml|xl\/persons\/.+\.xml|ppt\/comments\/.+\.xml|ppt\/(?:commentAuthors|authors)\.xml)$/;
const ROOT_START = /<(?!\?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(\s[^>]*)?>/;
const WORD_DROPPED = ["w:commentRangeStart", "w:commentRangeEnd", "w:commentReference",
  "w:attachedTemplate", "w:rsids", "x15ac:absPath"];
const RSID = /\sw:rsid[A-Za-z]*\s*=\s*("[^"]*"|'[^']*')/g;
const TEMPLATE_RELATIONSHIP = /<Relationship\s[^>]*\/attachedTemplate"[^>]*\/>/g;

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const attribute = (name) => new RegExp(`\\s${escape(name)}\\s*=\\s*("[^"]*"|'[^']*')`, "g");

function blankAttributes(xml, names, value = "") {
  return names.reduce((text, name) => text.replace(attribute(name), ` ${name}="${value}"`), xml);
}

function dropAttributes(xml, names) {
  return names.reduce((text, name) => text.replace(attribute(name), ""), xml);
}

function dropElements(xml, names) {
  for (const name of names) {
    const tag = escape(name);
    xml = xml.replace(new RegExp(`<${tag}(?:\\s[^>]*)?/>`, "g"), "");
    xml = xml.replace(new RegExp(`<${tag}(?:\\s[^>]*)?>[\\s\\S]*?</${tag}\\s*>`, "g"), "");
  }
  return xml;
}

function emptiedRoot(xml) {
  const start = ROOT_START.exec(xml);
  if (!start) return "";
  const [opening, prefix = "", name] = start;
  if (opening.endsWith("/>")) return XML_DECLARATION + opening;
  const children = !prefix && name === "comments" ? "<authors/><commentList/>" : "";
  return `${XML_DECLARATION}${opening}${children}</${prefix}${name}>`;
}

function ooxmlFindings(name, xml, found) {
  if (name === "docProps/core.xml") {
    if (/<dc:creator>|<cp:lastModifiedBy>/.test(xml)) found.add(AUTHOR);
    if (/<dcterms:(?:created|modified)/.test(xml)) found.add(TIMES);
    if (/<(?:dc:title|dc:subject|cp:keywords|dc:description)>/.test(xml)) found.add(OTHER);
  } else if (name === "docProps/app.xml") {
    if (/<(?:Company|Manager)>/.test(xml)) found.add(ORGANISATION);
    if (/<(?:Application|AppVersion)>/.test(xml)) found.add(SOFTWARE);
    if (/<TotalTime>/.test(xml)) found.add(TIMES);
  } else if (name === "docProps/custom.xml") found.add(OTHER);
  else if (COMMENT_PARTS.test(name)) {
    if (/<(?:w:comment|comment|threadedComment|p:cm|p188:cm)\s/.test(xml)) found.add(COMMENTS);
  } else {
    if (/<w:(?:ins|del|moveFrom|moveTo)\s[^>]*w:author=/.test(xml)) found.add(TRACKED_CHANGES);
    if (/userName=|x15ac:absPath|w:attachedTemplate/.test(xml)) found.add(OTHER);
  }
}

function cleanOoxmlPart(name, xml, found) {
  ooxmlFindings(name, xml, found);
  if (name in BLANK_PROPERTIES) return BLANK_PROPERTIES[name];
  if (COMMENT_PARTS.test(name)) return emptiedRoot(xml);
  if (name.endsWith(".rels")) return xml.replace(TEMPLATE_RELATIONSHIP, "");
  if (!name.endsWith(".xml")) return null; // not text: kept as it is
  let text = dropElements(xml, WORD_DROPPED).replace(RSID, "");
  text = blankAttributes(text, ["w:author", "w:initials", "userName"]);
  text = blankAttributes(text, ["dateTime"], "1970-01-01T00:00:00");
  return dropAttributes(text, ["w:date"]);
}

const ODF_META = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
  'office:version="1.3"><office:meta/></office:document-meta>';
const PRIVATE_SETTINGS =
  /<config:config-item\s+config:name="(?:PrinterName|PrinterSetup|PrinterPaperFromSetup|Rsid|RsidRoot)"[^>]*>[^<]*<\/config:config-item\s*>/g;
const ODF_DOCUMENT_PART = /^(?:.+\/)?(?:content|styles)\.xml$/;

function cleanOdfPart(name, xml, found) {
  if (name === "META-INF/manifest.xml" && xml.includes("encryption-data")) {
    throw new CannotClean("encrypted");
  }
  if (name === "meta.xml" || name.endsWith("/meta.xml")) {
    if (/<meta:initial-creator>|<dc:creator>/.test(xml)) found.add(AUTHOR);
    if (/<meta:generator>/.test(xml)) found.add(SOFTWARE);
    if (/<meta:creation-date>|<dc:date>|<meta:editing-duration>/.test(xml)) found.add(TIMES);
    if (/<meta:user-defined|<dc:title>|<dc:subject>|<meta:keyword>/.test(xml)) found.add(OTHER);
    return ODF_META;
  }
  if (name === "settings.xml") {
    if (PRIVATE_SETTINGS.test(xml)) found.add(OTHER);
    PRIVATE_SETTINGS.lastIndex = 0;
    return xml.replace(PRIVATE_SETTINGS, "");
  }
  if (!ODF_DOCUMENT_PART.test(name)) return null;
  if (xml.includes("<office:annotation")) found.add(COMMENTS);
  if (xml.includes("<text:tracked-changes")) found.add(TRACKED_CHANGES);
  let text = dropElements(xml, ["office:annotation", "office:annotation-end"]);
  text = text.replace(/<dc:creator\s*>[^<]*<\/dc:creator\s*>/g, "<dc:creator></dc:creator>");
  text = text.replace(/<dc:date\s*>[^<]*<\/dc:date\s*>/g, "<dc:date>1970-01-01T00:00:00</dc:date>");
  return dropAttributes(text, ["officeooo:rsid", "officeooo:paragraph-rsid"]);
}

function unpack(data, maxUnpackedBytes) {
  const compression = new Map();
  let unpacked = 0;
  let parts;
  try {
    parts = unzipSync(data, {
      filter(file) {
        unpacked += file.originalSize;
        if (unpacked > maxUnpackedBytes) throw new CannotClean("tooLarge");
        compression.set(file.name, file.compression);
        return true;
      },
    });
  } catch (error) {
    throw error instanceof CannotClean ? error : new CannotClean("damaged");
  }
  return { parts, compression };
}

// Which kind of container `data` is: "ooxml", "odf" or null (as formats.py decides).
export function zipKind(data) {
  let parts;
  try {
    parts = unzipSync(data, {
      filter: (file) =>
        (file.name === "mimetype" || file.name === "[Content_Types].xml") && file.originalSize < 1 << 20,
    });
  } catch {
    return null;
  }
  if ("[Content_Types].xml" in parts) return "ooxml";
  if (parts.mimetype && strFromU8(parts.mimetype, true).startsWith(ODF_MIMETYPE_PREFIX)) return "odf";
  return null;
}

export function cleanZip(data, kind, found, maxUnpackedBytes) {
  const { parts, compression } = unpack(data, maxUnpackedBytes);
  const rule = kind === "odf" ? cleanOdfPart : cleanOoxmlPart;
  const out = {};
  for (const [name, content] of Object.entries(parts)) {
    const textual = name.endsWith(".xml") || name.endsWith(".rels");
    const cleaned = textual ? rule(name, strFromU8(content, true), found) : null;
    const bytes = cleaned === null ? content : strToU8(cleaned, true);
    out[name] = [bytes, { level: compression.get(name) === 0 ? 0 : 6, mtime: NO_DATE }];
  }
  return zipSync(out, { mtime: NO_DATE });
}
