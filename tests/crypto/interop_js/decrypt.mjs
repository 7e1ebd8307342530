// Decrypt stdin (binary or armored) with the identity in the AGE_IDENTITY variable.
import { loadAge, readStdin, writeStdout } from "./common.mjs";

const age = await loadAge();
const decrypter = new age.Decrypter();
decrypter.addIdentity(process.env.AGE_IDENTITY);
let input = await readStdin();
if (Buffer.from(input.subarray(0, 10)).toString() === "-----BEGIN") {
  input = age.armor.decode(Buffer.from(input).toString());
}
await writeStdout(await decrypter.decrypt(input));
