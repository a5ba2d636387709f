/** Test doubles for UART drivers: a clock on sinon's fake timers and a serial port that fails loudly. */
import assert from "node:assert/strict";
import type sinon from "sinon";
import type { Clock } from "../../hal/clock.ts";
import type { Serial, SerialOptions } from "../../hal/io.ts";

export const hex = (b: ArrayLike<number>) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");
export const bytes = (s: string) => new Uint8Array(Buffer.from(s.replace(/ /g, ""), "hex"));

/** A hal Clock driven by sinon fake timers. */
export function sinonClock(timers: sinon.SinonFakeTimers): Clock {
  return {
    now: () => timers.now,
    set: () => {},
    uptime: () => timers.now,
    setTimeout: (fn, ms) => timers.setTimeout(fn, ms) as unknown as number,
    setInterval: (fn, ms) => timers.setInterval(fn, ms) as unknown as number,
    clear: (id) => timers.clearTimeout(id),
  };
}

/**
 * A serial port under test control. Every write is logged with its time and handed to `onWrite`, which throws on
 * bytes it does not expect (the default throws on any write); `inject` delivers bytes to the driver.
 */
export class FakeSerial {
  readonly opened: SerialOptions[] = [];
  readonly writes: Array<{ t: number; bytes: Uint8Array }> = [];
  onWrite: (d: Uint8Array) => void = (d) => {
    throw new Error(`unexpected write ${hex(d)}`);
  };
  private rx: ((d: Uint8Array) => void) | null = null;
  constructor(private now: () => number) {}
  open = (o: SerialOptions): Serial => {
    this.opened.push(o);
    this.rx = o.onReadable;
    return {
      write: (d) => {
        const copy = new Uint8Array(d);
        this.writes.push({ t: this.now(), bytes: copy });
        this.onWrite(copy);
      },
      close: () => {},
    };
  };
  inject(d: Uint8Array | string): void {
    assert.ok(this.rx, "inject before the driver opened the port");
    this.rx(typeof d === "string" ? bytes(d) : d);
  }
  /** All bytes written so far, concatenated. */
  written(): Uint8Array {
    return Uint8Array.from(this.writes.flatMap((w) => Array.from(w.bytes)));
  }
}

/**
 * One expected write (exact hex) and the reply the part sends `after` ms later (none if `rx` is absent).
 */
export interface Step {
  tx: string;
  rx?: string;
  after?: number;
}

/** Makes `serial` expect exactly the writes of `script`, in order, replying as scripted. */
export function scripted(serial: FakeSerial, script: Step[], later: (fn: () => void, ms: number) => void): { left: () => string[] } {
  serial.onWrite = (d) => {
    const got = hex(d);
    const step = script.shift();
    if (!step) throw new Error(`unexpected write ${got}`);
    if (step.tx !== got) throw new Error(`wrote ${got}, expected ${step.tx}`);
    const rx = step.rx;
    if (rx) later(() => serial.inject(rx), step.after ?? 20);
  };
  return { left: () => script.map((s) => s.tx) };
}
