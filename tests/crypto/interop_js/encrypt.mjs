// Encrypt stdin to the recipients given as arguments; "--armor" first for PEM output.
import { loadAge, readStdin, writeStdout } from "./common.mjs";

const age = await loadAge();
const args = process.argv.slice(2);
const armored = args[0] === "--armor";
const encrypter = new age.Encrypter();
for (const recipient of armored ? args.slice(1) : args) encrypter.addRecipient(recipient);
const ciphertext = await encrypter.encrypt(await readStdin());
await writeStdout(armored ? age.armor.encode(ciphertext) : ciphertext);
