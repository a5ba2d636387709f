/** A hal Clock on the simulator's scheduler, for driver tests: time moves only through advance(). */
import type { Clock } from "../../hal/clock.ts";
import { Scheduler } from "../../sim/espruino/scheduler.ts";

export class VirtualClock implements Clock {
  readonly sched = new Scheduler();
  private wall = Date.UTC(2026, 10, 23, 9, 0, 0);
  constructor() {
    this.sched.onUncaught = (e) => {
      throw e;
    };
  }
  now(): number {
    return this.wall + this.sched.now;
  }
  set(ms: number): void {
    this.wall = ms - this.sched.now;
  }
  uptime(): number {
    return this.sched.now;
  }
  setTimeout(fn: () => void, ms: number): number {
    return this.sched.at(ms, fn);
  }
  setInterval(fn: () => void, ms: number): number {
    return this.sched.at(ms, fn, ms);
  }
  clear(id: number): void {
    this.sched.cancel(id);
  }
  /** Advance in small steps, calling `tick` (a part's own clock) after each. */
  advance(ms: number, tick?: () => void, step = 5): void {
    for (let t = 0; t < ms; t += step) {
      this.sched.advance(Math.min(step, ms - t));
      if (tick) tick();
    }
  }
}
