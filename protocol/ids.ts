/**
 * Transaction IDs and the short reference a customer quotes (UTR).
 * txId (8 bytes) = terminalId (u32, unique per issuer, given at registration) || sequence (u32, the secure
 * element's monotonic counter), so IDs are unique across the fleet with no coordination and survive re-flashing.
 * UTR = the same two numbers as 11 Crockford base-32 characters (terminalId < 2^31, sequence < 2^21 = the
 * ATECC608 counter's range: 52 bits) plus one check character (value mod 37), shown as XXXX-XXXX-XXXX.
 */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

export function txId(terminalId: number, seq: number): Uint8Array {
  const b = new Uint8Array(8);
  for (let i = 0; i < 4; i++) {
    b[3 - i] = (terminalId >>> (8 * i)) & 255;
    b[7 - i] = (seq >>> (8 * i)) & 255;
  }
  return b;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

export function txParts(id: Uint8Array): { terminalId: number; seq: number } {
  return { terminalId: u32(id, 0), seq: u32(id, 4) };
}

export const SEQ_LIMIT = 2097152; // 2^21

/** "" when the numbers are out of the UTR's range. */
export function utr(terminalId: number, seq: number): string {
  if (terminalId < 0 || terminalId >= 2147483648 || seq < 0 || seq >= SEQ_LIMIT) return "";
  // value = terminalId * 2^21 + seq, kept as two exact halves (Espruino's doubles are exact to 2^53, but its
  // Math.pow is not, so no pow of large numbers here)
  let hi = terminalId; // 31 bits
  let lo = seq; // 21 bits
  let check = 0;
  const digits: number[] = [];
  for (let i = 0; i < 11; i++) {
    // divide (hi * 2^21 + lo) by 32
    const d = lo % 32;
    lo = Math.floor(lo / 32) + (hi % 32) * 65536; // 2^21 / 32 = 2^16
    hi = Math.floor(hi / 32);
    digits.push(d);
  }
  let s = "";
  for (let i = 10; i >= 0; i--) {
    s += CROCKFORD.charAt(digits[i]);
    check = (check * 32 + digits[i]) % 37;
  }
  s += CROCKFORD.charAt(check);
  return s.slice(0, 4) + "-" + s.slice(4, 8) + "-" + s.slice(8);
}

/** Parse what a customer quotes (case-insensitive, O->0, I/L->1, dashes ignored); null when the check fails. */
export function parseUtr(text: string): { terminalId: number; seq: number } | null {
  let clean = "";
  for (let i = 0; i < text.length; i++) {
    let c = text.charAt(i).toUpperCase();
    if (c === "-" || c === " ") continue;
    if (c === "O") c = "0";
    if (c === "I" || c === "L") c = "1";
    clean += c;
  }
  if (clean.length !== 12) return null;
  let hi = 0;
  let lo = 0;
  let check = 0;
  for (let i = 0; i < 11; i++) {
    const d = CROCKFORD.indexOf(clean.charAt(i));
    if (d < 0 || d > 31) return null;
    check = (check * 32 + d) % 37;
    // (hi * 2^21 + lo) * 32 + d
    lo = lo * 32 + d;
    hi = hi * 32 + Math.floor(lo / SEQ_LIMIT);
    lo = lo % SEQ_LIMIT;
  }
  if (CROCKFORD.indexOf(clean.charAt(11)) !== check || hi >= 2147483648) return null;
  return { terminalId: hi, seq: lo };
}
