/**
 * Espruino's built-in `require("crypto")` on Node's crypto, with Espruino's behaviour: results are ArrayBuffers,
 * AES has no padding, a bad length prints "ERROR: ..." and returns undefined instead of throwing, and CTR mode
 * ignores the IV (the counter always starts at zero) — all as measured (espruino-notes.md).
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";

export interface CryptoRealm {
  Uint8Array: Uint8ArrayConstructor;
}

export function createCryptoModule(realm: CryptoRealm, bytes: (d: unknown) => Uint8Array, print: (s: string) => void) {
  const out = (b: Uint8Array) => {
    const r = new realm.Uint8Array(b.length);
    r.set(b);
    return r.buffer;
  };
  const hash = (alg: string) => (data: unknown) => out(createHash(alg).update(bytes(data)).digest());
  function aes(decrypt: boolean, data: unknown, key: unknown, opts?: { iv?: unknown; mode?: string }) {
    const d = bytes(data);
    const k = bytes(key);
    const mode = (opts && opts.mode ? opts.mode : "CBC").toUpperCase();
    if (k.length !== 16 && k.length !== 24 && k.length !== 32) {
      print("ERROR: Invalid key length");
      return undefined;
    }
    if ((mode === "CBC" || mode === "ECB") && d.length % 16) {
      print("ERROR: Invalid input length");
      return undefined;
    }
    const bits = k.length * 8;
    let iv: Uint8Array | null = opts && opts.iv !== undefined ? bytes(opts.iv) : new Uint8Array(16);
    let alg: string;
    if (mode === "CBC") alg = `aes-${bits}-cbc`;
    else if (mode === "ECB") {
      alg = `aes-${bits}-ecb`;
      iv = null;
    } else if (mode === "CTR") {
      alg = `aes-${bits}-ctr`;
      iv = new Uint8Array(16); // Espruino's CTR ignores the IV
    } else if (mode === "CFB") alg = `aes-${bits}-cfb8`;
    else {
      print("ERROR: Unknown mode");
      return undefined;
    }
    const c = decrypt ? createDecipheriv(alg, k, iv) : createCipheriv(alg, k, iv);
    c.setAutoPadding(false);
    return out(new Uint8Array(Buffer.concat([c.update(d), c.final()])));
  }
  return {
    SHA1: hash("sha1"),
    SHA224: hash("sha224"),
    SHA256: hash("sha256"),
    SHA384: hash("sha384"),
    SHA512: hash("sha512"),
    AES: {
      encrypt: (d: unknown, k: unknown, o?: { iv?: unknown; mode?: string }) => aes(false, d, k, o),
      decrypt: (d: unknown, k: unknown, o?: { iv?: unknown; mode?: string }) => aes(true, d, k, o),
    },
  };
}
