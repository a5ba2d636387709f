/**
 * The update slots in Storage (layout in ./layout.ts): which one is running, which one the next update goes
 * to, and the boot confirmation that ends the rollback window. Mirrors the boot stub's rules exactly.
 *
 *   const r = runningSlot(device.storage);     // "a", "b" or "" (factory)
 *   confirmBoot(device.storage);               // once the firmware is up: keeps this bundle for good
 */
import type { FileStore } from "../../hal/storage.ts";
import { ATTEMPTS_MAX, OFF_COMMIT, OFF_GEN, OFF_GOOD, OFF_SHA, OFF_SIZE, OFF_TRIES, SLOTS, STATE_BYTES, TRY_BYTES, slotFile, stateFile } from "./layout.ts";

export interface SlotState {
  slot: string;
  gen: number;
  size: number;
  sha256: Uint8Array;
  committed: boolean;
  good: boolean;
  /** Boots recorded without a confirmation; ATTEMPTS_MAX + 1 = rolled back. */
  tries: number;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** A slot's state, or null when it has none (never written, or erased for the next update). */
export function readSlot(store: FileStore, slot: string): SlotState | null {
  const s = store.read(stateFile(slot));
  if (!s || s.length < STATE_BYTES) return null;
  let tries = 0;
  for (let i = OFF_TRIES; i < OFF_TRIES + TRY_BYTES; i++) if (s[i] === 0) tries++;
  const sha = new Uint8Array(32);
  for (let i = 0; i < 32; i++) sha[i] = s[OFF_SHA + i];
  return { slot: slot, gen: u32(s, OFF_GEN), size: u32(s, OFF_SIZE), sha256: sha, committed: s[OFF_COMMIT] === 1, good: s[OFF_GOOD] === 1, tries: tries };
}

function complete(store: FileStore, st: SlotState): boolean {
  const d = store.read(slotFile(st.slot));
  return !!d && d.length === st.size;
}

/** The slot the boot stub started ("" = the factory bundle in .bootcde). */
export function runningSlot(store: FileStore): string {
  let best = "";
  let bestGen = -1;
  for (let i = 0; i < SLOTS.length; i++) {
    const st = readSlot(store, SLOTS[i]);
    if (!st || !st.committed || !complete(store, st)) continue;
    if (!(st.good || (st.tries >= 1 && st.tries <= ATTEMPTS_MAX))) continue;
    if (st.gen > bestGen) {
      bestGen = st.gen;
      best = st.slot;
    }
  }
  return best;
}

/** Highest generation among committed slots (0 when none). */
export function newestGeneration(store: FileStore): number {
  let g = 0;
  for (let i = 0; i < SLOTS.length; i++) {
    const st = readSlot(store, SLOTS[i]);
    if (st && st.committed && st.gen > g) g = st.gen;
  }
  return g;
}

/** Where the next update goes: never the running slot. */
export function targetSlot(store: FileStore): string {
  const r = runningSlot(store);
  return r === SLOTS[0] ? SLOTS[1] : SLOTS[0];
}

/**
 * The running bundle reports a successful boot: its slot is kept from now on (no more rollback). Call once the
 * firmware is up (settings loaded, screen drawn). Returns the slot confirmed, "" for the factory bundle.
 */
export function confirmBoot(store: FileStore): string {
  const r = runningSlot(store);
  if (!r) return "";
  const st = readSlot(store, r);
  if (st && !st.good) store.write(stateFile(r), new Uint8Array([1]), OFF_GOOD);
  return r;
}

/** Remove a slot: its state first (so it is never chosen), then its data. */
export function eraseSlot(store: FileStore, slot: string): void {
  store.erase(stateFile(slot));
  store.erase(slotFile(slot));
}
