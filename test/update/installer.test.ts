/**
 * The update installer and the slot states, unit by unit on the simulator's Storage (no board, no boot): each
 * malformed offer, each failure (secure element, fetch, write, hash, state write, commit) with its code and message
 * and the slot left clean, the slot state read field by field, which slot runs, which generation comes next.
 * Each case was a fault (a mutant) that the flow tests in update.test.ts let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import type { FileStore } from "../../hal/storage.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { OFF_COMMIT, OFF_GOOD, OFF_TRIES, STATE_BYTES, slotFile, stateFile } from "../../firmware/update/layout.ts";
import { confirmBoot, eraseSlot, newestGeneration, readSlot, runningSlot, targetSlot } from "../../firmware/update/slots.ts";
import { alreadyInstalled, installUpdate } from "../../firmware/update/updater.ts";
import type { UpdateDeps, UpdateError, UpdateOffer } from "../../firmware/update/updater.ts";
import { flashStore } from "./helpers.ts";

const KEY = new Uint8Array(64).fill(7);
const OTHER = new Uint8Array(64).fill(8);
const BUNDLE = new Uint8Array(1300).map((_, i) => (i * 7) & 255);
const SHA = createHash("sha256").update(BUNDLE).digest("hex");
const SIG = "ab".repeat(64);
const OFFER: UpdateOffer = { version: "2", size: BUNDLE.length, sha256: SHA, sig: SIG };

function store(): FileStore {
  return flashStore(new Flash({ size: 256 * 1024 }));
}

/** A secure element that finds the signature valid for the keys in `signers`, or reports `err`. */
function se(signers: Uint8Array[], err?: string): SecureElement & { calls: number } {
  const s = {
    calls: 0,
    verify(_d: Uint8Array, _s: Uint8Array, pub: Uint8Array, done: (e: string | null, v?: boolean) => void) {
      s.calls++;
      if (err) return done(err);
      done(null, signers.some((k) => k.every((x, i) => x === pub[i])));
    },
  };
  return s as unknown as SecureElement & { calls: number };
}

interface Run {
  err: UpdateError | null;
  slot?: string;
  fetched: [number, number][];
  progress: [number, number][];
}

function install(over: Partial<UpdateDeps> & { store: FileStore }, offer: Partial<UpdateOffer> = {}, bytes = BUNDLE): Run {
  const run: Run = { err: null, fetched: [], progress: [] };
  let calls = 0;
  installUpdate(
    {
      crypto: nodeCrypto(),
      se: se([KEY]),
      issuerKey: KEY,
      maxBytes: 4096,
      fetchChunk: (off, n, done) => {
        run.fetched.push([off, n]);
        done(null, bytes.slice(off, off + n));
      },
      ...over,
    },
    { ...OFFER, ...offer },
    (d, t) => run.progress.push([d, t]),
    (err, slot) => {
      calls++;
      run.err = err;
      run.slot = slot;
    },
  );
  assert.equal(calls, 1, "done called once");
  return run;
}

/** A state file as the installer writes it, with tries and flags as given. */
function state(gen: number, size: number, sha: Uint8Array, o: { committed?: boolean; good?: boolean; tries?: number } = {}): Uint8Array {
  const s = new Uint8Array(STATE_BYTES).fill(0xff);
  new DataView(s.buffer).setUint32(0, gen);
  new DataView(s.buffer).setUint32(4, size);
  s.set(sha, 8);
  if (o.committed !== false) s[OFF_COMMIT] = 1;
  for (let i = 0; i < (o.tries || 0); i++) s[OFF_TRIES + i] = 0;
  if (o.good) s[OFF_GOOD] = 1;
  return s;
}

/** A slot with a complete bundle of `size` bytes and its state. */
function putSlot(st: FileStore, slot: string, gen: number, o: { committed?: boolean; good?: boolean; tries?: number; size?: number; dataSize?: number } = {}): void {
  const size = o.size ?? 100;
  st.write(slotFile(slot), new Uint8Array(o.dataSize ?? size).fill(0x41));
  st.write(stateFile(slot), state(gen, size, new Uint8Array(32).fill(gen), o));
}

describe("update installer: offers refused before anything is fetched", () => {
  for (const [what, offer] of [
    ["a SHA-256 one byte short", { sha256: SHA.slice(2) }],
    ["a SHA-256 that is not hex", { sha256: "zz" + SHA.slice(2) }],
    ["no SHA-256", { sha256: undefined }],
    ["a signature one byte short", { sig: SIG.slice(2) }],
    ["a signature that is not hex", { sig: "zz" + SIG.slice(2) }],
    ["no signature", { sig: undefined }],
  ] as [string, Partial<UpdateOffer>][]) {
    it(what, () => {
      const r = install({ store: store() }, offer);
      assert.deepEqual(r.err, { code: "BAD_OFFER", message: "Update offer malformed" });
      assert.deepEqual(r.fetched, []);
    });
  }

  it("a size of 0, negative, fractional or over the budget; the budget itself is taken", () => {
    for (const size of [0, -5, 100.5, 4097, NaN]) {
      const r = install({ store: store() }, { size });
      assert.deepEqual(r.err, { code: "BAD_OFFER", message: `Update size ${size} over budget 4096` }, "size " + size);
      assert.deepEqual(r.fetched, []);
    }
    const big = new Uint8Array(4096).fill(3);
    const r = install({ store: store() }, { size: 4096, sha256: createHash("sha256").update(big).digest("hex") }, big);
    assert.equal(r.err, null);
  });

  it("a signature no trusted key made", () => {
    const r = install({ store: store(), se: se([OTHER]) });
    assert.deepEqual(r.err, { code: "BAD_SIGNATURE", message: "Update not signed by the issuer" });
    assert.deepEqual(r.fetched, []);
  });

  it("a secure element error, on the first key or on a rotated one", () => {
    const r = install({ store: store(), se: se([], "nack") });
    assert.deepEqual(r.err, { code: "SE", message: "Secure element: nack" });
    let n = 0;
    const flaky = {
      verify(_d: Uint8Array, _s: Uint8Array, _p: Uint8Array, done: (e: string | null, v?: boolean) => void) {
        n++;
        if (n === 1) done(null, false);
        else done("bus");
      },
    } as unknown as SecureElement;
    const r2 = install({ store: store(), se: flaky, otherKeys: [OTHER] });
    assert.deepEqual(r2.err, { code: "SE", message: "Secure element: bus" });
  });

  it("takes a rotated key's signature, trying the keys in turn and stopping at the signer", () => {
    const s = se([OTHER]);
    const r = install({ store: store(), se: s, otherKeys: [new Uint8Array(64), OTHER, KEY] });
    assert.equal(r.err, null);
    assert.equal(s.calls, 3);
  });
});

describe("update installer: download and commit", () => {
  it("fetches in chunks of chunkBytes (512 by default) and reports progress to the end", () => {
    const r = install({ store: store(), chunkBytes: 500 });
    assert.equal(r.err, null);
    assert.deepEqual(r.fetched, [
      [0, 500],
      [500, 500],
      [1000, 300],
    ]);
    assert.deepEqual(r.progress, [
      [500, 1300],
      [1000, 1300],
      [1300, 1300],
    ]);
    const d = install({ store: store() });
    assert.deepEqual(d.fetched, [
      [0, 512],
      [512, 512],
      [1024, 276],
    ]);
  });

  it("writes the state with generation, size and SHA-256, committed, and says the offer is installed", () => {
    const st = store();
    putSlot(st, "a", 0x01020304, { good: true });
    const r = install({ store: st });
    assert.equal(r.slot, "b");
    const s = readSlot(st, "b")!;
    assert.equal(s.gen, 0x01020305);
    assert.equal(s.size, 1300);
    assert.equal(Buffer.from(s.sha256).toString("hex"), SHA);
    assert.equal(s.committed, true);
    assert.equal(s.good, false);
    assert.equal(s.tries, 0);
    assert.deepEqual(st.read(slotFile("b")), BUNDLE);
    assert.equal(alreadyInstalled(st, OFFER), true);
  });

  for (const [what, fetch, message] of [
    ["a fetch error", (_o: number, _n: number, done: (e: string | null, d?: Uint8Array) => void) => done("offline"), "Update download failed at 0: offline"],
    ["no data", (_o: number, _n: number, done: (e: string | null, d?: Uint8Array) => void) => done(null), "Update download failed at 0"],
    [
      "a short chunk after a good one",
      (o: number, n: number, done: (e: string | null, d?: Uint8Array) => void) => done(null, BUNDLE.slice(o, o + (o ? n - 1 : n))),
      "Update download failed at 512",
    ],
  ] as const) {
    it(`${what} is FETCH, and the target slot holds no state of an older bundle`, () => {
      const st = store();
      putSlot(st, "a", 2, { good: true });
      putSlot(st, "b", 1, { good: true }); // an older bundle in the slot the update goes to
      const r = install({ store: st, fetchChunk: fetch });
      assert.deepEqual(r.err, { code: "FETCH", message });
      assert.equal(readSlot(st, "b"), null);
      assert.equal(runningSlot(st), "a");
    });
  }

  it("a write refused or throwing is WRITE, and the partial slot is erased", () => {
    for (const how of ["refuse", "throw"]) {
      const st = store();
      let writes = 0;
      const failing = {
        ...st,
        write: (n: string, d: Uint8Array, o?: number, s?: number) => {
          if (++writes === 2) {
            if (how === "throw") throw new Error("flash");
            return false;
          }
          return st.write(n, d, o, s);
        },
      } as FileStore;
      const r = install({ store: failing });
      assert.deepEqual(r.err, { code: "WRITE", message: "Update write failed at 512" }, how);
      assert.equal(st.read(slotFile("a")), undefined, how);
      assert.equal(readSlot(st, "a"), null, how);
    }
  });

  it("bytes that do not hash to the offer are HASH_MISMATCH, and the slot is erased", () => {
    const st = store();
    const other = new Uint8Array(BUNDLE).fill(1, 0, 1);
    const r = install({ store: st }, {}, other);
    assert.deepEqual(r.err, { code: "HASH_MISMATCH", message: "Downloaded update does not match its signed hash" });
    assert.equal(st.read(slotFile("a")), undefined);
  });

  it("a bundle that reads back missing after the download is HASH_MISMATCH, not a crash", () => {
    const st = store();
    const lost = { ...st, read: (n: string, o?: number, l?: number) => (n === slotFile("a") ? undefined : st.read(n, o, l)) } as FileStore;
    const r = install({ store: lost });
    assert.deepEqual(r.err, { code: "HASH_MISMATCH", message: "Downloaded update does not match its signed hash" });
    assert.equal(readSlot(st, "a"), null);
  });

  it("a state or commit write refused is WRITE, with which one it was", () => {
    for (const [nth, message] of [
      [1, "Update state write failed"],
      [2, "Update commit failed"],
    ] as const) {
      const st = store();
      let stateWrites = 0;
      const failing = {
        ...st,
        write: (n: string, d: Uint8Array, o?: number, s?: number) => (n === stateFile("a") && ++stateWrites === nth ? false : st.write(n, d, o, s)),
      } as FileStore;
      const r = install({ store: failing });
      assert.deepEqual(r.err, { code: "WRITE", message });
      assert.equal(runningSlot(st), "");
    }
  });

  it("needs room for the bundle, its state and 4096 bytes of margin, to the byte", () => {
    for (const [free, ok] of [
      [1300 + STATE_BYTES + 4096, true],
      [1300 + STATE_BYTES + 4095, false],
    ] as const) {
      const st = store();
      const s = { ...st, stats: () => ({ ...st.stats(), freeBytes: free }) } as FileStore;
      const r = install({ store: s });
      if (ok) assert.equal(r.err, null);
      else {
        assert.deepEqual(r.err, { code: "NO_ROOM", message: `Storage too full for the update (${free} bytes free)` });
        assert.deepEqual(r.fetched, []);
      }
    }
  });
});

describe("update slots", () => {
  it("a state file shorter than its 48 bytes is no state", () => {
    const st = store();
    st.write(stateFile("a"), state(1, 100, new Uint8Array(32)).subarray(0, STATE_BYTES - 1));
    assert.equal(readSlot(st, "a"), null);
  });

  it("reads each field: generation and size as u32, the SHA-256, committed, good, and the tries (not the good byte)", () => {
    const st = store();
    const sha = Uint8Array.from({ length: 32 }, (_, i) => i + 100);
    const s = state(0xfedcba98, 0x00012345, sha, { tries: 2 });
    s[OFF_GOOD] = 0; // not 1: not good, and not a try either
    st.write(stateFile("a"), s);
    assert.deepEqual(readSlot(st, "a"), { slot: "a", gen: 0xfedcba98, size: 0x12345, sha256: sha, committed: true, good: false, tries: 2 });
    st.write(stateFile("b"), state(1, 1, sha, { committed: false, good: true, tries: 4 }));
    const b = readSlot(st, "b")!;
    assert.equal(b.committed, false);
    assert.equal(b.good, true);
    assert.equal(b.tries, 4);
  });

  it("the factory bundle runs when no slot is committed, complete and bootable", () => {
    const st = store();
    assert.equal(runningSlot(st), "");
    assert.equal(confirmBoot(st), "");
    putSlot(st, "a", 3, { committed: false, tries: 1 });
    putSlot(st, "b", 4, { tries: 0 }); // committed but never started by the stub
    assert.equal(runningSlot(st), "");
  });

  it("a slot whose bundle is missing or of another size than its state says does not run", () => {
    const st = store();
    putSlot(st, "a", 3, { good: true, dataSize: 99 });
    assert.equal(runningSlot(st), "");
    st.erase(slotFile("a"));
    assert.equal(runningSlot(st), "");
  });

  it("an unconfirmed slot runs on its 1st to 3rd attempt, not after", () => {
    for (const [tries, running] of [
      [1, "a"],
      [3, "a"],
      [4, ""],
    ] as const) {
      const st = store();
      putSlot(st, "a", 3, { tries });
      assert.equal(runningSlot(st), running, tries + " tries");
    }
  });

  it("the newest bootable generation runs, whichever slot holds it, and the next update goes to the other", () => {
    for (const [ga, gb, want] of [
      [5, 4, "a"],
      [4, 5, "b"],
    ] as const) {
      const st = store();
      putSlot(st, "a", ga, { good: true });
      putSlot(st, "b", gb, { good: true });
      assert.equal(runningSlot(st), want);
      assert.equal(targetSlot(st), want === "a" ? "b" : "a");
      assert.equal(newestGeneration(st), 5);
    }
  });

  it("the newest generation counts committed slots only", () => {
    const st = store();
    putSlot(st, "a", 5, { committed: false });
    putSlot(st, "b", 2, { good: true });
    assert.equal(newestGeneration(st), 2);
  });

  it("confirmBoot marks the running slot good once, and names it", () => {
    const st = store();
    putSlot(st, "b", 2, { tries: 1 });
    assert.equal(confirmBoot(st), "b");
    assert.equal(readSlot(st, "b")!.good, true);
    assert.equal(confirmBoot(st), "b");
  });

  it("eraseSlot removes the state and the bundle", () => {
    const st = store();
    putSlot(st, "a", 2, { good: true });
    eraseSlot(st, "a");
    assert.equal(st.read(stateFile("a")), undefined);
    assert.equal(st.read(slotFile("a")), undefined);
  });

  it("alreadyInstalled: a committed slot with the offer's SHA-256, in either slot; not uncommitted, another or a bad hash", () => {
    const sha = Buffer.from(SHA, "hex");
    for (const slot of ["a", "b"]) {
      const st = store();
      st.write(stateFile(slot), state(1, 1300, sha));
      assert.equal(alreadyInstalled(st, OFFER), true, slot);
    }
    const st = store();
    assert.equal(alreadyInstalled(st, OFFER), false);
    st.write(stateFile("a"), state(1, 1300, sha, { committed: false }));
    st.write(stateFile("b"), state(2, 1300, new Uint8Array(32)));
    assert.equal(alreadyInstalled(st, OFFER), false);
    assert.equal(alreadyInstalled(st, { ...OFFER, sha256: "zz" }), false);
  });
});
