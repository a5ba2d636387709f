/**
 * Node's crypto as a hal/crypto.ts backend, for the gateway, the simulator's host side and tests:
 * SHA-256 and AES-CBC without padding (the firmware pads; see protocol/seal.ts).
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import type { CryptoBackend } from "../hal/crypto.ts";

function aes(decrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length % 16) throw new Error("aes-cbc: data length " + data.length + " is not a multiple of 16");
  const alg = key.length === 32 ? "aes-256-cbc" : "aes-128-cbc";
  const c = decrypt ? createDecipheriv(alg, key, iv) : createCipheriv(alg, key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

export function nodeCrypto(): CryptoBackend {
  return {
    name: "node",
    sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()),
    aesCbcEncrypt: (k, iv, d) => aes(false, k, iv, d),
    aesCbcDecrypt: (k, iv, d) => aes(true, k, iv, d),
  };
}
