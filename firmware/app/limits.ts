/**
 * Offline risk limits and the gateway's deny list. Pure device code: no Espruino globals, tables in typed arrays.
 *
 *   const l = effectiveLimits(settingsLimits, now - lastSync);
 *   const r = checkLimits(settingsLimits, { amountMinor, unsyncedMinor, walletSpentMinor, msSinceSync, denied });
 *   if (r) showError(r.message);          // "Over payment limit 50.00"
 *
 * Tightening rule (effectiveLimits): for the first full day after the last successful sync the limits apply as
 * set. From then on the three amount limits shrink linearly with each FULL day offline, to
 * (maxDaysOffline - days) / maxDaysOffline of their set value; once `days >= maxDaysOffline` they are 0 and
 * checkLimits refuses every offline payment ("Offline too long: sync"). Example with maxDaysOffline 4: day 0 100 %,
 * day 1 75 %, day 2 50 %, day 3 25 %, day 4 refused. All arithmetic is on integer minor units (floored).
 */
import type { FileStore } from "../../hal/storage.ts";
import { formatMoney } from "../money.ts";
import { fromHex } from "../../protocol/codec/hex.ts";

export interface Limits {
  /** Largest single payment accepted offline, minor units. */
  perTxMinor: number;
  /** Largest total of payments not yet uploaded to the gateway, minor units. */
  unsyncedMinor: number;
  /** Days without a sync after which offline payments are refused. */
  maxDaysOffline: number;
  /** Largest total taken from one wallet since the last sync, minor units. */
  perWalletMinor: number;
}

/** Used until the gateway sends its own (hello reply `limits`). */
export const DEFAULT_LIMITS: Limits = { perTxMinor: 50000, unsyncedMinor: 500000, maxDaysOffline: 7, perWalletMinor: 100000 };

export const DAY_MS = 86400000;

/**
 * Why a payment was refused: `limit` names the limit (at most 20 characters: one line of the 2x font), `message`
 * says it with the amount (at most 40: one line of the 1x 6x8 font on the 240 px display).
 */
export interface LimitRefusal {
  code: "LIMIT_DENIED" | "LIMIT_OFFLINE_DAYS" | "LIMIT_PER_TX" | "LIMIT_UNSYNCED" | "LIMIT_PER_WALLET";
  limit: string;
  message: string;
}

export interface LimitState {
  amountMinor: number;
  /** Total of journaled payments not yet acknowledged by the gateway (not counting this one). */
  unsyncedMinor: number;
  /** What this wallet paid since the last sync (not counting this one). */
  walletSpentMinor: number;
  /** Time since the last successful sync; pass a huge number (or Infinity) when never synced. */
  msSinceSync: number;
  /** The wallet is on the gateway's deny list. */
  denied: boolean;
  /** Currency of the amounts, for the message's decimals (default: 2 decimals, no currency code). */
  currency?: string;
}

/** The limits in force `msSinceSync` after the last sync (see the rule above). */
export function effectiveLimits(l: Limits, msSinceSync: number): Limits {
  const max = l.maxDaysOffline;
  const days = msSinceSync > 0 ? Math.floor(msSinceSync / DAY_MS) : 0;
  if (days <= 0) return { perTxMinor: l.perTxMinor, unsyncedMinor: l.unsyncedMinor, maxDaysOffline: max, perWalletMinor: l.perWalletMinor };
  const left = days >= max ? 0 : max - days;
  const f = (x: number) => (left ? Math.floor((x * left) / max) : 0);
  return { perTxMinor: f(l.perTxMinor), unsyncedMinor: f(l.unsyncedMinor), maxDaysOffline: max, perWalletMinor: f(l.perWalletMinor) };
}

function amount(minor: number, currency: string | undefined): string {
  if (currency) return formatMoney(minor, currency);
  return formatMoney(minor, "EUR").slice(4);
}

function refuse(code: LimitRefusal["code"], limit: string, message: string): LimitRefusal {
  return { code, limit, message };
}

/**
 * The first limit an offline payment breaks, or null when it may go ahead. Checks, in order: deny list, days
 * offline, per payment, per wallet, unsynced total; the amounts against effectiveLimits(l, s.msSinceSync).
 */
export function checkLimits(l: Limits, s: LimitState): LimitRefusal | null {
  if (s.denied) return refuse("LIMIT_DENIED", "deny list", "Wallet blocked by gateway");
  // written so that NaN (a clock never set) refuses too
  if (!(s.msSinceSync < l.maxDaysOffline * DAY_MS)) return refuse("LIMIT_OFFLINE_DAYS", "days offline limit", "Offline too long: sync");
  const e = effectiveLimits(l, s.msSinceSync);
  const c = s.currency;
  if (s.amountMinor > e.perTxMinor) return refuse("LIMIT_PER_TX", "per-payment limit", "Over payment limit " + amount(e.perTxMinor, c));
  if (s.walletSpentMinor + s.amountMinor > e.perWalletMinor)
    return refuse("LIMIT_PER_WALLET", "per-wallet limit", "Over wallet limit " + amount(e.perWalletMinor, c));
  if (s.unsyncedMinor + s.amountMinor > e.unsyncedMinor)
    return refuse("LIMIT_UNSYNCED", "unsynced total limit", "Over unsynced limit " + amount(e.unsyncedMinor, c));
  return null;
}

// ------------------------------------------------------------------------------------------------ deny list

/** Bytes of one wallet ID (protocol/check.ts walletIdOf: first 8 bytes of SHA-256 of its key). */
export const WALLET_ID_BYTES = 8;

/**
 * The gateway's deny list: `ids` holds `count` wallet IDs of 8 bytes each, sorted ascending, no duplicates.
 * `version` is the gateway's denyVersion; `gen` counts saves (which of the two files is newer).
 */
export interface DenyList {
  ids: Uint8Array;
  count: number;
  version: number;
  gen: number;
}

export const DENY_FILES = ["deny.0", "deny.1"];

function cmp(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < WALLET_ID_BYTES; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d) return d;
  }
  return 0;
}

function swap(t: Uint8Array, i: number, j: number): void {
  const a = i * WALLET_ID_BYTES;
  const b = j * WALLET_ID_BYTES;
  for (let k = 0; k < WALLET_ID_BYTES; k++) {
    const x = t[a + k];
    t[a + k] = t[b + k];
    t[b + k] = x;
  }
}

function siftDown(t: Uint8Array, i: number, n: number): void {
  for (;;) {
    let m = i;
    const l = 2 * i + 1;
    const r = l + 1;
    if (l < n && cmp(t, l * WALLET_ID_BYTES, t, m * WALLET_ID_BYTES) > 0) m = l;
    if (r < n && cmp(t, r * WALLET_ID_BYTES, t, m * WALLET_ID_BYTES) > 0) m = r;
    if (m === i) return;
    swap(t, i, m);
    i = m;
  }
}

/**
 * A deny list from raw IDs (8 bytes each, any order, duplicates allowed): sorted in place by a heap sort (no
 * recursion, no arrays of numbers), duplicates dropped.
 */
export function denyListFromBytes(raw: Uint8Array, version: number): DenyList {
  const n = Math.floor(raw.length / WALLET_ID_BYTES);
  const t = new Uint8Array(raw.subarray(0, n * WALLET_ID_BYTES));
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(t, i, n);
  for (let end = n - 1; end > 0; end--) {
    swap(t, 0, end);
    siftDown(t, 0, end);
  }
  let w = 0;
  for (let i = 0; i < n; i++) {
    if (w && cmp(t, i * WALLET_ID_BYTES, t, (w - 1) * WALLET_ID_BYTES) === 0) continue;
    if (w !== i) for (let k = 0; k < WALLET_ID_BYTES; k++) t[w * WALLET_ID_BYTES + k] = t[i * WALLET_ID_BYTES + k];
    w++;
  }
  return { ids: t.subarray(0, w * WALLET_ID_BYTES), count: w, version, gen: 0 };
}

/** From the hello reply's `deny` (hex wallet IDs). Throws `{code: "DENY_BAD_ID"}` on an ID that is not 16 hex. */
export function denyListFromHex(hex: string[], version: number): DenyList {
  const raw = new Uint8Array(hex.length * WALLET_ID_BYTES);
  for (let i = 0; i < hex.length; i++) {
    const b = hex[i].length === 2 * WALLET_ID_BYTES ? fromHex(hex[i]) : undefined;
    if (!b) throw Object.assign(new Error("bad wallet ID in deny list"), { code: "DENY_BAD_ID" });
    raw.set(b, i * WALLET_ID_BYTES);
  }
  return denyListFromBytes(raw, version);
}

export function emptyDenyList(): DenyList {
  return { ids: new Uint8Array(0), count: 0, version: 0, gen: 0 };
}

/** Binary search for an 8-byte wallet ID. */
export function denyListHas(d: DenyList, walletId: Uint8Array): boolean {
  if (walletId.length !== WALLET_ID_BYTES) return false;
  let lo = 0;
  let hi = d.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = cmp(d.ids, mid * WALLET_ID_BYTES, walletId, 0);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The same for a wallet ID in hex (as protocol/check.ts walletIdOf gives it). */
export function denyListHasHex(d: DenyList, walletIdHex: string): boolean {
  const b = walletIdHex.length === 2 * WALLET_ID_BYTES ? fromHex(walletIdHex) : undefined;
  return b ? denyListHas(d, b) : false;
}

/** Adler-32, integer-only. */
function adler(b: Uint8Array, n: number): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < n; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return s * 65536 + a;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = Math.floor(v / 16777216) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

function getU32(b: Uint8Array, o: number): number {
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

/*
 * File layout (big-endian): gen u32 | version u32 | count u32 | ids (count * 8) | adler32 u32 of all before it.
 * A file cut short by a power cut fails its length or checksum and is ignored.
 */
function parse(b: Uint8Array | undefined): DenyList | null {
  if (!b || b.length < 16) return null;
  const count = getU32(b, 8);
  const n = 12 + count * WALLET_ID_BYTES;
  if (b.length !== n + 4 || getU32(b, n) !== adler(b, n)) return null;
  return { ids: b.subarray(12, n), count, version: getU32(b, 4), gen: getU32(b, 0) };
}

/** The newest valid saved deny list, or an empty one. `ids` may be a view into flash (read-only). */
export function loadDenyList(store: FileStore): DenyList {
  let best: DenyList | null = null;
  for (let i = 0; i < DENY_FILES.length; i++) {
    const d = parse(store.read(DENY_FILES[i]));
    if (d && (!best || d.gen > best.gen)) best = d;
  }
  return best || emptyDenyList();
}

/**
 * Save as a new file beside the current one, then erase the older: a power cut at any point leaves the old or the
 * new list whole. Returns false when flash is full (the old list stays in force).
 */
export function saveDenyList(store: FileStore, d: DenyList): boolean {
  let cur = -1;
  let gen = 0;
  for (let i = 0; i < DENY_FILES.length; i++) {
    const x = parse(store.read(DENY_FILES[i]));
    if (x && (cur < 0 || x.gen > gen)) {
      cur = i;
      gen = x.gen;
    }
  }
  const target = cur === 0 ? 1 : 0;
  const n = 12 + d.count * WALLET_ID_BYTES;
  const b = new Uint8Array(n + 4);
  putU32(b, 0, gen + 1);
  putU32(b, 4, d.version);
  putU32(b, 8, d.count);
  b.set(d.ids.subarray(0, d.count * WALLET_ID_BYTES), 12);
  putU32(b, n, adler(b, n));
  if (store.read(DENY_FILES[target])) store.erase(DENY_FILES[target]);
  if (!store.write(DENY_FILES[target], b)) return false;
  if (cur >= 0) store.erase(DENY_FILES[cur]);
  d.gen = gen + 1;
  return true;
}
