/**
 * Where signed updates live in Storage. One source for the boot-loader stub that picks what boots (./boot-stub.ts,
 * which the build prepends to every bundle, so `.bootcde`, the factory image written by tools/flash.ts, is
 * stub + bundle) and for firmware/update/slots.ts, which reads and writes the same layout.
 *
 * Files (names well under Storage's 28 characters):
 * - `.bootcde`: the factory bundle, written only by a technician's flash; updates never touch it, so a terminal
 *   always has something that boots.
 * - `fw.a`, `fw.b`: two update slots, each the whole bundle, pre-sized and written at offsets chunk by chunk.
 * - `fw.a.st`, `fw.b.st`: each slot's state, 48 bytes, created only once its bundle is complete and its SHA-256
 *   and issuer signature are checked; afterwards each field is written once into still-erased bytes:
 *     0..3   generation (u32 BE, higher boots first)   4..7 size (u32 BE)   8..39 SHA-256 of the bundle
 *     40     0x01 = committed (the single-byte write that switches; written last)
 *     41..44 boot attempts: one 0x00 per boot of a slot not yet confirmed; the stub skips a slot with
 *            ATTEMPTS_MAX attempts and no confirmation, writing one more 0x00 to mark it rolled back
 *     45     0x01 = the bundle reported a successful boot (firmware/update/slots.ts confirmBoot)
 * Every write is either a file creation or a single byte into erased flash: a power cut leaves each field
 * either written or not, and the factory image is never erased.
 */
export const SLOTS = ["a", "b"];
export const STATE_BYTES = 48;
export const OFF_GEN = 0;
export const OFF_SIZE = 4;
export const OFF_SHA = 8;
export const OFF_COMMIT = 40;
export const OFF_TRIES = 41;
export const TRY_BYTES = 4;
export const OFF_GOOD = 45;
export const ATTEMPTS_MAX = 3;

export function slotFile(slot: string): string {
  return "fw." + slot;
}
export function stateFile(slot: string): string {
  return "fw." + slot + ".st";
}
