/**
 * crypto-js as a hal/crypto.ts backend, for a board whose Espruino build has no `crypto` module (the IDF4 beta
 * build, per espruino-notes.md). The build patches crypto-js for Espruino while bundling it (build.ts,
 * cryptoJsForEspruino). About 400 times slower than the built-in module: use the built-in one wherever it exists.
 * Both backends pass the same NIST / RFC vectors in dist/selftest.js and dist/selftest-cryptojs.js.
 */
import type CryptoJS from "crypto-js";
import type { CryptoBackend } from "./crypto.ts";

// require(), not import: esbuild's import-from-CommonJS helper reads Object.prototype.hasOwnProperty and makes
// closures in a `for (let …)` loop, both of which break on Espruino (the gate reports them).
declare const require: (name: string) => unknown;
const C = require("crypto-js/core") as typeof CryptoJS;
require("crypto-js/sha256");
require("crypto-js/aes");
require("crypto-js/pad-nopadding");

type WordArray = ReturnType<typeof C.lib.WordArray.create>;

function words(b: Uint8Array): WordArray {
  const w: number[] = [];
  for (let i = 0; i < b.length; i++) w[i >> 2] = (w[i >> 2] || 0) | (b[i] << (24 - (i & 3) * 8));
  return C.lib.WordArray.create(w, b.length);
}

function bytes(wa: WordArray): Uint8Array {
  const out = new Uint8Array(wa.sigBytes);
  for (let i = 0; i < out.length; i++) out[i] = (wa.words[i >> 2] >>> (24 - (i & 3) * 8)) & 255;
  return out;
}

function check(data: Uint8Array): void {
  if (data.length % 16) {
    const e: any = new Error("crypto aes length failed");
    e.code = "CRYPTO";
    throw e;
  }
}

export function cryptoJsBackend(): CryptoBackend {
  return {
    name: "crypto-js",
    sha256: (d) => bytes(C.SHA256(words(d))),
    aesCbcEncrypt(key, iv, data) {
      check(data);
      return bytes(C.AES.encrypt(words(data), words(key), { iv: words(iv), mode: C.mode.CBC, padding: C.pad.NoPadding }).ciphertext);
    },
    aesCbcDecrypt(key, iv, data) {
      check(data);
      const params = C.lib.CipherParams.create({ ciphertext: words(data) });
      return bytes(C.AES.decrypt(params, words(key), { iv: words(iv), mode: C.mode.CBC, padding: C.pad.NoPadding }));
    },
  };
}
