/** The gateway's clock: the system's in production, a movable one in the simulator and tests (the 3-day rule). */
export interface GatewayClock {
  now(): number;
}

export const systemClock: GatewayClock = { now: () => Date.now() };

/** A clock that only moves when told to (Unix ms). */
export class MovableClock implements GatewayClock {
  constructor(private t: number = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error("clock: cannot move backwards");
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

export function isMovable(c: GatewayClock): c is MovableClock {
  return typeof (c as MovableClock).advance === "function";
}
