/**
 * Espruino's built-in `crypto` module as a hal/crypto.ts backend. Its errors print and return undefined instead of
 * throwing (espruino-notes.md), so every result is checked here.
 */
import type { CryptoBackend } from "../crypto.ts";

function fail(what: string): never {
  const e: any = new Error("crypto " + what + " failed");
  e.code = "CRYPTO";
  throw e;
}

export function builtinCrypto(): CryptoBackend {
  const C = require("crypto");
  function aes(dir: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
    if (data.length % 16) fail("aes length");
    if (!data.length) return new Uint8Array(0);
    const out = C.AES[dir](data, key, { iv: iv, mode: "CBC" });
    if (!out || out.byteLength !== data.length) fail("aes");
    return new Uint8Array(out);
  }
  return {
    name: "espruino",
    sha256(data) {
      const out = C.SHA256(data);
      if (!out || out.byteLength !== 32) fail("sha256");
      return new Uint8Array(out);
    },
    aesCbcEncrypt: (k, iv, d) => aes("encrypt", k, iv, d),
    aesCbcDecrypt: (k, iv, d) => aes("decrypt", k, iv, d),
  };
}
