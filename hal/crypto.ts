/**
 * Symmetric primitives. On the device: Espruino's built-in `crypto` where the board has it (AES-CBC, SHA-256).
 * Everything above (HMAC, encrypt-then-MAC, padding) is written once in firmware/ on top of this.
 */
export interface CryptoBackend {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** AES-CBC, no padding: data length must be a multiple of 16. Key 16 or 32 bytes. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
}
