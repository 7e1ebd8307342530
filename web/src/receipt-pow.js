// Solves the receipt sign-in page's proof of work before the form is sent.
//
// The page (followup/sign_in.html) carries a single-use challenge, kept in the sealed
// server-side session, and a difficulty: find a nonce so that SHA-256(challenge || nonce)
// starts with that many zero bits. The search starts as soon as the page loads, so it
// usually ends while the reporter is still typing. Each guess at a receipt code then
// costs its sender about 2^bits hashes; the server checks a solution with one hash.
//
// When the level's budget for this minute is spent, the server answers with the next,
// harder level and marks the form to be sent again: this script solves that one and
// resends by itself, a bounded number of times (the server counts). Without JavaScript
// the form posts without a solution and the server uses its plain lane instead.
//
// Wire format (reporting_portal/web/security/proof_of_work.py): the challenge is 16 bytes
// (hex in data-pow-challenge), the nonce a whole number below 2^53 hashed as 8 bytes
// big-endian, sent in the hidden fields pow_level and pow_nonce.
// Strict CSP: no inline handlers, no eval, no network request other than the POST.

import { sha256 } from "@noble/hashes/sha2.js";

// Work in slices of about this long, then yield, so the page stays responsive.
const SLICE_MS = 40;
const MAX_NONCE = 2 ** 53;

function hexToBytes(hex) {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw new Error("bad challenge");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function leadingZeroBits(digest) {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

function yieldToPage() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// The challenge is hashed once; each try copies that state into one reused hasher and
// adds the nonce, 8 bytes big-endian: no allocation per hash (twice as fast as hashing
// the whole message each time).
export async function solve(challenge, bits) {
  const prefix = sha256.create().update(challenge);
  const nonceBytes = new Uint8Array(8);
  const nonceView = new DataView(nonceBytes.buffer);
  const digest = new Uint8Array(32);
  let hasher;
  for (let nonce = 0; nonce < MAX_NONCE; ) {
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      nonceView.setUint32(0, Math.floor(nonce / 2 ** 32));
      nonceView.setUint32(4, nonce >>> 0);
      hasher = prefix._cloneInto(hasher);
      hasher.update(nonceBytes).digestInto(digest);
      if (leadingZeroBits(digest) >= bits) return nonce;
      nonce++;
    } while (nonce % 1024 !== 0 || performance.now() < sliceEnd);
    await yieldToPage();
  }
  throw new Error("no solution");
}

function start(form) {
  const challenge = hexToBytes(form.dataset.powChallenge);
  const bits = Number(form.dataset.powBits);
  const level = form.dataset.powLevel;
  const status = form.querySelector("[data-pow-status]");
  const code = form.elements.namedItem("code");
  let solved = null;
  let wantsToSend = false;

  function send() {
    form.elements.namedItem("pow_level").value = level;
    form.elements.namedItem("pow_nonce").value = String(solved);
    form.submit();
  }

  form.addEventListener("submit", (event) => {
    if ("powFailed" in form.dataset) return; // posts without a solution: the plain lane
    if (solved !== null) {
      event.preventDefault();
      send();
      return;
    }
    // Not done yet: say so, and send as soon as it is.
    event.preventDefault();
    wantsToSend = true;
    status.textContent = status.dataset.preparing;
    status.hidden = false;
  });

  solve(challenge, bits).then(
    (nonce) => {
      solved = nonce;
      if (wantsToSend || ("powResend" in form.dataset && code.value.trim() !== "")) send();
    },
    () => {
      // No solution (cannot happen at these difficulties): leave the plain lane open by
      // letting the form post without one.
      form.dataset.powFailed = "";
    },
  );
}

const form = document.querySelector("form[data-receipt-sign-in]");
if (form !== null) start(form);
