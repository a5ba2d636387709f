/**
 * Espruino's event loop on a virtual clock: timers, and events (serial data, pin watches) that run from the idle
 * loop after the current callback, never inside it. Time moves only through advance(), so tests are exact.
 */
export interface Task {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
  every: number; // 0 = once
}

export class Scheduler {
  /** Milliseconds since power-on. */
  now = 0;
  private tasks: Task[] = [];
  private nextId = 1;
  private seq = 0;
  /** Called with each error a callback throws (Espruino prints "Uncaught ..." and carries on). */
  onUncaught: (e: unknown) => void = () => {};
  /** Errors that must stop the machine (a power cut) are rethrown instead. */
  isFatal: (e: unknown) => boolean = () => false;

  at(ms: number, fn: () => void, every = 0): number {
    const id = this.nextId++;
    this.tasks.push({ id, at: this.now + Math.max(0, ms), seq: this.seq++, fn, every });
    return id;
  }

  /** An event for the idle loop: runs after what is running now, in order of arrival. */
  post(fn: () => void): void {
    this.at(0, fn);
  }

  cancel(id: number): void {
    this.tasks = this.tasks.filter((t) => t.id !== id);
  }

  clearAll(): void {
    this.tasks = [];
  }

  pending(): number {
    return this.tasks.length;
  }

  /** The task due first by `limit`, taken off (an interval set to its next turn); the clock moved to when it fell due. */
  private take(limit: number): Task | undefined {
    let best: Task | undefined;
    for (const t of this.tasks) if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    if (!best) return undefined;
    const chosen = best;
    // before an interval's next turn is set: its callback reads the time it fell due, not the next one
    if (chosen.at > this.now) this.now = chosen.at;
    if (chosen.every > 0) {
      chosen.at += chosen.every;
      chosen.seq = this.seq++;
    } else this.tasks = this.tasks.filter((t) => t !== chosen);
    return chosen;
  }

  /** Run everything due up to now + ms, moving the clock task by task. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 1000000; guard++) {
      const t = this.take(end);
      if (!t) break;
      try {
        t.fn();
      } catch (e) {
        if (this.isFatal(e)) throw e;
        this.onUncaught(e);
      }
    }
    this.now = end;
  }
}
