/**
 * Where signed updates live in Storage, and the boot-loader stub that picks what boots. One source for both: the
 * build prepends BOOT_STUB to every bundle (so `.bootcde`, the factory image written by tools/flash.ts, is
 * stub + bundle), and firmware/update/slots.ts reads and writes the same layout.
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

/**
 * Plain ES5 run by Espruino before the bundle's own code (`if (!stub()) { bundle }`): if a committed update slot
 * is bootable (confirmed, or fewer than ATTEMPTS_MAX unconfirmed boots), the newest one is evaluated instead of
 * the factory bundle, after recording the attempt. `global.__fw` says which slot runs ("" = factory) and stops
 * the evaluated bundle's own stub from diverting again. A bundle that throws while loading reboots the device, so
 * its attempts run out and the previous one boots (rollback).
 */
export const BOOT_STUB =
  "if(!(function(){if(global.__fw!==undefined)return 0;global.__fw=\"\";" +
  "var S=require(\"Storage\"),best=\"\",bg=-1,bt=0;" +
  "function u(s,o){return((s.charCodeAt(o)<<24)|(s.charCodeAt(o+1)<<16)|(s.charCodeAt(o+2)<<8)|s.charCodeAt(o+3))>>>0;}" +
  "[" + SLOTS.map((s) => JSON.stringify(s)).join(",") + "].forEach(function(x){" +
  "var n=\"fw.\"+x+\".st\",s=S.read(n);" +
  `if(!s||s.length<${STATE_BYTES}||s.charCodeAt(${OFF_COMMIT})!=1)return;` +
  `var d=S.read("fw."+x);if(!d||d.length!=u(s,${OFF_SIZE}))return;` +
  `var good=s.charCodeAt(${OFF_GOOD})==1,t=0,i;for(i=${OFF_TRIES};i<${OFF_TRIES + TRY_BYTES};i++)if(s.charCodeAt(i)==0)t++;` +
  `if(!good&&t>=${ATTEMPTS_MAX}){if(t==${ATTEMPTS_MAX})S.write(n,"\\0",${OFF_TRIES + ATTEMPTS_MAX});return;}` +
  `var g=u(s,${OFF_GEN});if(g>bg){bg=g;best=x;bt=good?-1:t;}});` +
  "if(!best)return 0;" +
  `if(bt>=0)S.write("fw."+best+".st","\\0",${OFF_TRIES}+bt);` +
  "global.__fw=best;" +
  "try{eval(S.read(\"fw.\"+best));}catch(e){print(\"update \"+best+\" failed to boot: \"+e);E.reboot();}" +
  "return 1;})()){\n";
/** Closes the block BOOT_STUB opens around the factory bundle. */
export const BOOT_STUB_END = "\n}\n";
