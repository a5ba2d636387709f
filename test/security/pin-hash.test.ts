/**
 * Attack (security review, item 5b): the technician and merchant PINs were stored as one salted HMAC-SHA256, so
 * whoever gets the vault's keys (an I2C probe on the secure element's ECDH, docs/protocol.md section 8) tries all
 * 10,000 four-digit PINs in a few milliseconds. The record is now PBKDF2-HMAC-SHA256 with PIN_ITERATIONS.
 */
import assert from "node:assert/strict";
import { createHmac, pbkdf2Sync } from "node:crypto";
import type { CryptoBackend } from "../../hal/crypto.ts";
import { checkPin, hashPin, PIN_ITERATIONS } from "../../firmware/vault.ts";
import { crypto } from "../protocol/helpers.ts";

function counting(): { c: CryptoBackend; runs: () => number } {
  let n = 0;
  const c = Object.create(crypto) as CryptoBackend;
  c.sha256 = (b: Uint8Array) => {
    n++;
    return crypto.sha256(b);
  };
  return { c, runs: () => n };
}

describe("attack: a brute force of a stolen PIN record", () => {
  const salt = new Uint8Array(16).fill(7);

  it("costs at least 1,000 SHA-256 runs per guess", () => {
    const rec = hashPin(crypto, salt, "2468");
    const k = counting();
    assert.equal(checkPin(k.c, rec, "0000"), false);
    assert.ok(k.runs() >= 1000, "one guess took " + k.runs() + " SHA-256 runs");
  });

  it("is PBKDF2-HMAC-SHA256 (RFC 8018) of 'pin:' + PIN, as Node computes it, after the salt and the count", () => {
    const rec = hashPin(crypto, salt, "2468");
    assert.equal(rec.length, 50);
    assert.equal(rec[16] * 256 + rec[17], PIN_ITERATIONS);
    assert.deepEqual(Buffer.from(rec.subarray(18)), pbkdf2Sync("pin:2468", Buffer.from(salt), PIN_ITERATIONS, 32, "sha256"));
    assert.equal(checkPin(crypto, rec, "2468"), true);
    assert.equal(checkPin(crypto, rec, "2469"), false);
  });

  it("still checks a record of older firmware (one HMAC), so a terminal updated in the field keeps its PINs", () => {
    const old = new Uint8Array(48);
    old.set(salt);
    old.set(createHmac("sha256", Buffer.from(salt)).update("pin:2468").digest(), 16);
    assert.equal(checkPin(crypto, old, "2468"), true);
    assert.equal(checkPin(crypto, old, "2469"), false);
  });
});
