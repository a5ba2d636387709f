/**
 * Issuer key rotation (docs/protocol.md section 1, "Issuer key rotation"): a new issuer public key reaches the
 * terminals in the gateway's hello reply, vouched for by an issuer key they already trust. The signed bytes are
 *
 *   "issuer-key v1" (13 ASCII bytes) || id (1 byte) || pub (X||Y, 64 bytes)
 *
 * and the signature is ECDSA P-256 R||S over SHA-256 of them, by the issuer key numbered `by`.
 *
 * A revocation (hello reply `revoke`) is signed the same way, by another trusted issuer key, over
 *
 *   "issuer-key-revoke v1" (20 ASCII bytes) || id (1 byte)
 *
 *   const body = issuerKeyBody(2, pub);                       // what the issuer signs
 *   se.verify(crypto.sha256(body), sig, trustedKey(by), done); // what the terminal checks
 */
import { ascii } from "./codec/hex.ts";

export const ISSUER_KEY_DOMAIN = "issuer-key v1";
export const REVOKE_DOMAIN = "issuer-key-revoke v1";

/** Most keys one hello reply carries. */
export const MAX_KEYS = 4;

/** The bytes an issuer key signs to vouch for key `id` (0..255) with public key X||Y `pub` (64 bytes). */
export function issuerKeyBody(id: number, pub: Uint8Array): Uint8Array {
  const d = ascii(ISSUER_KEY_DOMAIN);
  const out = new Uint8Array(d.length + 65);
  out.set(d, 0);
  out[d.length] = id & 255;
  out.set(pub, d.length + 1);
  return out;
}

/** The bytes an issuer key signs to revoke key `id`. */
export function revokeBody(id: number): Uint8Array {
  const d = ascii(REVOKE_DOMAIN + " ");
  d[d.length - 1] = id & 255;
  return d;
}
