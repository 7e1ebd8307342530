// Shared helpers for the interop scripts driven by tests/crypto/test_interop.py.
// The age-encryption module is loaded from the path in AGE_ENCRYPTION_MODULE (the
// test installs it under tests/.interop/, outside this folder).
import { pathToFileURL } from "node:url";

export async function loadAge() {
  const modulePath = process.env.AGE_ENCRYPTION_MODULE;
  if (!modulePath) throw new Error("AGE_ENCRYPTION_MODULE is not set");
  return import(pathToFileURL(modulePath).href);
}

export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

export function writeStdout(bytes) {
  return new Promise((resolve, reject) =>
    process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())),
  );
}
