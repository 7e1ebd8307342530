// Passkeys for staff (reporting_portal/staff/auth/passkey_views.py): ask the browser for a
// credential with the options the page carries, and post it in the page's own form with
// its CSRF token. No request of its own, no markup written: strict CSP holds.
//
// Registration asks for the PRF extension; where the authenticator has it, a second
// ceremony (an assertion for the new passkey only) gets the PRF output the server needs
// to wrap a copy of the member's key. Sign-in asks for the PRF output at once, so a
// passkey with a copy unlocks the key without the password.

const supported =
  typeof window.PublicKeyCredential === "function" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

function optionsFrom(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

function bytesFromBase64url(text) {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

// The credential as JSON, with the PRF output (when there is one) as base64url: the
// browser's toJSON() may leave extension outputs out.
function credentialJSON(credential) {
  const json = credential.toJSON();
  const prf = credential.getClientExtensionResults().prf;
  json.clientExtensionResults = {};
  if (prf && prf.results && prf.results.first) {
    json.clientExtensionResults.prf = { results: { first: base64url(prf.results.first) } };
  }
  return JSON.stringify(json);
}

function prfRequest(form) {
  return { prf: { eval: { first: bytesFromBase64url(form.dataset.prfInput) } } };
}

// Refused, cancelled or timed out: the browser does not say which on purpose.
function showError(form) {
  const message = form.querySelector("[data-passkey-error]");
  message.textContent = form.dataset.failed;
  message.hidden = false;
  message.focus();
}

async function register(form) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(
    optionsFrom("passkey-registration-options"),
  );
  publicKey.extensions = { prf: {} };
  const created = await navigator.credentials.create({ publicKey });
  form.elements.credential.value = JSON.stringify(created.toJSON());
  const prf = created.getClientExtensionResults().prf;
  if (prf && prf.enabled) {
    const request = PublicKeyCredential.parseRequestOptionsFromJSON(
      optionsFrom("passkey-unlock-options"),
    );
    request.allowCredentials = [{ type: "public-key", id: created.rawId }];
    request.extensions = prfRequest(form);
    const asserted = await navigator.credentials.get({ publicKey: request });
    form.elements.unlock.value = credentialJSON(asserted);
  }
  form.submit();
}

async function signIn(form) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(
    optionsFrom("passkey-sign-in-options"),
  );
  publicKey.extensions = prfRequest(form);
  const asserted = await navigator.credentials.get({ publicKey });
  form.elements.credential.value = credentialJSON(asserted);
  form.submit();
}

function enable(form, ceremony, onSubmit) {
  const button = form.querySelector("[data-passkey-button]");
  form.querySelector("[data-passkey-no-script]").hidden = true;
  button.hidden = false;
  const run = async (event) => {
    event.preventDefault();
    if (onSubmit && !form.reportValidity()) return;
    button.disabled = true;
    try {
      await ceremony(form);
    } catch {
      button.disabled = false;
      showError(form);
    }
  };
  if (onSubmit) form.addEventListener("submit", run);
  else button.addEventListener("click", run);
}

if (supported) {
  for (const form of document.querySelectorAll("form[data-passkey-register]")) {
    enable(form, register, true);
  }
  for (const form of document.querySelectorAll("form[data-passkey-sign-in]")) {
    enable(form, signIn, false);
  }
}
