/**
 * Signed firmware updates: an offered bundle (from the sync hello reply) is checked against the issuer key,
 * fetched in chunks into the update slot that is not running, hashed, and committed with one single-byte write.
 * The boot stub (./layout.ts) then boots it, and rolls back to the previous bundle if it never confirms its boot.
 *
 *   installUpdate({ store, crypto, se, issuerKey, maxBytes, fetchChunk }, offer, (p) => show(p), (err, slot) => {
 *     if (!err) device.platform.reboot();      // when idle: the new bundle starts on the next boot
 *   });
 *
 * The signature is ECDSA P-256 (R||S) by the issuer key over the bundle's SHA-256, checked by the secure element
 * before anything is downloaded; the downloaded bytes must then hash to that same SHA-256. Nothing is written
 * when Storage lacks room for the bundle: writing into a full Storage would make Espruino compact it, which a
 * power cut can turn into an empty Storage (espruino-notes.md).
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import type { FileStore } from "../../hal/storage.ts";
import { equalConstantTime, fromHex } from "../../protocol/codec/hex.ts";
import { OFF_COMMIT, STATE_BYTES, slotFile, stateFile } from "./layout.ts";
import { eraseSlot, newestGeneration, readSlot, targetSlot } from "./slots.ts";

/** What the gateway offers in its hello reply (docs/sync.md): hex strings for the hash and signature. */
export interface UpdateOffer {
  version: string;
  size: number;
  /** SHA-256 of the bundle, 64 hex digits. */
  sha256: string;
  /** Issuer's ECDSA P-256 signature R||S over that SHA-256, 128 hex digits. */
  sig: string;
}

export interface UpdateDeps {
  store: FileStore;
  crypto: CryptoBackend;
  se: SecureElement;
  /** Issuer public key X||Y (64 bytes) that signs firmware. */
  issuerKey: Uint8Array;
  /** Other trusted issuer keys (rotated in at sync), tried in turn when `issuerKey` did not sign the offer. */
  otherKeys?: Uint8Array[];
  /** Largest bundle the board takes (its budget). */
  maxBytes: number;
  /** Bytes of the offered bundle from `offset` (the sync `update-chunk` op). */
  fetchChunk(offset: number, length: number, done: (err: string | null, data?: Uint8Array) => void): void;
  /** Bytes per fetch (default 512). */
  chunkBytes?: number;
}

export interface UpdateError {
  code: "BAD_OFFER" | "BAD_SIGNATURE" | "NO_ROOM" | "FETCH" | "WRITE" | "HASH_MISMATCH" | "SE";
  message: string;
}

/** Bytes of slack left in Storage beyond the bundle and its state. */
const ROOM_MARGIN = 4096;

function fail(code: UpdateError["code"], message: string): UpdateError {
  return { code: code, message: message };
}

/** True when `offer` is already installed in some committed slot (nothing to do). */
export function alreadyInstalled(store: FileStore, offer: UpdateOffer): boolean {
  const sha = fromHex(offer.sha256);
  if (!sha) return false;
  const slots = ["a", "b"];
  for (let i = 0; i < slots.length; i++) {
    const st = readSlot(store, slots[i]);
    if (st && st.committed && equalConstantTime(st.sha256, sha)) return true;
  }
  return false;
}

/** Whether one of the trusted issuer keys (`issuerKey`, then `otherKeys`) signed `sha`; stops at the first. */
function verifyAny(d: UpdateDeps, sha: Uint8Array, sig: Uint8Array, i: number, done: (err: string | null, valid?: boolean) => void): void {
  const key = i === 0 ? d.issuerKey : d.otherKeys ? d.otherKeys[i - 1] : undefined;
  if (!key) return done(null, false);
  d.se.verify(sha, sig, key, (err, valid) => {
    if (err) return done(err);
    if (valid === true) return done(null, true);
    verifyAny(d, sha, sig, i + 1, done);
  });
}

export function installUpdate(d: UpdateDeps, offer: UpdateOffer, progress: (done: number, total: number) => void, done: (err: UpdateError | null, slot?: string) => void): void {
  const sha = fromHex(offer.sha256 || "");
  const sig = fromHex(offer.sig || "");
  const size = offer.size;
  if (!sha || sha.length !== 32 || !sig || sig.length !== 64) return done(fail("BAD_OFFER", "Update offer malformed"));
  if (!(size > 0 && size <= d.maxBytes && Math.floor(size) === size)) return done(fail("BAD_OFFER", "Update size " + size + " over budget " + d.maxBytes));
  verifyAny(d, sha, sig, 0, (err, valid) => {
    if (err) return done(fail("SE", "Secure element: " + err));
    if (valid !== true) return done(fail("BAD_SIGNATURE", "Update not signed by the issuer"));
    const slot = targetSlot(d.store);
    // Clear the slot first (state before data, so it can never be chosen half-written).
    eraseSlot(d.store, slot);
    const st = d.store.stats();
    if (st.freeBytes < size + STATE_BYTES + ROOM_MARGIN) return done(fail("NO_ROOM", "Storage too full for the update (" + st.freeBytes + " bytes free)"));
    const step = d.chunkBytes || 512;
    const name = slotFile(slot);
    let off = 0;
    const next = () => {
      if (off >= size) return finish();
      const n = Math.min(step, size - off);
      d.fetchChunk(off, n, (ferr, data) => {
        if (ferr || !data || data.length !== n) return done(fail("FETCH", "Update download failed at " + off + (ferr ? ": " + ferr : "")));
        let ok = false;
        try {
          // The first write creates the file at its full size; the rest fill it at their offsets.
          ok = off === 0 ? d.store.write(name, data, 0, size) : d.store.write(name, data, off);
        } catch (e) {
          ok = false;
        }
        if (!ok) {
          eraseSlot(d.store, slot);
          return done(fail("WRITE", "Update write failed at " + off));
        }
        off += n;
        progress(off, size);
        next();
      });
    };
    const finish = () => {
      const bytes = d.store.read(name);
      const got = bytes ? d.crypto.sha256(bytes) : null;
      if (!got || got.length !== 32 || !equalConstantTime(got, sha)) {
        eraseSlot(d.store, slot);
        return done(fail("HASH_MISMATCH", "Downloaded update does not match its signed hash"));
      }
      const gen = newestGeneration(d.store) + 1;
      const head = new Uint8Array(40);
      head[0] = (gen >>> 24) & 255;
      head[1] = (gen >>> 16) & 255;
      head[2] = (gen >>> 8) & 255;
      head[3] = gen & 255;
      head[4] = (size >>> 24) & 255;
      head[5] = (size >>> 16) & 255;
      head[6] = (size >>> 8) & 255;
      head[7] = size & 255;
      head.set(sha, 8);
      if (!d.store.write(stateFile(slot), head, 0, STATE_BYTES)) return done(fail("WRITE", "Update state write failed"));
      // The switch: one byte.
      if (!d.store.write(stateFile(slot), new Uint8Array([1]), OFF_COMMIT)) return done(fail("WRITE", "Update commit failed"));
      done(null, slot);
    };
    next();
  });
}
