/**
 * Trusted time on the terminal. An ESP32's RTC restarts near 1970 after a power loss, so the device clock alone
 * cannot date a payment or judge an allowance's expiry (R05) or the days-offline limit: a terminal whose Wi-Fi is
 * jammed and whose plug is pulled would otherwise pay an expired allowance with a request dated 1970.
 *
 *   const t = new TrustedTime(device.storage, device.clock, () => trustedNow(...), loadSyncDay(store) * DAY_MS, device.secure);
 *   if (!t.trusted()) refuse("No trusted time: sync first");
 *   t.save();            // after a sync: the floor moves forward on flash
 *
 * The floor is the latest time known to have passed: the gateway-signed time of a sync, the day of the last sync,
 * and FIRMWARE_FLOOR_MS (no terminal of this firmware runs before it), moved on by the hours the terminal has run
 * since: the secure element's monotonic counter HOUR_COUNTER, incremented once an hour of uptime (each increment
 * follows a full hour of running, so n increments since a floor was saved prove n hours passed; the counter is in
 * the part, which no flash write or clock setting winds back; it goes to 2,097,151, 239 years of hours). The floor
 * only moves forward, kept in flash as a record log (firmware/record-log.ts: appended in place, no compaction) of
 * {seconds, hour counter}, at most one 20-byte record a day, so an 8 KB file turns over once in about 400 days. At
 * boot each record counts as its time plus an hour per increment since it was written: an older copy of the file
 * restored gives no lower floor. Time is trusted when a sync this boot gave the gateway's time (moved on by uptime),
 * or when the device clock read at boot is not before the floor (a restart whose RTC kept running: an update, a
 * watchdog reset). Otherwise `now()` is the floor moved on by uptime (a lower bound, for the status bar and the
 * activity log) and offline payments are refused until a sync. Not seen: a clock wound back by less than the hour
 * not yet counted, and the time the terminal lay without power (the counter only counts hours it ran).
 */
import type { Clock } from "../hal/clock.ts";
import type { SecureElement } from "../hal/secure-element.ts";
import type { FileStore } from "../hal/storage.ts";
import { getU32, putU32, RecordLog } from "./record-log.ts";

export const TIME_FLOOR_LOGS = ["time.a", "time.b"];
export const TIME_FLOOR_BYTES = 8192;
/** 2026-01-01T00:00:00Z: earlier than any date this firmware runs at. */
export const FIRMWARE_FLOOR_MS = 1767225600000;
/** The secure element's counter that counts the hours the terminal ran (link requests and transactions use 0). */
export const HOUR_COUNTER = 1;
export const HOUR_MS = 3600000;
const T_FLOOR = 1;
const SAVE_EVERY_MS = 86400000;

/**
 * The saved floor (ms since the epoch), 0 when none. With `hours` (the hour counter now) only records that carry the
 * counter's value when they were saved count, each one hour more for every increment since.
 */
export function loadTimeFloor(store: FileStore, hours?: number): number {
  let s = 0;
  new RecordLog(store, TIME_FLOOR_LOGS, TIME_FLOOR_BYTES).load((type, _gen, data) => {
    const counted = data.length === 8;
    const t = hours === undefined ? getU32(data, 0) * 1000 : counted ? getU32(data, 0) * 1000 + (hours - getU32(data, 4)) * HOUR_MS : 0;
    if (type === T_FLOOR && t > s) s = t;
  });
  return s;
}

/** Saves a floor (whole seconds) and the hour counter's value then; false when Storage refused the record. */
export function saveTimeFloor(store: FileStore, ms: number, hours: number): boolean {
  const log = new RecordLog(store, TIME_FLOOR_LOGS, TIME_FLOOR_BYTES);
  log.load();
  const b = new Uint8Array(8);
  putU32(b, 0, Math.floor(ms / 1000));
  putU32(b, 4, hours);
  return log.append(T_FLOOR, log.gen + 1, b);
}

export class TrustedTime {
  private saved = 0;
  private floor = 0;
  private clockOk = false;
  /** The hour counter's value, -1 until the secure element answered. */
  private hours = -1;

  /**
   * `synced()`: the gateway-signed time moved on by uptime, 0 before a sync this boot; `floorMs` a known floor. Reads
   * the secure element's hour counter first (nothing is trusted until it answers), then increments it every hour.
   */
  constructor(private store: FileStore, private clock: Clock, private synced: () => number, private floorMs: number, se: SecureElement) {
    // `self` in the callbacks: Espruino loses an arrow function's `this` two callbacks deep
    const self = this;
    se.counter(HOUR_COUNTER, false, (err, n) => self.start(err ? -1 : (n as number)));
    clock.setInterval(() => se.counter(HOUR_COUNTER, true, (err, n) => err || self.hours < 0 || ((self.hours = n as number), self.save())), HOUR_MS);
  }

  private start(hours: number): void {
    const c = this.clock;
    this.hours = hours;
    this.saved = loadTimeFloor(this.store);
    const counted = hours < 0 ? 0 : loadTimeFloor(this.store, hours);
    this.floor = Math.max(counted, this.saved, this.floorMs, FIRMWARE_FLOOR_MS) - c.uptime();
    // hours counted but no floor saved with the count (the files erased, or older firmware's): no clock is
    // trusted until a sync
    this.clockOk = !(hours > 0 && !counted) && c.now() >= this.floor + c.uptime();
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
    if (this.hours >= 0 && this.trusted() && t - this.saved >= SAVE_EVERY_MS && saveTimeFloor(this.store, t, this.hours)) this.saved = t;
  }
}
