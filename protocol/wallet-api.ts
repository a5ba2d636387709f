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

export function walletRequestBytes(method: string, path: string, body: string): Uint8Array {
  return new TextEncoder().encode(WALLET_API_LABEL + "\n" + method.toUpperCase() + "\n" + path + "\n" + body);
}
