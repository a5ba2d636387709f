/** Espruino binding of hal/clock.ts. `getTime()` is seconds as a float; `setTime` moves it. */
import type { Clock } from "../clock.ts";

export function clock(): Clock {
  const boot = getTime() * 1000;
  let shift = 0; // wall-clock moves made by set(), removed from uptime()
  return {
    now: () => Math.floor(getTime() * 1000),
    set(ms) {
      shift += ms - getTime() * 1000;
      setTime(ms / 1000);
    },
    uptime: () => Math.floor(getTime() * 1000 - boot - shift),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clear(id) {
      clearTimeout(id);
    },
  };
}
