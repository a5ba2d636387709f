/**
 * Calendar formatting on integers only (Espruino has a Date, but its output differs between builds; this does
 * not). Times are Unix milliseconds, shown in UTC.
 */

function two(n: number): string {
  return (n < 10 ? "0" : "") + n;
}

/** Unix ms -> "2026-11-23" (UTC). Days to civil date after H. Hinnant's algorithm, integer steps only. */
export function formatDate(ms: number): string {
  const z = Math.floor(ms / 86400000) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y + "-" + two(m) + "-" + two(d);
}

/** Unix ms -> "2026-11-23 08:40" (UTC). */
export function formatDateTime(ms: number): string {
  const s = Math.floor(ms / 1000) % 86400;
  const t = s < 0 ? s + 86400 : s;
  return formatDate(ms) + " " + two(Math.floor(t / 3600)) + ":" + two(Math.floor(t / 60) % 60);
}
