/**
 * installUpdate against a signed offer, unit by unit on a small simulated Storage (no board boot): each check of
 * the offer in its order and with the message the terminal shows ("Update failed", code, message), the room
 * check at its exact boundary, the download's failures (fetch, short chunk, a write refused or throwing), the
 * hash check, and the three writes of the commit (minimum version, state, commit byte). Each case was a fault (a
 * mutant) that the flow tests in update.test.ts and attacks.test.ts let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import type { FileStore, StorageStats } from "../../hal/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { OFF_COMMIT, STATE_BYTES, slotFile, stateFile } from "../../firmware/update/layout.ts";
import { MIN_LOGS, readMinVersion } from "../../firmware/update/min-version.ts";
import { readSlot, runningSlot } from "../../firmware/update/slots.ts";
import { installUpdate } from "../../firmware/update/updater.ts";
import type { UpdateError, UpdateOffer } from "../../firmware/update/updater.ts";
import { BOARD, firmwareSigner, flashStore, keysOf, verifyingSe } from "./helpers.ts";
import type { FirmwareSigner } from "./helpers.ts";

/** 1,300 bytes: three chunks of 512, the last one short. */
const BODY = "x".repeat(1300);
const BYTES = new Uint8Array(Buffer.from(BODY, "latin1"));
const SHA = new Uint8Array(nodeCrypto().sha256(BYTES));

/** The simulator's Storage with hooks: a write refused or throwing, a read lost, stats as given. */
interface Rig extends FileStore {
  inner: FileStore;
  failWrite?: (name: string, offset: number | undefined) => "refuse" | "throw" | undefined;
  loseRead?: (name: string) => boolean;
  statsOverride?: Partial<StorageStats>;
  writes: string[];
}

function rig(): Rig {
  const inner = flashStore(new Flash({ size: 128 * 1024 }));
  const r: Rig = {
    inner,
    writes: [],
    read: (n, o, l) => (r.loseRead && r.loseRead(n) ? undefined : inner.read(n, o, l)),
    write: (n, d, o, s) => {
      const f = r.failWrite && r.failWrite(n, o);
      if (f === "throw") throw new Error("flash write failed");
      if (f === "refuse") return false;
      r.writes.push(n + "@" + (o || 0));
      return inner.write(n, d, o, s);
    },
    erase: (n) => inner.erase(n),
    list: (p) => inner.list(p),
    stats: () => ({ ...inner.stats(), ...r.statsOverride }),
  };
  return r;
}

interface Result {
  err: UpdateError | null;
  slot?: string;
  calls: number;
  progress: Array<[number, number]>;
  fetched: Array<[number, number]>;
}

interface Opts {
  store?: Rig;
  signer?: FirmwareSigner;
  keys?: { [id: string]: Uint8Array };
  running?: string;
  maxBytes?: number;
  se?: SecureElement;
  /** Answers a fetch; default: the bundle's bytes. */
  fetch?: (off: number, n: number) => { err: string | null; data?: Uint8Array };
}

function install(offer: UpdateOffer, o: Opts = {}): Result & { store: Rig } {
  const store = o.store ?? rig();
  const signer = o.signer ?? SIGNER;
  const r: Result = { err: null, calls: 0, progress: [], fetched: [] };
  installUpdate(
    {
      store,
      crypto: nodeCrypto(),
      se: o.se ?? verifyingSe(),
      firmwareKeys: o.keys ?? keysOf([signer]),
      board: BOARD,
      running: o.running ?? "1.0",
      maxBytes: o.maxBytes ?? 4096,
      chunkBytes: 512,
      fetchChunk: (off, n, done) => {
        r.fetched.push([off, n]);
        const a = o.fetch ? o.fetch(off, n) : { err: null, data: BYTES.slice(off, off + n) };
        done(a.err, a.data);
      },
    },
    offer,
    (d, t) => r.progress.push([d, t]),
    (err, slot) => {
      r.calls++;
      r.err = err;
      r.slot = slot;
    },
  );
  assert.equal(r.calls, 1, "installUpdate answers once");
  return { ...r, store };
}

const SIGNER = firmwareSigner(4);
const OFFER = SIGNER.offer(BODY, "2.0");

/** The error's code and message. */
function failed(r: Result): [string, string] {
  assert.ok(r.err, "refused");
  return [r.err.code, r.err.message];
}

describe("installUpdate: the signed offer", () => {
  it("installs a valid offer: three chunks fetched in order, progress after each, the slot committed with the signed hash", () => {
    const r = install(OFFER);
    assert.equal(r.err, null);
    assert.equal(r.slot, "a");
    assert.deepEqual(r.fetched, [
      [0, 512],
      [512, 512],
      [1024, 276],
    ]);
    assert.deepEqual(r.progress, [
      [512, 1300],
      [1024, 1300],
      [1300, 1300],
    ]);
    const st = readSlot(r.store, "a")!;
    assert.deepEqual(st, { slot: "a", gen: 1, size: 1300, sha256: SHA, committed: true, good: false, tries: 0 });
    assert.deepEqual(r.store.read(slotFile("a")), BYTES);
    assert.equal(readMinVersion(r.store), "2.0");
  });

  it("refuses a malformed hash or signature before anything else, each on its own", () => {
    const sha = OFFER.sha256;
    const sig = OFFER.sig;
    const bad: Array<Partial<UpdateOffer>> = [
      { sha256: undefined as unknown as string },
      { sha256: sha.slice(0, 62) }, // 31 bytes
      { sha256: sha + "00" }, // 33 bytes
      { sha256: "zz" + sha.slice(2) },
      { sig: undefined as unknown as string },
      { sig: sig.slice(0, 126) }, // 63 bytes
      { sig: sig + "00" },
      { sig: "g" + sig.slice(1) },
    ];
    for (const b of bad) {
      const r = install({ ...OFFER, ...b });
      assert.deepEqual(failed(r), ["BAD_OFFER", "Update offer malformed"], JSON.stringify(b));
      assert.equal(r.fetched.length, 0);
      assert.deepEqual(r.store.writes, []);
    }
  });

  it("refuses a board or version that is not a label (empty, a space, too long) as malformed, not as another board or version", () => {
    for (const b of [{ board: "dev kit" }, { board: "" }, { version: "3 0" }, { version: "9".repeat(33) }]) {
      assert.deepEqual(failed(install({ ...OFFER, ...b })), ["BAD_OFFER", "Update offer malformed"], JSON.stringify(b));
    }
  });

  it("takes a size up to the board's budget exactly; refuses 0, negative, fractional or over-budget sizes, naming size and budget", () => {
    assert.equal(install(OFFER, { maxBytes: 1300 }).err, null);
    assert.deepEqual(failed(install(OFFER, { maxBytes: 1299 })), ["BAD_OFFER", "Update size 1300 over budget 1299"]);
    for (const size of [0, -1, 1299.5]) {
      const r = install({ ...OFFER, size });
      assert.deepEqual(failed(r), ["BAD_OFFER", "Update size " + size + " over budget 4096"]);
      assert.equal(r.fetched.length, 0);
    }
  });

  it("refuses an offer for another board, naming both", () => {
    const r = install(SIGNER.offer(BODY, "2.0", "other-board"));
    assert.deepEqual(failed(r), ["WRONG_BOARD", "Update is for board other-board, not " + BOARD]);
  });

  it("refuses the running version itself and an older one, naming both", () => {
    assert.deepEqual(failed(install(OFFER, { running: "2.0" })), ["NOT_NEWER", "Update 2.0 is not newer than 2.0"]);
    assert.deepEqual(failed(install(OFFER, { running: "2.0.0" })), ["NOT_NEWER", "Update 2.0 is not newer than 2.0.0"]);
    assert.deepEqual(failed(install(OFFER, { running: "2.1" })), ["NOT_NEWER", "Update 2.0 is not newer than 2.1"]);
  });

  it("refuses a version below the persisted minimum, naming both; the minimum itself is allowed", () => {
    const store = rig();
    assert.equal(install(SIGNER.offer(BODY, "3.0"), { store }).err, null);
    assert.deepEqual(failed(install(OFFER, { store })), ["BELOW_MINIMUM", "Update 2.0 is below the minimum 3.0"]);
    // running an older factory bundle again (rolled back), the minimum version itself installs again
    const again = install(SIGNER.offer(BODY + " ", "3.0"), { store, fetch: (off, n) => ({ err: null, data: new Uint8Array(Buffer.from(BODY + " ", "latin1")).slice(off, off + n) }) });
    assert.equal(again.err, null);
  });

  it("refuses an unknown key ID, and a key that is not 64 bytes, naming the ID", () => {
    assert.deepEqual(failed(install(OFFER, { keys: {} })), ["UNKNOWN_KEY", "Update signed by unknown firmware key 4"]);
    for (const len of [63, 65]) {
      const key = new Uint8Array(len);
      key.set(SIGNER.pub.subarray(0, Math.min(64, len)));
      assert.deepEqual(failed(install(OFFER, { keys: { "4": key } })), ["UNKNOWN_KEY", "Update signed by unknown firmware key 4"], len + " bytes");
    }
  });

  it("reports a secure element error as SE, and only a verify answering exactly true installs", () => {
    const errSe = { ...verifyingSe(), verify: (_d: Uint8Array, _s: Uint8Array, _p: Uint8Array, done: (e: string | null, ok?: boolean) => void) => done("i2c timeout", true) } as SecureElement;
    const r = install(OFFER, { se: errSe });
    assert.deepEqual(failed(r), ["SE", "Secure element: i2c timeout"]);
    assert.deepEqual(r.store.writes, []);
    const truthy = { ...verifyingSe(), verify: (_d: Uint8Array, _s: Uint8Array, _p: Uint8Array, done: (e: string | null, ok?: unknown) => void) => done(null, 1) } as unknown as SecureElement;
    assert.deepEqual(failed(install(OFFER, { se: truthy })), ["BAD_SIGNATURE", "Update not signed by firmware key 4"]);
  });
});

describe("installUpdate: room, download and commit", () => {
  /** Bytes the installer asks for: the bundle, its state and 4 KB of slack. */
  const NEED = 1300 + STATE_BYTES + 4096;

  it("needs free bytes for the bundle, its state and 4 KB of slack, to the byte", () => {
    const ok = rig();
    ok.statsOverride = { freeBytes: NEED };
    assert.equal(install(OFFER, { store: ok }).err, null);
    const short = rig();
    short.statsOverride = { freeBytes: NEED - 1 };
    const r = install(OFFER, { store: short });
    assert.deepEqual(failed(r), ["NO_ROOM", "Storage too full for the update (" + (NEED - 1) + " bytes free)"]);
    assert.equal(r.fetched.length, 0);
  });

  it("clears the target slot before downloading: a failed download leaves neither the old state nor the old bundle", () => {
    const store = rig();
    // slot a: a committed but never booted older update (what the target slot holds after a rollback)
    assert.equal(install(SIGNER.offer(BODY, "1.5"), { store }).err, null);
    assert.ok(readSlot(store, "a"));
    const r = install(OFFER, { store, running: "1.5", fetch: (off, n) => (off === 0 ? { err: null, data: BYTES.slice(0, n) } : { err: "timeout" }) });
    assert.deepEqual(failed(r), ["FETCH", "Update download failed at 512: timeout"]);
    assert.equal(readSlot(store, "a"), null, "the old state is gone");
    assert.equal(runningSlot(store), "");
  });

  it("refuses a fetch error, a missing chunk or a short chunk, naming the offset", () => {
    const cases: Array<[(off: number, n: number) => { err: string | null; data?: Uint8Array }, string]> = [
      [() => ({ err: "gone", data: BYTES.slice(0, 512) }), "Update download failed at 0: gone"],
      [() => ({ err: null }), "Update download failed at 0"],
      [(off, n) => ({ err: null, data: off === 512 ? BYTES.slice(off, off + n - 1) : BYTES.slice(off, off + n) }), "Update download failed at 512"],
      [(off, n) => ({ err: null, data: off === 1024 ? new Uint8Array(n + 1) : BYTES.slice(off, off + n) }), "Update download failed at 1024"],
    ];
    for (const [fetch, msg] of cases) {
      const r = install(OFFER, { fetch });
      assert.deepEqual(failed(r), ["FETCH", msg]);
      assert.equal(readSlot(r.store, "a"), null);
    }
  });

  it("a chunk write refused or throwing stops the download, erases the slot's bytes and reports WRITE at its offset", () => {
    for (const how of ["refuse", "throw"] as const) {
      for (const at of [0, 512]) {
        const store = rig();
        store.failWrite = (n, o) => (n === slotFile("a") && (o || 0) === at ? how : undefined);
        const r = install(OFFER, { store });
        assert.deepEqual(failed(r), ["WRITE", "Update write failed at " + at], how + " at " + at);
        assert.equal(store.read(slotFile("a")), undefined, "the partial bundle is erased");
        assert.equal(r.progress.length, at / 512, "progress only for chunks written");
      }
    }
  });

  it("refuses bytes that do not hash to the signed SHA-256, or a bundle that cannot be read back, and erases them", () => {
    const other = new Uint8Array(BYTES);
    other[700] ^= 1;
    const r = install(OFFER, { fetch: (off, n) => ({ err: null, data: other.slice(off, off + n) }) });
    assert.deepEqual(failed(r), ["HASH_MISMATCH", "Downloaded update does not match its signed hash"]);
    assert.equal(r.store.read(slotFile("a")), undefined);
    assert.equal(readSlot(r.store, "a"), null);
    assert.equal(readMinVersion(r.store), "", "the minimum is not raised");
    const lost = rig();
    let fetched = false;
    lost.loseRead = (n) => fetched && n === slotFile("a");
    const r2 = install(OFFER, { store: lost, fetch: (off, n) => ((fetched = off + n >= 1300), { err: null, data: BYTES.slice(off, off + n) }) });
    assert.deepEqual(failed(r2), ["HASH_MISMATCH", "Downloaded update does not match its signed hash"]);
  });

  it("each commit write refused is a WRITE naming it, and leaves nothing that boots", () => {
    const cases: Array<[(n: string, o: number | undefined) => boolean, string]> = [
      [(n) => MIN_LOGS.includes(n), "Update minimum version write failed"],
      [(n, o) => n === stateFile("a") && !o, "Update state write failed"],
      [(n, o) => n === stateFile("a") && o === OFF_COMMIT, "Update commit failed"],
    ];
    for (const [when, msg] of cases) {
      const store = rig();
      store.failWrite = (n, o) => (when(n, o) ? "refuse" : undefined);
      const r = install(OFFER, { store });
      assert.deepEqual(failed(r), ["WRITE", msg]);
      assert.equal(runningSlot(store), "");
      assert.equal(readSlot(store, "a")?.committed ?? false, false);
    }
  });
});
