/**
 * The secure element's readiness: checked at every boot before any key is used, and brought about at provisioning.
 * The part must be configured and locked as the terminal needs it (hal/drivers/atecc608-config.ts: private keys
 * secret, the storage root leaving the part only encrypted under the I/O protection key); a part that is not is
 * named on screen and refuses every payment.
 *
 *   seReady(device, (code) => { if (code) refuse("Secure element " + code); deriveStorageKeys(...) });
 *   seSetup(device, (err) => ...);     // the technician console's provisioning, before the identity key is read
 *
 * The I/O protection key is kept in Storage as SE_IO_FILE: what the host must know to read an encrypted ECDH
 * result. Someone who can read the flash has it (until flash encryption, docs/technician.md); someone on the I2C
 * bus alone no longer learns the storage root.
 */
import type { Device } from "../hal/device.ts";
import type { KeyError, StorageKeys } from "./keys.ts";
import { deriveStorageKeys } from "./keys.ts";

export const SE_IO_FILE = "se.io";

/** "" when the part is ready (or has no configuration to check), else its code (SE_UNLOCKED, SE_CONFIG, ...). */
export function seReady(d: Device, done: (code: string) => void): void {
  if (!d.secure.check) return done("");
  d.secure.check(d.storage.read(SE_IO_FILE) || null, (b) => d.crypto.sha256(b), done);
}

/** Provisioning: configures and locks the part (irreversible), makes its keys; err null once it is ready. */
export function seSetup(d: Device, done: (err: string | null) => void): void {
  if (!d.secure.setup) return done("SE_NO_SETUP");
  d.secure.setup({ ioKey: d.storage.read(SE_IO_FILE) || null, keep: (k) => d.storage.write(SE_IO_FILE, k), sha256: (b) => d.crypto.sha256(b) }, (code) => done(code || null));
}

/** Boot: seReady, its code to `note`, then the storage keys (./keys.ts), asked for with the I/O key in place. */
export function readyKeys(d: Device, note: (code: string) => void, done: (err: KeyError | null, keys?: StorageKeys) => void): void {
  seReady(d, (code) => {
    note(code);
    deriveStorageKeys(d.secure, d.crypto, done);
  });
}
