/**
 * Trusted time on the terminal. An ESP32's RTC restarts near 1970 after a power loss, so the device clock alone
 * cannot date a payment or judge an allowance's expiry (R05) or the days-offline limit: a terminal whose Wi-Fi is
 * jammed and whose plug is pulled would otherwise pay an expired allowance with a request dated 1970.
 *
 *   const t = new TrustedTime(device.storage, device.clock, () => trustedNow(...), loadSyncDay(store) * DAY_MS);
 *   if (!t.trusted()) refuse("No trusted time: sync first");
 *   t.save();            // after a sync: the floor moves forward on flash
 *
 * The floor is the latest time known to have passed: the gateway-signed time of a sync, the day of the last sync,
 * and FIRMWARE_FLOOR_MS (no terminal of this firmware runs before it). It only moves forward, kept in flash as a
 * record log (firmware/record-log.ts: appended in place, no compaction), at most one 16-byte record a day, so an
 * 8 KB file turns over once in about 500 days. Time is trusted when a sync this boot gave the gateway's time (moved
 * on by uptime), or when the device clock read at boot is not before the floor (a restart whose RTC kept running:
 * an update, a watchdog reset). Otherwise `now()` is the floor moved on by uptime (a lower bound, for the status bar
 * and the activity log) and offline payments are refused until a sync. A clock wound back by less than a day
 * since the floor was saved is not detected: a power loss winds it back to 1970.
 */
import type { Clock } from "../hal/clock.ts";
import type { FileStore } from "../hal/storage.ts";
import { getU32, putU32, RecordLog } from "./record-log.ts";

export const TIME_FLOOR_LOGS = ["time.a", "time.b"];
export const TIME_FLOOR_BYTES = 8192;
/** 2026-01-01T00:00:00Z: earlier than any date this firmware runs at. */
export const FIRMWARE_FLOOR_MS = 1767225600000;
const T_FLOOR = 1;
const SAVE_EVERY_MS = 86400000;

/** The saved floor (ms since the epoch), 0 when none. */
export function loadTimeFloor(store: FileStore): number {
  let s = 0;
  new RecordLog(store, TIME_FLOOR_LOGS, TIME_FLOOR_BYTES).load((type, _gen, data) => {
    if (type === T_FLOOR && data.length === 4 && getU32(data, 0) * 1000 > s) s = getU32(data, 0) * 1000;
  });
  return s;
}

/** Saves a floor (whole seconds); false when Storage refused the record. */
export function saveTimeFloor(store: FileStore, ms: number): boolean {
  const log = new RecordLog(store, TIME_FLOOR_LOGS, TIME_FLOOR_BYTES);
  log.load();
  const b = new Uint8Array(4);
  putU32(b, 0, Math.floor(ms / 1000));
  return log.append(T_FLOOR, log.gen + 1, b);
}

export class TrustedTime {
  private saved: number;
  private floor: number;
  private clockOk: boolean;

  /** `synced()`: the gateway-signed time moved on by uptime, 0 before a sync this boot; `floorMs` a known floor. */
  constructor(private store: FileStore, private clock: Clock, private synced: () => number, floorMs: number) {
    this.saved = loadTimeFloor(store);
    this.floor = Math.max(this.saved, floorMs, FIRMWARE_FLOOR_MS) - clock.uptime();
    this.clockOk = clock.now() >= this.floor + clock.uptime();
  }

  trusted(): boolean {
    return this.clockOk || !!this.synced();
  }

  now(): number {
    const t = this.synced();
    if (t) return t;
    return this.clockOk ? this.clock.now() : this.floor + this.clock.uptime();
  }

  /** Moves the saved floor forward when time is trusted and a day passed since the last save. */
  save(): void {
    const t = this.now();
    if (this.trusted() && t - this.saved >= SAVE_EVERY_MS && saveTimeFloor(this.store, t)) this.saved = t;
  }
}
