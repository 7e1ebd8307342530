// Encrypts the reporter's submission form in the browser before upload.
//
// With this script the form at /report/<channel> is sent as age ciphertext only: the
// answers and the list of files ("content"), every file, and the optional identity are
// each encrypted with age (hybrid post-quantum recipients) and POSTed as multipart parts
// with mode=encrypted. Without JavaScript, or when this browser lacks what the script
// needs, the form posts plaintext as usual and the server encrypts it; this script never
// stands in the way of that path.
//
// The contract with the server (template and view) is described in web/README.md.
// Strict CSP: no inline handlers, no eval, no network request other than the POST.

import { Encrypter } from "age-encryption";
import { FileMetadata } from "./metadata/panel.js";

// Every string shown to the reporter. The server may override any of them (translations)
// with a "messages" object in #report-recipients. "{percent}", "{megabytes}" and "{files}"
// are replaced by numbers, "{name}" by a file's name and "{details}" by a list of the
// detail* words (issue 18: what a file reveals, shown before it is cleaned).
const DEFAULT_MESSAGES = {
  encrypting: "Encrypting… {percent}%",
  uploading: "Uploading… {percent}%",
  uploadingUnknown: "Uploading…",
  waiting: "Sent. Waiting for the confirmation…",
  sendFailed: "Sending failed. Nothing was stored. Please try again.",
  tooLarge: "The files are too large: up to {megabytes} MB in all. Nothing was sent.",
  tooManyFiles: "Too many files: at most {files}. Nothing was sent.",
  encryptFailed:
    "Your report could not be encrypted in this browser, so nothing was sent. " +
    "If you attached files, check that they are still available, then try again.",
  metadataChecking: "Checking {name} for hidden details…",
  metadataFound: "{name} reveals {details}. This will be removed before the file is encrypted and sent.",
  metadataNone: "{name}: no hidden details found.",
  metadataKeep: "Keep the hidden details of {name} (send it as it is)",
  metadataUnknownFormat:
    "{name}: this kind of file cannot be cleaned here, so it will be sent as it is. " +
    "Remove hidden details yourself first if you can.",
  metadataEncrypted:
    "{name} is protected with a password, so its hidden details cannot be removed here. " +
    "It will be sent as it is.",
  metadataTooLarge:
    "{name} is too large to clean here (over {megabytes} MB), so it will be sent as it is.",
  metadataDamaged: "{name} could not be read to clean it, so it will be sent as it is.",
  detailGps: "a GPS position",
  detailCamera: "the camera",
  detailAuthor: "an author's name",
  detailOrganisation: "an organisation",
  detailSoftware: "the software used",
  detailTimes: "when it was made or edited",
  detailComments: "comments",
  detailTrackedChanges: "tracked changes and who made them",
  detailOther: "other metadata",
};

const OCTET_STREAM = "application/octet-stream";
// Ciphertext is gathered into Blobs of about this size, so the JavaScript heap never holds
// more than one such buffer of a file at a time.
const BLOB_FLUSH_BYTES = 4 * 1024 * 1024;
// Status line updates (read out by screen readers through aria-live) at most this often.
const STATUS_INTERVAL_MS = 1000;

function browserCanEncrypt() {
  return (
    typeof ReadableStream === "function" &&
    typeof TransformStream === "function" &&
    typeof Blob === "function" &&
    typeof Blob.prototype.stream === "function" &&
    typeof FormData === "function" &&
    typeof XMLHttpRequest === "function" &&
    typeof DOMParser === "function" &&
    typeof TextEncoder === "function" &&
    typeof globalThis.crypto?.getRandomValues === "function"
  );
}

function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

// Reads and checks #report-recipients (of this page, or of a page the server answered
// with). Returns null when it is missing or unusable.
function readConfig(root = document) {
  const element = root.getElementById("report-recipients");
  if (!element) return null;
  let data;
  try {
    data = JSON.parse(element.textContent);
  } catch {
    return null;
  }
  if (data === null || typeof data !== "object") return null;
  const { handlers, recovery, custodians, field_ids: fieldIds, messages } = data;
  // Optional limits, checked before encrypting so that nothing is uploaded in vain.
  const limit = (value) => (Number.isSafeInteger(value) && value > 0 ? value : null);
  const maxBytes = limit(data.max_bytes);
  const maxFiles = limit(data.max_files);
  const handlersOk =
    Array.isArray(handlers) &&
    handlers.every(
      (h) =>
        h !== null &&
        typeof h === "object" &&
        typeof h.id === "string" &&
        typeof h.recipient === "string",
    );
  if (
    !handlersOk ||
    typeof recovery !== "string" ||
    !isStringList(custodians) ||
    !isStringList(fieldIds)
  ) {
    return null;
  }
  // Parse every recipient now: a bad one disables the script rather than failing on submit.
  const all = [recovery, ...custodians, ...handlers.map((h) => h.recipient)];
  try {
    makeEncrypter(all);
  } catch {
    return null;
  }
  // Plain X25519 recipients need Web Crypto, which exists only in secure contexts (HTTPS,
  // .onion in Tor Browser, localhost); hybrid age1pq1 recipients are pure JavaScript.
  if (all.some((r) => !r.startsWith("age1pq1")) && !globalThis.crypto?.subtle) return null;
  const text = { ...DEFAULT_MESSAGES };
  if (messages !== null && typeof messages === "object") {
    for (const key of Object.keys(DEFAULT_MESSAGES)) {
      if (typeof messages[key] === "string" && messages[key] !== "") text[key] = messages[key];
    }
  }
  return { handlers, recovery, custodians, fieldIds, text, maxBytes, maxFiles };
}

function unique(items) {
  return [...new Set(items)];
}

function makeEncrypter(recipients) {
  const encrypter = new Encrypter();
  for (const recipient of unique(recipients)) encrypter.addRecipient(recipient);
  return encrypter;
}

function formatNumber(value) {
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined).format(value);
  } catch {
    return String(value);
  }
}

function formatPercent(fraction) {
  return formatNumber(Math.floor(Math.min(Math.max(fraction, 0), 1) * 100));
}

function fill(template, fraction) {
  return template.replaceAll("{percent}", formatPercent(fraction));
}

// Form-associated controls with this name, in tree order, leaving out disabled ones
// exactly as a normal form submission would.
function controlsNamed(form, name) {
  return Array.from(form.elements).filter((el) => el.name === name && !el.disabled);
}

function answerOf(controls) {
  if (controls.length === 0) return "";
  const first = controls[0];
  if (first.type === "checkbox") {
    return controls.filter((el) => el.checked).map((el) => el.value);
  }
  if (first.type === "radio") {
    const checked = controls.find((el) => el.checked);
    return checked ? checked.value : "";
  }
  if (first.type === "select-multiple") {
    return Array.from(first.selectedOptions, (option) => option.value);
  }
  return first.value;
}

function collectAnswers(form, fieldIds) {
  const answers = {};
  for (const id of fieldIds) {
    const controls = controlsNamed(form, `q_${id}`);
    if (controls.some((el) => el.type === "file")) continue;
    answers[id] = answerOf(controls);
  }
  return answers;
}

// Every selected file across all file inputs, in DOM order.
function collectFiles(form) {
  const selected = [];
  for (const input of Array.from(form.elements)) {
    if (input.type !== "file" || input.disabled || !input.files) continue;
    const field = input.dataset.fileField || input.name.replace(/^q_/, "");
    for (const file of Array.from(input.files)) selected.push({ field, file });
  }
  return selected;
}

function checkedValues(form, name) {
  return controlsNamed(form, name)
    .filter((el) => el.checked)
    .map((el) => el.value);
}

function valueOf(form, name) {
  const [control] = controlsNamed(form, name);
  return control ? control.value : "";
}

// Encrypts a File as a stream and gathers the ciphertext into a Blob. The plaintext is
// read from disk piece by piece; only the ciphertext is kept (as Blobs, which the browser
// may page to disk) until the upload is done.
async function encryptFile(encrypter, file, onBytes) {
  const ciphertext = await encrypter.encrypt(file.stream());
  const reader = ciphertext.getReader();
  const blobs = [];
  let pending = [];
  let pendingBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending.push(value);
    pendingBytes += value.byteLength;
    onBytes(value.byteLength);
    if (pendingBytes >= BLOB_FLUSH_BYTES) {
      blobs.push(new Blob(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length > 0) blobs.push(new Blob(pending));
  return new Blob(blobs, { type: OCTET_STREAM });
}

function withoutHash(url) {
  const parsed = new URL(url, document.baseURI);
  parsed.hash = "";
  return parsed.href;
}

function parseHtml(responseText) {
  if (!responseText) return null;
  try {
    return new DOMParser().parseFromString(responseText, "text/html");
  } catch {
    return null;
  }
}

function errorMessageFrom(doc) {
  if (!doc) return "";
  // The session ended while the reporter typed: the server's page says so. The typed
  // text stays in this page's fields (nothing here clears them).
  const element =
    doc.querySelector("[data-session-ended]") ?? doc.querySelector("[data-error-message]");
  return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
}

// When the session of a report form ended, the server answers with the same form under a
// new session: its new tokens replace the stale ones, so that Send works again with the
// answers still in this page. Only then: after any other refusal (a report already sent)
// the old tokens must stay, so that sending again is refused again.
function adoptRenewedTokens(form, doc) {
  if (!doc || !doc.querySelector("[data-session-ended]")) return;
  const renewed = doc.getElementById("report-form");
  if (!renewed) return; // the mailbox: the reporter signs in again with the receipt code
  for (const name of ["csrf_token", "submission_token"]) {
    const fresh = renewed.querySelector(`input[type="hidden"][name="${name}"]`);
    const stale = form.elements.namedItem(name);
    if (fresh && stale && typeof stale.value === "string") stale.value = fresh.value;
  }
}

// A required answer of only spaces and line breaks is no answer: emptied, so that the
// browser's own "required" message shows, as the server refuses it on the plain path.
function emptyBlankRequiredAnswers(form) {
  for (const el of Array.from(form.elements)) {
    const typed = el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text");
    if (typed && el.required && el.value !== "" && el.value.trim() === "") el.value = "";
  }
}

// Whatever the reporter typed or chose, gone. For a page the browser restores from its
// back-forward cache, so that Back on a shared computer shows an empty form; the default
// values are not used, since a reply box may be pre-filled with the reporter's text.
const NOT_TYPED = new Set(["hidden", "submit", "button", "reset", "image"]);

function clearTypedFields(form) {
  for (const el of Array.from(form.elements)) {
    if (el.tagName === "TEXTAREA") el.value = "";
    else if (el.tagName !== "INPUT" || NOT_TYPED.has(el.type)) continue;
    else if (el.type === "checkbox" || el.type === "radio") el.checked = false;
    else el.value = "";
  }
}

class ReportSender {
  constructor(form, config, metadata) {
    this.form = form;
    this.config = config;
    this.metadata = metadata;
    this.text = config.text;
    this.busy = false;
    this.progressBox = document.getElementById("upload-progress");
    this.errorBox = document.getElementById("form-error");
    this.status = null;
    this.bars = [];
    this.lastStatusAt = 0;
    this.lastStatusText = "";
  }

  submitButtons() {
    return Array.from(this.form.elements).filter(
      (el) => (el.tagName === "BUTTON" || el.tagName === "INPUT") && el.type === "submit",
    );
  }

  setBusy(busy) {
    this.busy = busy;
    for (const button of this.submitButtons()) button.disabled = busy;
    this.form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  handleSubmit(event) {
    event.preventDefault();
    if (this.busy) return;
    emptyBlankRequiredAnswers(this.form);
    if (!this.form.reportValidity()) return;
    this.setBusy(true);
    this.hideError();
    this.send().catch(() => this.fail(this.text.encryptFailed));
  }

  hideError() {
    if (!this.errorBox) return;
    this.errorBox.hidden = true;
    this.errorBox.textContent = "";
  }

  fail(message) {
    if (this.progressBox) {
      this.progressBox.hidden = true;
      this.progressBox.replaceChildren();
    }
    if (this.errorBox) {
      this.errorBox.textContent = message;
      this.errorBox.hidden = false;
      if (!this.errorBox.hasAttribute("tabindex")) this.errorBox.setAttribute("tabindex", "-1");
      this.errorBox.focus();
    }
    this.setBusy(false);
  }

  showProgress(files) {
    this.bars = [];
    if (!this.progressBox) return;
    const box = this.progressBox;
    box.replaceChildren();
    this.status = document.createElement("p");
    this.status.className = "upload-progress__status";
    box.append(this.status);
    files.forEach(({ file }, index) => {
      const row = document.createElement("div");
      row.className = "upload-progress__file";
      const id = `upload-progress-file-${index + 1}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = file.name; // shown locally only; never sent in plaintext
      const bar = document.createElement("progress");
      bar.id = id;
      bar.max = 1;
      bar.value = 0;
      row.append(label, bar);
      box.append(row);
      this.bars.push(bar);
    });
    this.lastStatusAt = 0;
    this.lastStatusText = "";
    box.hidden = false;
  }

  setStatus(message, force = false) {
    if (!this.status || message === this.lastStatusText) return;
    const now = Date.now();
    if (!force && now - this.lastStatusAt < STATUS_INTERVAL_MS) return;
    this.status.textContent = message;
    this.lastStatusText = message;
    this.lastStatusAt = now;
  }

  // A form renewed under a new session also carries a new key for the reporter (made
  // per session, so they can read back what they send): encrypt to the renewed list.
  adoptRenewedRecipients(doc) {
    if (!doc || !doc.querySelector("[data-session-ended]")) return;
    if (!doc.getElementById("report-form")) return;
    const renewed = readConfig(doc);
    if (renewed) this.config = { ...this.config, handlers: renewed.handlers };
  }

  async send() {
    const { form, config, text } = this;
    // Each file's cleaned copy, unless the reporter kept it as it is (metadata/panel.js).
    const selected = await Promise.all(
      collectFiles(form).map(async (entry) => ({
        ...entry,
        source: await this.metadata.sourceFor(entry.file),
      })),
    );
    const excluded = checkedValues(form, "exclude");
    const excludedSet = new Set(excluded);
    const reportRecipients = [
      ...config.handlers.filter((h) => !excludedSet.has(h.id)).map((h) => h.recipient),
      config.recovery,
    ];

    const content = {
      version: 1,
      answers: collectAnswers(form, config.fieldIds),
      files: selected.map(({ field, file, source }) => ({
        field,
        name: file.name,
        size: source.size,
        type: file.type || "",
      })),
    };
    // Trimmed, as the server trims them on the plaintext path.
    const identityName = valueOf(form, "identity_name").trim();
    const identityContact = valueOf(form, "identity_contact").trim();
    const hasIdentity = identityName !== "" || identityContact !== "";

    const plaintextTotal = selected.reduce((sum, { source }) => sum + source.size, 0);
    if (config.maxFiles !== null && selected.length > config.maxFiles) {
      this.fail(text.tooManyFiles.replaceAll("{files}", formatNumber(config.maxFiles)));
      return;
    }
    if (config.maxBytes !== null && plaintextTotal > config.maxBytes) {
      const megabytes = Math.floor(config.maxBytes / (1024 * 1024));
      this.fail(text.tooLarge.replaceAll("{megabytes}", formatNumber(megabytes)));
      return;
    }

    this.showProgress(selected);
    this.setStatus(fill(text.encrypting, 0), true);

    const reportEncrypter = makeEncrypter(reportRecipients);
    const contentBlob = new Blob([await reportEncrypter.encrypt(JSON.stringify(content))], {
      type: OCTET_STREAM,
    });

    let encryptedSoFar = 0;
    const fileBlobs = [];
    for (const { source } of selected) {
      fileBlobs.push(
        await encryptFile(reportEncrypter, source, (bytes) => {
          encryptedSoFar += bytes;
          // Ciphertext runs a little longer than plaintext; the fraction is clamped.
          this.setStatus(fill(text.encrypting, encryptedSoFar / plaintextTotal));
        }),
      );
    }

    let identityBlob = null;
    if (hasIdentity) {
      const identityEncrypter = makeEncrypter([...config.custodians, config.recovery]);
      const identity = JSON.stringify({ name: identityName, contact: identityContact });
      identityBlob = new Blob([await identityEncrypter.encrypt(identity)], {
        type: OCTET_STREAM,
      });
    }

    // The request: no plaintext answer, file name or identity in it.
    const body = new FormData();
    const parts = []; // payload sizes in upload order, to place each file in the stream
    const encoder = new TextEncoder();
    const addText = (name, value) => {
      body.append(name, value);
      parts.push({ size: encoder.encode(value).byteLength, bar: null });
    };
    const addBlob = (name, blob, filename, bar) => {
      body.append(name, blob, filename);
      parts.push({ size: blob.size, bar });
    };
    const csrf = form.elements.namedItem("csrf_token");
    if (csrf && typeof csrf.value === "string") addText("csrf_token", csrf.value);
    // One-time: a second send of this page is refused by the server and stores nothing.
    const once = form.elements.namedItem("submission_token");
    if (once && typeof once.value === "string") addText("submission_token", once.value);
    addText("mode", "encrypted");
    for (const value of excluded) addText("exclude", value);
    addBlob("content", contentBlob, "content.age", null);
    fileBlobs.forEach((blob, index) => {
      addBlob("file", blob, `file-${index + 1}.age`, this.bars[index] ?? null);
    });
    if (identityBlob) addBlob("identity", identityBlob, "identity.age", null);

    this.setStatus(fill(text.uploading, 0), true);
    this.upload(body, parts);
  }

  upload(body, parts) {
    const { form, text } = this;
    const formUrl = withoutHash(form.action);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);

    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable || event.total === 0) {
        this.setStatus(text.uploadingUnknown);
        return;
      }
      this.setStatus(fill(text.uploading, event.loaded / event.total));
      // Multipart boundaries and part headers are spread evenly over the parts.
      const payload = parts.reduce((sum, part) => sum + part.size, 0);
      const overhead = Math.max(0, (event.total - payload) / parts.length);
      let offset = 0;
      for (const part of parts) {
        offset += overhead; // this part's boundary and headers come before its data
        if (part.bar) {
          const done =
            part.size === 0 ? Number(event.loaded >= offset) : (event.loaded - offset) / part.size;
          part.bar.value = Math.min(Math.max(done, 0), 1);
        }
        offset += part.size;
      }
    });
    xhr.upload.addEventListener("load", () => {
      for (const bar of this.bars) bar.value = 1;
      this.setStatus(text.waiting, true);
    });

    xhr.addEventListener("load", () => {
      const arrived = xhr.responseURL ? withoutHash(xhr.responseURL) : formUrl;
      if (xhr.status === 200 && arrived !== formUrl) {
        // The server answered 303 and the XHR followed it: go where it pointed.
        window.location.assign(xhr.responseURL);
        return;
      }
      const doc = parseHtml(xhr.responseText);
      adoptRenewedTokens(form, doc);
      this.adoptRenewedRecipients(doc);
      this.fail(errorMessageFrom(doc) || text.sendFailed);
    });
    const networkFailure = () => this.fail(text.sendFailed);
    xhr.addEventListener("error", networkFailure);
    xhr.addEventListener("abort", networkFailure);
    xhr.addEventListener("timeout", networkFailure);

    xhr.send(body);
  }
}

function init() {
  const form = document.getElementById("report-form");
  if (!(form instanceof HTMLFormElement) || !browserCanEncrypt()) return;
  const config = readConfig();
  if (!config) return; // the plaintext path still works; the server encrypts it
  const metadata = new FileMetadata(form, config.text, formatNumber);
  const sender = new ReportSender(form, config, metadata);
  form.addEventListener("submit", (event) => sender.handleSubmit(event));
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    clearTypedFields(form);
    metadata.reset(form);
    sender.hideError();
    sender.setBusy(false);
  });
}

init();
