// Small helpers for every reporter page, for browsers with JavaScript (issue 15).
// Strict CSP: loaded as a module with SRI; no inline script, no request, no markup built.
//
// - The session notice: one minute before the session ends without activity, the page's
//   aria-live region says so (the server put the seconds left in data-seconds-left).
// - The receipt page: the Copy and Print buttons, which need a script, are shown.

const WARN_BEFORE_SECONDS = 60;

function announceSessionEnd(doc) {
  const notice = doc.getElementById("session-expiry");
  if (!notice) return;
  const left = Number.parseInt(notice.dataset.secondsLeft ?? "", 10);
  if (!Number.isFinite(left) || left < 0) return;
  const warnIn = Math.max(0, left - WARN_BEFORE_SECONDS) * 1000;
  setTimeout(() => {
    notice.textContent = notice.dataset.warning ?? "";
  }, warnIn);
}

function offerCopy(doc) {
  const button = doc.getElementById("copy-receipt");
  const code = doc.getElementById("receipt-code");
  if (!button || !code || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    // The code is a list of groups: copied as one line, groups apart by single spaces.
    navigator.clipboard.writeText(code.innerText.trim().replace(/\s+/g, " ")).then(() => {
      button.textContent = button.dataset.copied ?? button.textContent;
    });
  });
}

function offerPrint(doc) {
  const button = doc.getElementById("print-receipt");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

announceSessionEnd(document);
offerCopy(document);
offerPrint(document);
