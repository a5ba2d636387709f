/** The CPU a process tree used, for the benches that run a server beside their clients (bench/gateway.ts, bench/pg-floor.ts). */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds (user + system, from /proc) the process `root` and its descendants used so far, the children that
 * ended and were waited for included; 0 where /proc is not there.
 */
export function treeCpu(root: number): number {
  if (!root) return 0;
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  let names: string[] = [];
  try {
    names = readdirSync("/proc").filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return 0;
  }
  for (const n of names) {
    try {
      const st = readFileSync("/proc/" + n + "/stat", "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      // after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), numbered from the pid as 1
      parent.set(Number(n), Number(f[1]));
      ticks.set(Number(n), Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    } catch {
      // the process ended meanwhile
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) {
      if (p === root) {
        sum += t;
        break;
      }
    }
  }
  return sum / 100;
}
