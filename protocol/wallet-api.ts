/**
 * What a wallet signs to call the gateway's wallet API (docs/gateway.md, "Wallet API"): ECDSA P-256 (R||S, hex in
 * the `x-wallet-signature` header) over SHA-256 of
 *
 *   "offline-pay wallet-api v1" LF METHOD LF path LF body          (UTF-8; path without the query)
 *
 * The label starts with a letter, never with the version byte 0x01 that protocol messages start with, so such a
 * signature can never pass for a payment. The body's `time` (Unix ms) must rise from request to request.
 */
export const WALLET_API_LABEL = "offline-pay wallet-api v1";

/** UTF-8 of a string (RFC 3629); a lone surrogate becomes U+FFFD, as TextEncoder and Node's Buffer do. */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

export function walletRequestBytes(method: string, path: string, body: string): Uint8Array {
  return utf8(WALLET_API_LABEL + "\n" + method.toUpperCase() + "\n" + path + "\n" + body);
}
