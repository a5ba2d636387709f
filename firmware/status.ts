import type { SyncProgress } from "./sync/sync.ts";

/** The sync as the terminal says it: the status bar and the send-now screen (firmware/screens/menu.ts). */
export interface SyncNote {
  /** "Sending 40/120", "Sent 120", "Gateway refused: HTTP 403: …", "No Wi-Fi", … */
  text: string;
  /** The bar shows `text` in place of "sync <age>": while a round runs, and after one failed for a reason other than no Wi-Fi. */
  bar: boolean;
  /** 0 running, 1 the round ended well, 2 it did not. */
  end: number;
}

/** What the status bar shows; kept by the flows and the sync, drawn by the UI. */
export interface TerminalStatus {
  online: boolean;
  /** Transactions waiting for upload. */
  pending: number;
  /** Sum of pending amounts, minor units; a payment approved online is settled, so not in it (firmware/app/pay.ts). */
  unsettledMinor: number;
  currency: string;
  /** Wall-clock ms of the last successful sync; 0 = never. */
  lastSyncMs: number;
  /** The sync's last progress or outcome (none before the first round). */
  sync?: SyncNote;
}

/**
 * A sync round's progress (firmware/sync/sync.ts) in words. Being offline for want of Wi-Fi (none in reach, or one
 * that does not answer) is the terminal's normal state, so it stays off the bar (OFFLINE and the sync's age say
 * it); a refusal, an unreachable gateway or no Wi-Fi configured shows there, in the alert colour, until a round
 * ends well.
 */
export function syncNote(p: SyncProgress): SyncNote {
  const ph = p.phase;
  if (ph === "connecting") return { text: "Connecting to Wi-Fi", bar: true, end: 0 };
  if (ph === "online") return { text: "Wi-Fi connected", bar: false, end: 0 };
  if (ph === "hello" || ph === "upload") return { text: "Sending " + p.sent + "/" + p.total, bar: true, end: 0 };
  if (ph === "done") return { text: p.sent ? "Sent " + p.sent : "Nothing to send", bar: false, end: 1 };
  if (ph === "offline" && p.code !== "SYNC_CONFIG") return { text: p.code === "SYNC_WIFI" && p.error ? "No Wi-Fi (" + p.error + ")" : "No Wi-Fi", bar: false, end: 2 };
  return { text: (p.code === "SYNC_HTTP" ? "Gateway refused: " : "") + (p.error || "Sync failed"), bar: true, end: 2 };
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
