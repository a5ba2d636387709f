/**
 * Base45 (RFC 9285): bytes as text in the QR alphanumeric alphabet, 3 characters per 2 bytes, so a QR code can
 * use its denser alphanumeric mode. The scanner delivers text, so every QR payload of the protocol is Base45.
 */
export const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

export function base45Encode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i + 1 < b.length; i += 2) {
    let n = b[i] * 256 + b[i + 1];
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    s += BASE45.charAt(c) + BASE45.charAt(d) + BASE45.charAt(e);
  }
  if (b.length & 1) {
    const n = b[b.length - 1];
    s += BASE45.charAt(n % 45) + BASE45.charAt((n - (n % 45)) / 45);
  }
  return s;
}

/** Returns undefined for a bad length, a character outside the alphabet, or a group out of range. */
export function base45Decode(s: string): Uint8Array | undefined {
  const rem = s.length % 3;
  if (rem === 1) return undefined;
  const out = new Uint8Array(((s.length - rem) / 3) * 2 + (rem ? 1 : 0));
  let o = 0;
  for (let i = 0; i < s.length; i += 3) {
    const c = BASE45.indexOf(s.charAt(i));
    const d = BASE45.indexOf(s.charAt(i + 1));
    if (c < 0 || d < 0) return undefined;
    if (i + 2 < s.length) {
      const e = BASE45.indexOf(s.charAt(i + 2));
      if (e < 0) return undefined;
      const n = c + d * 45 + e * 2025;
      if (n > 0xffff) return undefined;
      out[o++] = n >> 8;
      out[o++] = n & 255;
    } else {
      const n = c + d * 45;
      if (n > 0xff) return undefined;
      out[o++] = n;
    }
  }
  return out;
}
