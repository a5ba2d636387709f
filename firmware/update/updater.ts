/**
 * Signed firmware updates: an offered bundle (from the sync hello reply) is checked against the firmware keys,
 * fetched in chunks into the update slot that is not running, hashed, and committed with one single-byte write.
 * The boot stub (./boot-stub.ts) then boots it, and rolls back to the previous bundle if it never confirms its boot.
 *
 *   installUpdate({ store, crypto, se, firmwareKeys, board, running, maxBytes, fetchChunk }, offer, (p) => show(p), (err, slot) => {
 *     if (!err) device.platform.reboot();      // when idle: the new bundle starts on the next boot
 *   });
 *
 * Before anything is downloaded: the offer must be for this board, newer than the running version and not below
 * the minimum version (./min-version.ts), and the secure element must find the signature (ECDSA P-256, R||S) made by
 * the firmware key `offer.key` over protocol/firmware.ts's body (label, board, version, SHA-256 of the bundle).
 * Firmware keys are kept offline and are not the issuer keys: a signature by the online issuer key (which signs
 * allowances) installs nothing. The downloaded bytes must then hash to the signed SHA-256; the minimum version is
 * raised to the offer's before the commit byte. Nothing is written when Storage lacks room for the bundle: writing
 * into a full Storage would make Espruino compact it, which a power cut can turn into an empty Storage.
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import type { FileStore } from "../../hal/storage.ts";
import { equalConstantTime, fromHex } from "../../protocol/codec/hex.ts";
import { OFF_COMMIT, STATE_BYTES, slotFile, stateFile } from "./layout.ts";
import { compareVersions, firmwareBody, isLabel } from "../../protocol/firmware.ts";
import { raiseMinVersion, readMinVersion } from "./min-version.ts";
import { eraseSlot, newestGeneration, readSlot, targetSlot } from "./slots.ts";

/** What the gateway offers in its hello reply (docs/sync.md): hex strings for the hash and signature. */
export interface UpdateOffer {
  version: string;
  /** The board the bundle is built for (the device's `board`), signed with it. */
  board: string;
  /** ID (0..255) of the firmware key that signed it. */
  key: number;
  size: number;
  /** SHA-256 of the bundle, 64 hex digits. */
  sha256: string;
  /** The firmware key's ECDSA P-256 signature R||S over SHA-256(firmwareBody(board, version, sha256)), 128 hex digits. */
  sig: string;
}

export interface UpdateDeps {
  store: FileStore;
  crypto: CryptoBackend;
  se: SecureElement;
  /** Firmware public keys X||Y (64 bytes) by key ID, as provisioning gave them (never the issuer keys). */
  firmwareKeys: { [id: string]: Uint8Array };
  /** This device's board name: an offer for another board is refused. */
  board: string;
  /** The running firmware's version: only a newer one is installed. */
  running: string;
  /** Largest bundle the board takes (its budget). */
  maxBytes: number;
  /** Bytes of the offered bundle from `offset` (the sync `update-chunk` op). */
  fetchChunk(offset: number, length: number, done: (err: string | null, data?: Uint8Array) => void): void;
  /** Bytes per fetch (default 512). */
  chunkBytes?: number;
}

export interface UpdateError {
  code: "BAD_OFFER" | "WRONG_BOARD" | "NOT_NEWER" | "BELOW_MINIMUM" | "UNKNOWN_KEY" | "BAD_SIGNATURE" | "NO_ROOM" | "FETCH" | "WRITE" | "HASH_MISMATCH" | "SE";
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

export function installUpdate(d: UpdateDeps, offer: UpdateOffer, progress: (done: number, total: number) => void, done: (err: UpdateError | null, slot?: string) => void): void {
  const sha = fromHex(offer.sha256 || "");
  const sig = fromHex(offer.sig || "");
  const size = offer.size;
  if (!sha || sha.length !== 32 || !sig || sig.length !== 64) return done(fail("BAD_OFFER", "Update offer malformed"));
  if (!isLabel(offer.board) || !isLabel(offer.version)) return done(fail("BAD_OFFER", "Update offer malformed"));
  if (!(size > 0 && size <= d.maxBytes && Math.floor(size) === size)) return done(fail("BAD_OFFER", "Update size " + size + " over budget " + d.maxBytes));
  if (offer.board !== d.board) return done(fail("WRONG_BOARD", "Update is for board " + offer.board + ", not " + d.board));
  if (compareVersions(offer.version, d.running) <= 0) return done(fail("NOT_NEWER", "Update " + offer.version + " is not newer than " + d.running));
  const min = readMinVersion(d.store);
  if (min && compareVersions(offer.version, min) < 0) return done(fail("BELOW_MINIMUM", "Update " + offer.version + " is below the minimum " + min));
  const key = d.firmwareKeys[String(offer.key)];
  if (!key || key.length !== 64) return done(fail("UNKNOWN_KEY", "Update signed by unknown firmware key " + offer.key));
  d.se.verify(d.crypto.sha256(firmwareBody(offer.board, offer.version, sha)), sig, key, (err, valid) => {
    if (err) return done(fail("SE", "Secure element: " + err));
    if (valid !== true) return done(fail("BAD_SIGNATURE", "Update not signed by firmware key " + offer.key));
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
      // the floor first: a cut before the commit byte leaves it raised to a version still allowed (not below it)
      if (!raiseMinVersion(d.store, offer.version)) return done(fail("WRITE", "Update minimum version write failed"));
      if (!d.store.write(stateFile(slot), head, 0, STATE_BYTES)) return done(fail("WRITE", "Update state write failed"));
      // The switch: one byte.
      if (!d.store.write(stateFile(slot), new Uint8Array([1]), OFF_COMMIT)) return done(fail("WRITE", "Update commit failed"));
      done(null, slot);
    };
    next();
  });
}
