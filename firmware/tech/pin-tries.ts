/**
 * Wrong-PIN counts of the technician (0) and merchant (1) PINs, kept across reboots so that a power cycle does not
 * unlock a locked menu. Written in place as a record log (firmware/record-log.ts: no compaction), one 16-byte
 * record per wrong PIN and one when a right PIN clears a count; the 4 KB file holds 250 of them, and the back-off
 * below makes that many wrong PINs take days.
 *
 *   const t = new PinTries(device.storage, device.clock, (m) => activity.add("error", m));
 *   if (t.locked(0)) ...; if (!ok) t.fail(0); else t.ok(0);
 *
 * Back-off: from the third wrong PIN in a row each one locks the PIN for 5 minutes, doubled per further wrong PIN
 * (5, 10, 20 ... minutes, at most about 21 hours), counted on the uptime clock from the wrong PIN or, after a
 * reboot, from the boot (a power cycle restarts the wait, never ends it).
 */
import type { Clock } from "../../hal/clock.ts";
import type { FileStore } from "../../hal/storage.ts";
import { RecordLog } from "../record-log.ts";

export const PIN_TRIES_LOGS = ["pintry.a", "pintry.b"];
const BYTES = 4096;
const T_TRIES = 1;
export const PIN_FREE_TRIES = 2;
export const PIN_LOCK_MS = 5 * 60000;

export function pinBackoffMs(fails: number): number {
  return fails <= PIN_FREE_TRIES ? 0 : PIN_LOCK_MS * Math.pow(2, Math.min(fails - PIN_FREE_TRIES - 1, 8));
}

export class PinTries {
  private n = new Uint16Array(2);
  private until = [0, 0];
  private log: RecordLog;

  constructor(store: FileStore, private clock: Clock, private note?: (m: string) => void) {
    this.log = new RecordLog(store, PIN_TRIES_LOGS, BYTES);
    this.log.load((type, _gen, data) => {
      if (type === T_TRIES && data.length === 4) this.n.set([data[0] * 256 + data[1], data[2] * 256 + data[3]]);
    });
    for (let i = 0; i < 2; i++) this.until[i] = pinBackoffMs(this.n[i]) ? clock.uptime() + pinBackoffMs(this.n[i]) : 0;
  }

  /** Wrong PINs in a row of PIN `who` (0 technician, 1 merchant). */
  fails(who: number): number {
    return this.n[who];
  }

  locked(who: number): boolean {
    return this.clock.uptime() < this.until[who];
  }

  fail(who: number): void {
    this.n[who]++;
    this.save();
    const b = pinBackoffMs(this.n[who]);
    if (b) this.until[who] = this.clock.uptime() + b;
    if (this.note) this.note((who ? "merchant" : "tech") + " PIN wrong " + this.n[who] + (b ? ", locked " + b / 60000 + " min" : ""));
  }

  ok(who: number): void {
    if (!this.n[who]) return;
    this.n[who] = 0;
    this.until[who] = 0;
    this.save();
  }

  private save(): void {
    const n = this.n;
    this.log.append(T_TRIES, this.log.gen + 1, new Uint8Array([n[0] >> 8, n[0] & 255, n[1] >> 8, n[1] & 255]));
  }
}
