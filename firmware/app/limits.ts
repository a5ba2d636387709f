/**
 * Offline risk limits and the gateway's deny list. Pure device code: no Espruino globals, tables in typed arrays.
 *
 * The limits are for risk taken offline. When the terminal is online a customer-presented payment goes to the gateway
 * first (docs/sync.md, authorize) and none of them applies: the gateway judges the amount against the wallet's purse,
 * counters and cap across all terminals. They apply in full when the payment goes on offline (no answer, a failed
 * link: firmware/app/pay.ts), and a payment approved online counts in neither the unsynced nor the per-wallet total.
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
import { adler32, getU32, putU32, RecordLog } from "../record-log.ts";
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

/** The limits `l` gives (the gateway's, or provisioning's limits.json), DEFAULT_LIMITS for what it lacks or is not a number. */
export function limitsFrom(l: unknown): Limits {
  const src: any = l || {};
  const out: any = {};
  for (const k in DEFAULT_LIMITS) out[k] = typeof src[k] === "number" ? src[k] : (DEFAULT_LIMITS as any)[k];
  return out as Limits;
}

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

/** Index bits in a sort key: the first 4 bytes of an ID times 2^20, plus its index (exact below 2^53). */
const KEY_INDEX = 1048576;

/**
 * Sorts the first `n` 8-byte IDs of `t` in place, in byte order. Espruino's own typed-array sort (native code) does
 * the work on keys of the IDs' first 4 bytes and their index: a heap sort written in JavaScript took 1 s for 200 IDs
 * on the x86 interpreter, this takes about 10 ms. IDs that share their first 4 bytes (rare: wallet IDs are hash
 * prefixes) are put in order by an insertion pass.
 */
function sortIds(t: Uint8Array, n: number): void {
  const k = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * WALLET_ID_BYTES;
    k[i] = (((t[o] * 256 + t[o + 1]) * 256 + t[o + 2]) * 256 + t[o + 3]) * KEY_INDEX + i;
  }
  k.sort();
  const src = new Uint8Array(t.subarray(0, n * WALLET_ID_BYTES));
  for (let i = 0; i < n; i++) {
    const j = k[i] % KEY_INDEX;
    t.set(src.subarray(j * WALLET_ID_BYTES, (j + 1) * WALLET_ID_BYTES), i * WALLET_ID_BYTES);
  }
  for (let i = 1; i < n; i++) {
    if (Math.floor(k[i] / KEY_INDEX) !== Math.floor(k[i - 1] / KEY_INDEX)) continue;
    for (let j = i; j > 0 && cmp(t, (j - 1) * WALLET_ID_BYTES, t, j * WALLET_ID_BYTES) > 0; j--) swap(t, j - 1, j);
  }
}

/**
 * A deny list from raw IDs (8 bytes each, any order, duplicates allowed): sorted (sortIds: no recursion, no arrays
 * of numbers), duplicates dropped.
 */
export function denyListFromBytes(raw: Uint8Array, version: number): DenyList {
  const n = Math.floor(raw.length / WALLET_ID_BYTES);
  const t = new Uint8Array(raw.subarray(0, n * WALLET_ID_BYTES));
  sortIds(t, n);
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

/*
 * Legacy layout (firmware before the in-place log; still read so an update keeps the list), big-endian:
 * gen u32 | version u32 | count u32 | ids (count * 8) | adler32 u32 of all before it.
 */
function parseLegacy(b: Uint8Array | undefined): DenyList | null {
  if (!b || b.length < 16) return null;
  const count = getU32(b, 8);
  const n = 12 + count * WALLET_ID_BYTES;
  if (b.length !== n + 4 || getU32(b, n) !== adler32(b, 0, n)) return null;
  return { ids: b.subarray(12, n), count, version: getU32(b, 4), gen: getU32(b, 0) };
}

/**
 * The deny list on flash: a record log (firmware/record-log.ts) in a pre-sized file, `deny.a` or `deny.b`.
 * Record FULL: version u32 | ids (sorted); record DELTA: version u32 | the IDs that changed (sorted), each one
 * added if it was absent and removed if it was present. A change writes only its delta in place (8 bytes per
 * wallet added or removed, plus 16), so a list that changes every day takes a year to fill DENY_LOG_BYTES; a delta
 * bigger than the list is written as a FULL record instead.
 */
export const DENY_LOGS = ["deny.a", "deny.b"];
/** Legacy files (whole list per file): read when no log exists yet, erased once the log has the list. */
export const DENY_FILES = ["deny.0", "deny.1"];
const T_FULL = 1;
const T_DELTA = 2;
/**
 * 32 KB: 20 wallets added or removed every day for a year is 365 * (16 + 160) = 64 KB, 5 a day 20 KB: the
 * turnover (a new file, the old one left to a compaction) comes about once a year at most under a busy gateway's
 * churn, and a list bigger than 8 KB gets a file twice its size plus this.
 */
export const DENY_LOG_BYTES = 32768;

/** The IDs of a and b that are in exactly one of them (both sorted, no duplicates), sorted. */
function symmetricDifference(a: Uint8Array, an: number, b: Uint8Array, bn: number): Uint8Array {
  const out = new Uint8Array((an + bn) * WALLET_ID_BYTES);
  let i = 0;
  let j = 0;
  let w = 0;
  while (i < an || j < bn) {
    const c = i >= an ? 1 : j >= bn ? -1 : cmp(a, i * WALLET_ID_BYTES, b, j * WALLET_ID_BYTES);
    if (c === 0) {
      i++;
      j++;
      continue;
    }
    if (c < 0) out.set(a.subarray(i * WALLET_ID_BYTES, ++i * WALLET_ID_BYTES), w);
    else out.set(b.subarray(j * WALLET_ID_BYTES, ++j * WALLET_ID_BYTES), w);
    w += WALLET_ID_BYTES;
  }
  return out.subarray(0, w);
}

function versioned(version: number, ids: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + ids.length);
  putU32(b, 0, version);
  b.set(ids, 4);
  return b;
}

/**
 * The newest valid saved deny list, or an empty one. With no delta since the last FULL record, `ids` is a view
 * into flash (read-only, no RAM on the device); otherwise the deltas' IDs are sorted together (an ID toggled an
 * even number of times drops out) and merged once with the FULL record's.
 */
export function loadDenyList(store: FileStore): DenyList {
  return readDeny(store).list;
}

/** The saved list, the log it is in, and the delta bytes written since its FULL record. */
function readDeny(store: FileStore): { list: DenyList; log: RecordLog; extra: number } {
  const log = new RecordLog(store, DENY_LOGS, DENY_LOG_BYTES);
  let full = null as Uint8Array | null;
  let version = 0;
  let extra = 0;
  let deltas: Uint8Array[] = [];
  log.load((type, _gen, data) => {
    if (data.length < 4 || (data.length - 4) % WALLET_ID_BYTES) return;
    if (type === T_FULL) {
      full = data;
      deltas = [];
      extra = 0;
    } else if (type !== T_DELTA || !full) return;
    else {
      deltas.push(data);
      extra += data.length - 4;
    }
    version = getU32(data, 0);
  });
  if (!full) {
    let best: DenyList | null = null;
    for (let i = 0; i < DENY_FILES.length; i++) {
      const d = parseLegacy(store.read(DENY_FILES[i]));
      if (d && (!best || d.gen > best.gen)) best = d;
    }
    return { list: best ? { ids: best.ids, count: best.count, version: best.version, gen: 0 } : emptyDenyList(), log: log, extra: 0 };
  }
  const f: Uint8Array = full;
  const n = (f.length - 4) / WALLET_ID_BYTES;
  if (!deltas.length) return { list: { ids: f.subarray(4), count: n, version, gen: log.gen }, log: log, extra: 0 };
  const all = new Uint8Array(extra);
  let o = 0;
  for (let i = 0; i < deltas.length; i++) {
    all.set(deltas[i].subarray(4), o);
    o += deltas[i].length - 4;
  }
  const t = toggled(all, version);
  const ids = symmetricDifference(f.subarray(4), n, t.ids, t.count);
  return { list: { ids: ids, count: ids.length / WALLET_ID_BYTES, version: version, gen: log.gen }, log: log, extra: extra };
}

/** The deltas' IDs sorted, keeping each one toggled an odd number of times (added or removed for good). */
function toggled(raw: Uint8Array, version: number): DenyList {
  const n = raw.length / WALLET_ID_BYTES;
  const t = raw;
  sortIds(t, n);
  let w = 0;
  let i = 0;
  while (i < n) {
    let k = i + 1;
    while (k < n && cmp(t, k * WALLET_ID_BYTES, t, i * WALLET_ID_BYTES) === 0) k++;
    if ((k - i) & 1) {
      if (w !== i) t.set(t.subarray(i * WALLET_ID_BYTES, (i + 1) * WALLET_ID_BYTES), w * WALLET_ID_BYTES);
      w++;
    }
    i = k;
  }
  return { ids: t.subarray(0, w * WALLET_ID_BYTES), count: w, version, gen: 0 };
}

/**
 * Saves `d` in place: the IDs that changed since the saved list as one DELTA record (or a FULL record when that
 * is smaller), appended into the pre-sized log file; a full file turns over to the other name with a FULL
 * record. A power cut at any point leaves the old or the new list whole. False when Storage has no room for a
 * turnover (the old list stays saved; the caller keeps `d` in force in RAM).
 */
export function saveDenyList(store: FileStore, d: DenyList): boolean {
  const r = readDeny(store);
  const old = r.list;
  const log = r.log;
  const ids = d.ids.subarray(0, d.count * WALLET_ID_BYTES);
  const full = versioned(d.version, ids);
  const diff = log.file < 0 ? null : symmetricDifference(old.ids, old.count, ids, d.count);
  const ok = diff && diff.length < ids.length ? log.append(T_DELTA, log.gen + 1, versioned(d.version, diff), { type: T_FULL, data: full }) : log.append(T_FULL, log.gen + 1, full);
  if (!ok) return false;
  for (let i = 0; i < DENY_FILES.length; i++) if (store.read(DENY_FILES[i], 0, 1)) store.erase(DENY_FILES[i]);
  d.gen = log.gen;
  return true;
}
