/** Hex <-> bytes, lower case. */
const DIGITS = "0123456789abcdef";

export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += DIGITS.charAt(b[i] >> 4) + DIGITS.charAt(b[i] & 15);
  return s;
}

/** Returns undefined for odd length or a non-hex character. */
export function fromHex(s: string): Uint8Array | undefined {
  if (s.length & 1) return undefined;
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const hi = DIGITS.indexOf(s.charAt(2 * i).toLowerCase());
    const lo = DIGITS.indexOf(s.charAt(2 * i + 1).toLowerCase());
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Bytes of an ASCII string (codes above 255 are cut to 8 bits; the device has no Unicode). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Compare without an early exit, so timing does not reveal where two tags differ. */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
