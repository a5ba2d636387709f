/**
 * Rules every party applies the same way, written once: the wallet ID and the payee's hold (docs/protocol.md).
 * Espruino-safe (bundled into the device).
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { toHex } from "./codec/hex.ts";

/** A payee's offline payment is auto-approved this long after it happened if the payer has not synced (3 days). */
export const HOLD_MS = 259200000;

/** A wallet's ID from SHA-256 of its public key X||Y: the digest's first 8 bytes, hex (16 digits). */
export function walletIdFromDigest(digest: Uint8Array): string {
  return toHex(digest.subarray(0, 8));
}

/** A wallet's ID from its public key X||Y (64 bytes). */
export function walletIdOf(c: Pick<CryptoBackend, "sha256">, pub: Uint8Array): string {
  return walletIdFromDigest(c.sha256(pub));
}
