// Beside each file input of the report form: what each chosen file reveals, in plain
// words, and a choice to keep it. Files are examined as soon as they are chosen, so the
// reporter reads the list before sending; what is sent is the cleaned copy unless the
// reporter ticked "keep" for that file. Every string comes from report.js's messages.
import { examineFile, MAX_CLEANABLE_BYTES } from "./index.js";

const DETAIL_KEYS = {
  gps: "detailGps",
  camera: "detailCamera",
  author: "detailAuthor",
  organisation: "detailOrganisation",
  software: "detailSoftware",
  times: "detailTimes",
  comments: "detailComments",
  trackedChanges: "detailTrackedChanges",
  other: "detailOther",
};
const REASON_KEYS = {
  unknownFormat: "metadataUnknownFormat",
  encrypted: "metadataEncrypted",
  tooLarge: "metadataTooLarge",
  damaged: "metadataDamaged",
};

function listOf(items) {
  const language = document.documentElement.lang || undefined;
  try {
    return new Intl.ListFormat(language, { type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}

export class FileMetadata {
  constructor(form, text, formatNumber) {
    this.text = text;
    this.formatNumber = formatNumber;
    this.results = new WeakMap(); // File -> Promise of what examineFile found
    this.kept = new WeakSet(); // files the reporter chose to send as they are
    for (const input of Array.from(form.elements)) {
      if (input.type !== "file") continue;
      const box = document.createElement("div");
      box.className = "file-metadata";
      box.setAttribute("aria-live", "polite");
      box.dataset.metadataFor = input.name;
      input.after(box);
      input.addEventListener("change", () => this.show(input, box));
      if (input.files && input.files.length > 0) this.show(input, box);
    }
  }

  // The back-forward cache restored the page with its file inputs emptied.
  reset(form) {
    for (const box of form.querySelectorAll(".file-metadata")) box.replaceChildren();
  }

  examine(file) {
    if (!this.results.has(file)) this.results.set(file, examineFile(file));
    return this.results.get(file);
  }

  describe(file, result) {
    const named = (template) =>
      template
        .replaceAll("{name}", file.name)
        .replaceAll("{megabytes}", this.formatNumber(Math.floor(MAX_CLEANABLE_BYTES / (1024 * 1024))));
    if (result.reason) return named(this.text[REASON_KEYS[result.reason]]);
    if (result.findings.length === 0) return named(this.text.metadataNone);
    const details = listOf(result.findings.map((kind) => this.text[DETAIL_KEYS[kind]]));
    return named(this.text.metadataFound).replaceAll("{details}", details);
  }

  async show(input, box) {
    box.replaceChildren();
    const files = Array.from(input.files ?? []);
    for (const [index, file] of files.entries()) {
      const item = document.createElement("div");
      item.className = "file-metadata__file";
      item.dataset.metadataFile = String(index + 1);
      const line = document.createElement("p");
      line.textContent = this.text.metadataChecking.replaceAll("{name}", file.name);
      item.append(line);
      box.append(item);
      const result = await this.examine(file);
      if (!item.isConnected) return; // another choice of files replaced this list
      line.textContent = this.describe(file, result);
      item.dataset.metadataState = result.reason ?? (result.findings.length ? "found" : "none");
      if (result.cleaned && result.findings.length > 0) item.append(this.keepChoice(input, index, file));
    }
  }

  keepChoice(input, index, file) {
    const label = document.createElement("label");
    label.className = "choice";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `${input.id || input.name}-keep-metadata-${index + 1}`;
    box.addEventListener("change", () => {
      if (box.checked) this.kept.add(file);
      else this.kept.delete(file);
    });
    label.append(box, " ", this.text.metadataKeep.replaceAll("{name}", file.name));
    return label;
  }

  // What to encrypt for this file: its cleaned copy, unless the reporter keeps it whole
  // or it could not be cleaned (the list said so).
  async sourceFor(file) {
    const result = await this.examine(file);
    if (!result.cleaned || this.kept.has(file)) return file;
    return result.cleaned;
  }
}
