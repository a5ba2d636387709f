/**
 * Signed firmware updates (docs/protocol.md section 1, "Firmware keys"; docs/sync.md, update offers). A firmware
 * key, kept offline and separate from the issuer keys (which sign allowances and certificates online), signs
 *
 *   "offline-pay firmware v1" (23 ASCII bytes) || 0x00 || board || 0x00 || version || 0x00 || SHA-256(bundle) (32)
 *
 * with ECDSA P-256 (R||S) over SHA-256 of those bytes. The label begins with an ASCII letter, never a protocol
 * message's VERSION byte (0x01) nor the issuer key rotation's "issuer-key" labels, so no signature made for one can
 * be taken for another. Board and version are printable ASCII without NUL, so the body reads back one way only.
 *
 *   const body = firmwareBody("devkit", "0.2.0", sha);                  // what tools/sign-update.ts signs
 *   se.verify(crypto.sha256(body), sig, firmwareKey(offer.key), done);  // what the terminal checks
 */
import { ascii } from "./codec/hex.ts";

export const FIRMWARE_DOMAIN = "offline-pay firmware v1";

/** Longest board name and version an offer may carry. */
export const MAX_LABEL = 32;

/** True for 1..32 printable ASCII characters (0x21..0x7e: no space, no NUL). */
export function isLabel(s: unknown): boolean {
  if (typeof s !== "string" || !s.length || s.length > MAX_LABEL) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** The bytes a firmware key signs for `bundle` (by its SHA-256) built for `board` as `version`. */
export function firmwareBody(board: string, version: string, sha256: Uint8Array): Uint8Array {
  const text = ascii(FIRMWARE_DOMAIN + "\0" + board + "\0" + version + "\0");
  const out = new Uint8Array(text.length + sha256.length);
  out.set(text, 0);
  out.set(sha256, text.length);
  return out;
}

/** Version parts split at "." and "-" (as the gateway compares them). */
function parts(v: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < v.length; i++) {
    const c = v.charAt(i);
    if (c === "." || c === "-") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** A part as a number when it is only digits, else -1. */
function num(p: string): number {
  if (!p.length) return 0; // as Number("") in the gateway
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Orders two versions part by part (split at "." and "-", a missing part reads "0"): numeric parts as numbers,
 * others as text. Negative when `a` is older, 0 when equal, positive when newer. "0.2.0" > "0.1.9+abc" and
 * "10" > "9"; build metadata after "+" belongs to its part ("0+b" > "0+a"), as the gateway's versionNewer reads it.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = i < pa.length ? pa[i] : "0";
    const y = i < pb.length ? pb[i] : "0";
    const nx = num(x);
    const ny = num(y);
    if (nx >= 0 && ny >= 0) {
      if (nx !== ny) return nx > ny ? 1 : -1;
    } else if (x !== y) return x > y ? 1 : -1;
  }
  return 0;
}
