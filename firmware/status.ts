/** What the status bar shows; kept by the flows and the sync, drawn by the UI. */
export interface TerminalStatus {
  online: boolean;
  /** Transactions waiting for upload. */
  pending: number;
  /** Sum of pending amounts, minor units. */
  unsettledMinor: number;
  currency: string;
  /** Wall-clock ms of the last successful sync; 0 = never. */
  lastSyncMs: number;
}

/** "never", "45 s", "12 min", "5 h", "3 d". */
export function ago(nowMs: number, thenMs: number): string {
  if (!thenMs) return "never";
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return Math.floor(s / 86400) + " d";
}

function two(n: number): string {
  return (n < 10 ? "0" : "") + n;
}

/** "HH:MM" in UTC. */
export function clockText(ms: number): string {
  const d = new Date(ms);
  return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
}
