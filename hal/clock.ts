/** Time and timers. The firmware takes every timer from here, so tests and the simulator can drive time. */
export interface Clock {
  /** Milliseconds since the Unix epoch, as the device believes it (may be wrong until synced). */
  now(): number;
  /** Set the wall clock (after a gateway-signed time). */
  set(ms: number): void;
  /** Milliseconds since boot; never goes backwards. */
  uptime(): number;
  setTimeout(fn: () => void, ms: number): number;
  setInterval(fn: () => void, ms: number): number;
  clear(id: number): void;
}
