/**
 * The time floor moved on by the secure element's hour counter (firmware/time-floor.ts), over days: a reboot with the
 * clock set back, an older copy of the floor's files restored, the files erased. Each reboot is a new TrustedTime on
 * the same Storage and the same counter, with a new uptime clock.
 */
import assert from "node:assert/strict";
import { HOUR_COUNTER, HOUR_MS, TrustedTime } from "../../firmware/time-floor.ts";
import type { Clock } from "../../hal/clock.ts";
import type { Done, SecureElement } from "../../hal/secure-element.ts";
import type { FileStore } from "../../hal/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";

const DAY_MS = 86400000;
const T0 = Date.UTC(2026, 10, 23, 9, 30);

function store(): FileStore {
  const s = new EspruinoStorage(new Flash({ size: 64 * 1024 }));
  return {
    read(name, offset, length) {
      const ab = s.readArrayBuffer(name);
      if (!ab) return undefined;
      const start = offset || 0;
      return new Uint8Array(ab, start, length === undefined ? ab.byteLength - start : length);
    },
    write: (name, data, offset, size) => (size === undefined ? s.write(name, data, offset || 0) : s.write(name, data, offset || 0, size)),
    erase: (name) => s.erase(name),
    list: (prefix) => s.list().filter((n) => n.indexOf(prefix) === 0),
    stats: () => s.getStats(),
  };
}

/** A device clock (wall time set at power-on) with timers, run by hand; the SE's counters answer at once. */
class Device {
  up = 0;
  private timers: { at: number; every: number; fn: () => void; id: number }[] = [];
  readonly clock: Clock;
  constructor(wall: number, readonly se: { counters: number[] } & SecureElement) {
    const self = this;
    this.clock = {
      now: () => wall + self.up,
      uptime: () => self.up,
      setTimeout: (fn: () => void, ms: number) => self.add(fn, ms, 0),
      setInterval: (fn: () => void, ms: number) => self.add(fn, ms, ms),
      clear: (id: number) => (self.timers = self.timers.filter((t) => t.id !== id)),
    } as unknown as Clock;
  }
  private add(fn: () => void, ms: number, every: number): number {
    const id = this.timers.length + 1;
    this.timers.push({ at: this.up + ms, every, fn, id });
    return id;
  }
  run(ms: number): void {
    const end = this.up + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.up = next.at;
      if (next.every) next.at += next.every;
      else this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
    this.up = end;
  }
}

function part(): { counters: number[] } & SecureElement {
  const counters = [0, 0];
  return {
    counters,
    counter(id: number, inc: boolean, done: Done<number>) {
      if (inc) counters[id]++;
      done(null, counters[id]);
    },
  } as unknown as { counters: number[] } & SecureElement;
}

/** Powers on at wall time `wall`: a TrustedTime on the store and the part, never synced. */
function boot(st: FileStore, se: ReturnType<typeof part>, wall: number, syncDayMs = 0): { dev: Device; t: TrustedTime } {
  const dev = new Device(wall, se);
  const t = new TrustedTime(st, dev.clock, () => 0, syncDayMs, se);
  t.save();
  return { dev, t };
}

describe("time floor on the secure element's hour counter", () => {
  it("counts the hours the terminal ran on counter " + HOUR_COUNTER + ", one increment an hour", () => {
    const st = store();
    const se = part();
    const { dev } = boot(st, se, T0);
    dev.run(5 * HOUR_MS + 1000);
    assert.equal(se.counters[HOUR_COUNTER], 5);
    assert.equal(se.counters[0], 0, "counter 0 is the transactions' and the link's");
  });

  it("trusts no clock set back after 9 days of running offline, and its floor is 9 days on", () => {
    const st = store();
    const se = part();
    boot(st, se, T0).dev.run(9 * DAY_MS);
    const { t } = boot(st, se, T0 + HOUR_MS); // rebooted with the clock 1 hour after the first boot
    assert.equal(t.trusted(), false);
    assert.ok(t.now() >= T0 + 9 * DAY_MS - HOUR_MS, "now() is at least 9 days on: " + new Date(t.now()).toISOString());
  });

  it("an older copy of the floor's files restored gives no lower floor", () => {
    const st = store();
    const se = part();
    const first = boot(st, se, T0);
    first.dev.run(2 * DAY_MS + HOUR_MS); // floors saved at boot and after a day, two days
    const old: Record<string, Uint8Array | undefined> = {};
    for (const f of ["time.a", "time.b"]) old[f] = st.read(f) && new Uint8Array(st.read(f)!);
    first.dev.run(7 * DAY_MS);
    for (const f of ["time.a", "time.b"]) {
      st.erase(f);
      if (old[f]) st.write(f, old[f]!);
    }
    const { t } = boot(st, se, T0 + 3 * DAY_MS);
    assert.equal(t.trusted(), false, "a clock 6 days behind is not trusted");
    assert.ok(t.now() >= T0 + 9 * DAY_MS, new Date(t.now()).toISOString());
  });

  it("after the floor's files were erased, trusts no clock until a sync", () => {
    const st = store();
    const se = part();
    boot(st, se, T0).dev.run(3 * DAY_MS);
    for (const f of ["time.a", "time.b"]) st.erase(f);
    assert.equal(boot(st, se, T0 + 30 * DAY_MS).t.trusted(), false, "not even a clock that looks right");
  });

  it("trusts a clock that kept running through a restart", () => {
    const st = store();
    const se = part();
    boot(st, se, T0).dev.run(9 * DAY_MS);
    assert.equal(boot(st, se, T0 + 9 * DAY_MS + 60000).t.trusted(), true);
  });
});
