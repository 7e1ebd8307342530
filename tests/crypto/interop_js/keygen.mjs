// Print a new hybrid (ML-KEM-768 + X25519) identity and its recipient, one per line.
import { loadAge } from "./common.mjs";

const age = await loadAge();
const identity = await age.generateHybridIdentity();
const recipient = await age.identityToRecipient(identity);
process.stdout.write(`${identity}\n${recipient}\n`);
