/**
 * The update slots, unit by unit on the simulator's Storage (no board, no boot): the slot state read field by
 * field, which slot runs, which generation comes next, alreadyInstalled. Each case was a fault (a mutant) that the
 * flow tests in update.test.ts let through (docs/mutation.md). The installer against a signed offer: install.test.ts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { FileStore } from "../../hal/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { OFF_COMMIT, OFF_GOOD, OFF_TRIES, STATE_BYTES, slotFile, stateFile } from "../../firmware/update/layout.ts";
import { confirmBoot, eraseSlot, newestGeneration, readSlot, runningSlot, targetSlot } from "../../firmware/update/slots.ts";
import { alreadyInstalled } from "../../firmware/update/updater.ts";
import type { UpdateOffer } from "../../firmware/update/updater.ts";
import { flashStore } from "./helpers.ts";

const BUNDLE = new Uint8Array(1300).map((_, i) => (i * 7) & 255);
const SHA = createHash("sha256").update(BUNDLE).digest("hex");
const SIG = "ab".repeat(64);
/** alreadyInstalled reads only the offer's SHA-256. */
const OFFER = { version: "2", size: BUNDLE.length, sha256: SHA, sig: SIG } as unknown as UpdateOffer;

function store(): FileStore {
  return flashStore(new Flash({ size: 256 * 1024 }));
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
