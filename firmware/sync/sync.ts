/**
 * The terminal's sync loop (docs/sync.md section 4): Wi-Fi with reconnect backoff, `hello` as soon as it is
 * online (signed time, deny list, limits, update offers), then the pending journal records in batches until none
 * is left, again every interval and at once on "send now". Every request and reply goes through the link codec
 * (protocol/sync.ts) with keys from ECDH in the secure element; a reply that fails authentication is
 * never applied, only reported.
 *
 *   const sync = startSync({ device, journal, terminalId: 42, gatewayUrl, gatewayKey, networks: ["shop"], vault,
 *     firmwareVersion: "1.0.0", onProgress: (p) => screen.show(p), onLimits: (l) => ..., onDeny: (v, ids) => ... });
 *   sync.sendNow();               // from the menu
 *   sync.state.limits             // what the flows read
 *
 * Nothing here keeps module-level state: everything lives in the closure of one startSync call.
 */
import type { Clock } from "../../hal/clock.ts";
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { Http, Wifi, WifiState } from "../../hal/net.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import { SeSlot } from "../../hal/secure-element.ts";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import type { LinkKeys, LinkReply } from "../../protocol/sync.ts";
import type { SealKeys } from "../../protocol/seal.ts";
import type { UpdateOffer } from "../update/updater.ts";
import { MAX_KEYS } from "../../protocol/keys.ts";
import { isLabel } from "../../protocol/firmware.ts";
import { fromBase64, isLinkError, linkKeys, linkPath, MAX_CHUNK, openReply, plainError, sealKeys, sealRequest, toBase64 } from "../../protocol/sync.ts";

/**
 * The SE counter that numbers link requests: counter 0, shared with the transactions (both need only values never
 * used before; the gateway wants each request's above the last); counter 1 counts hours (firmware/time-floor.ts).
 */
export const LINK_COUNTER = 0;

/** What the sync loop needs of the journal (firmware/journal/journal.ts's Journal has all of it). */
export interface SyncJournal {
  pending(max: number): { seq: number; payload: Uint8Array; prev?: Uint8Array }[];
  markUploaded(seqs: number[]): number;
  markAcked(seqs: number[]): number;
  reclaim(): number;
  head(): { seq: number; hash: Uint8Array };
  anomalies(): { kind: string; page: number; offset: number; seq: number }[];
  releaseQuarantine(): void;
  stats(): { pending: number };
}

/**
 * The vault entry of network i's password, as provisioning names it (firmware/tech/console.ts wifiSecret; a test
 * holds the two equal, without the sync loop importing the technician console).
 */
export function wifiPasswordName(i: number): string {
  return "wifi." + i;
}

/** Where Wi-Fi passwords are kept (the vault: firmware/vault.ts), network i under wifiPasswordName(i). */
export interface SyncSecrets {
  get(name: string, done: (err: string | null, value?: Uint8Array) => void): void;
}

/** The merchant's offline risk limits as the gateway sends them (firmware/app/limits.ts reads them). */
export interface SyncLimits {
  perTxMinor: number;
  unsyncedMinor: number;
  maxDaysOffline: number;
  perWalletMinor: number;
  [extra: string]: unknown;
}

/**
 * A firmware update the gateway offers, as firmware/update/updater.ts takes it (board, version, key ID, hex hash and signature, checked
 * here for length): `onUpdateOffer: (u) => installUpdate({ ..., fetchChunk: sync.chunkFetcher(u.version) }, u, ...)`.
 */
export type { UpdateOffer };

/**
 * A new issuer key as the hello reply's `keys` carries it (docs/protocol.md section 1): `sig` is R||S by the
 * already trusted issuer key `by` over SHA-256(issuerKeyBody(id, pub)). Only its shape is checked here; the
 * terminal verifies the signature before it trusts the key.
 */
export interface IssuerKeyOffer {
  id: number;
  /** X||Y, 64 bytes. */
  pub: Uint8Array;
  by: number;
  sig: Uint8Array;
}

/** A revocation as the hello reply's `revoke` carries it: `sig` by trusted key `by` (not `id`) over SHA-256(revokeBody(id)). */
export interface IssuerKeyRevoke {
  id: number;
  by: number;
  sig: Uint8Array;
}

export interface SyncError {
  code: string;
  message: string;
}

export type SyncPhase = "connecting" | "online" | "offline" | "hello" | "upload" | "done" | "failed";

export interface SyncProgress {
  phase: SyncPhase;
  /** Records acknowledged in this round. */
  sent: number;
  /** sent + still pending. */
  total: number;
  /** Text to show on failure (fits the display with `code` beside it). */
  error?: string;
  code?: string;
}

/** What the flows read (updated in place). */
export interface SyncState {
  online: boolean;
  busy: boolean;
  /** Gateway-signed time (Unix ms) at the last successful hello, 0 before. */
  syncedTime: number;
  /** clock.uptime() when syncedTime arrived. */
  syncedUptime: number;
  limits: SyncLimits | null;
  /** The deny list's version the terminal holds: -1 until the first hello reads it (SyncOptions.denyVersion). */
  denyVersion: number;
  /** Records not yet acknowledged, as of the last round. */
  pending: number;
  lastError: SyncError | null;
  /** Replies that failed authentication or answered another request, since start. */
  badReplies: number;
}

export interface SyncDevice {
  clock: Clock;
  wifi: Wifi;
  http: Http;
  secure: SecureElement;
  crypto: CryptoBackend;
}

export interface SyncOptions {
  device: SyncDevice;
  journal: SyncJournal;
  terminalId: number;
  /** e.g. "https://gw.example.com" (no trailing slash needed). */
  gatewayUrl: string;
  /** The gateway's link public key X||Y (64 bytes), from cfg.json. */
  gatewayKey: Uint8Array;
  /** SSIDs in the order to try (cfg.json `wifi`); the password of network i is `secrets` entry wifiPasswordName(i). */
  networks: string[];
  secrets: SyncSecrets;
  firmwareVersion: string;
  /** Version of the deny list the terminal holds (0 for none), or what reads it: read at the first hello, so that
   * a terminal reads its list from flash only when a round or a payment needs it. */
  denyVersion?: number | (() => number);
  /** Records per upload (default 8, at most 32). */
  batch?: number;
  /** Between rounds once online (default 5 min). */
  intervalMs?: number;
  /** Per request (default 15 s). */
  timeoutMs?: number;
  /** Wi-Fi and failed-round backoff: first wait, doubling up to the cap (defaults 5 s, 5 min). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  onProgress?: (p: SyncProgress) => void;
  /** After the clock was set from a gateway-signed time. */
  onTime?: (ms: number) => void;
  /** A new deny list: 8 bytes per wallet ID, sorted ascending. */
  onDeny?: (version: number, ids: Uint8Array) => void;
  onLimits?: (l: SyncLimits) => void;
  onUpdateOffer?: (u: UpdateOffer) => void;
  /**
   * The gateway's notices of invoices paid online (its hello reply's `paid`): one signed PaidConfirmation each, as
   * sent; the terminal checks the signature before recording one. The gateway repeats a notice at every hello
   * until the entry that records it has been uploaded.
   */
  onPaid?: (paid: Uint8Array) => void;
  /** The issuer key IDs the terminal trusts, sent in hello so the gateway offers only the keys it lacks. */
  keyIds?: () => number[];
  /**
   * New issuer keys and revocations in the hello reply (at most 4 of each, shape checked, signatures NOT yet
   * verified); called when either list is non-empty.
   */
  onKeys?: (keys: IssuerKeyOffer[], revoke: IssuerKeyRevoke[]) => void;
  /** Security-relevant failures (a reply that failed authentication or was replayed), for the activity log. */
  onAlert?: (e: SyncError) => void;
  /**
   * Orders taken from store links (docs/sync.md, upload `orders`): `list` is sent with every upload (one is made
   * for them alone when no record is pending), `settled` gets the authentic reply's `orders`.
   */
  orders?: { list(): { order: Uint8Array; callback: string }[]; settled(reply: unknown): void };
}

export interface SyncHandle {
  readonly state: SyncState;
  /** Start a round now (connecting first if needed). */
  sendNow(): void;
  /** Stop all timers; late callbacks are ignored. */
  stop(): void;
  /** One piece of an offered update (docs/sync.md, update-chunk). */
  fetchChunk(version: string, offset: number, length: number, done: (err: SyncError | null, data?: Uint8Array) => void): void;
  /** fetchChunk for one version in the shape firmware/update/updater.ts's UpdateDeps.fetchChunk takes. */
  chunkFetcher(version: string): (offset: number, length: number, done: (err: string | null, data?: Uint8Array) => void) => void;
  /**
   * The relay bundles' keys (relayKeys(Z), docs/protocol.md "Relayed records"), from an ECDH in the secure element
   * made for the call (also offline; nothing is kept, so they cost no memory while idle); null when the part or the
   * configuration fails.
   */
  relayKeys(done: (k: SealKeys | null) => void): void;
  /** One sealed request (queued behind any in flight, e.g. `authorize`): its authentic reply, or why there is none. */
  call(op: string, fields: { [k: string]: unknown }, done: (e: SyncError | null, reply?: LinkReply) => void): void;
}

export const SYNC_OFFLINE = "SYNC_OFFLINE";
export const SYNC_NET = "SYNC_NET";
export const SYNC_HTTP = "SYNC_HTTP";
export const SYNC_SE = "SYNC_SE";
export const SYNC_WIFI = "SYNC_WIFI";
export const SYNC_CONFIG = "SYNC_CONFIG";
export const SYNC_STALLED = "SYNC_STALLED";
export const SYNC_REJECTED = "SYNC_REJECTED";

function err(code: string, message: string): SyncError {
  return { code: code, message: message };
}

/** Wait before attempt number `failures` (1, 2, ...): min, 2 min, 4 min ... capped at max. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  let d = minMs;
  for (let i = 1; i < failures && d < maxMs; i++) d = d * 2;
  return d < maxMs ? d : maxMs;
}

/** The gateway-signed time moved on by the device's own monotonic clock; 0 before the first sync. */
export function trustedNow(s: SyncState, clock: Clock): number {
  return s.syncedTime ? s.syncedTime + (clock.uptime() - s.syncedUptime) : 0;
}

/** Milliseconds since the last successful sync; -1 before the first. */
export function msSinceSync(s: SyncState, clock: Clock): number {
  return s.syncedTime ? clock.uptime() - s.syncedUptime : -1;
}

function isCount(v: unknown): boolean {
  return typeof v === "number" && v >= 0 && Math.floor(v) === v && v < 9007199254740992;
}

interface Hello {
  time: number;
  denyVersion: number;
  deny: Uint8Array | null;
  limits: SyncLimits;
  update: UpdateOffer | null;
  paid: Uint8Array[];
  keys: IssuerKeyOffer[];
  revoke: IssuerKeyRevoke[];
}

function isByte(v: unknown): boolean {
  return isCount(v) && (v as number) < 256;
}

/** 64 bytes from exactly 128 lower-case hex digits, else undefined. */
function hex64(v: unknown): Uint8Array | undefined {
  const b = typeof v === "string" && v.length === 128 ? fromHex(v) : undefined;
  return b && toHex(b) === v ? b : undefined;
}

/** Most paid-invoice notices in one hello reply. */
const MAX_PAID = 16;
/** Largest notice taken (a PaidConfirmation is far smaller). */
const MAX_PAID_BYTES = 256;

/** Checks every field of a hello reply before anything of it is applied. */
export function readHello(m: LinkReply, heldDenyVersion: number): Hello | SyncError {
  const bad = (what: string) => err("REPLY_FORMAT", "gateway hello reply: bad " + what);
  const time = m.time;
  if (typeof time !== "number" || !isCount(time) || time < 1e12 || time > 1e14) return bad("time");
  if (!isCount(m.denyVersion)) return bad("denyVersion");
  let deny: Uint8Array | null = null;
  if (m.deny !== undefined) {
    const d = typeof m.deny === "string" && m.deny.length % 16 === 0 ? fromHex(m.deny) : undefined;
    if (!d) return bad("deny");
    for (let i = 8; i < d.length; i += 8) {
      let order = 0;
      for (let k = 0; k < 8 && order === 0; k++) order = d[i + k] - d[i - 8 + k];
      if (order <= 0) return bad("deny order");
    }
    deny = d;
  } else if (m.denyVersion !== heldDenyVersion) return bad("deny (missing)");
  const l = m.limits as SyncLimits;
  if (!l || typeof l !== "object" || !isCount(l.perTxMinor) || !isCount(l.unsyncedMinor) || !isCount(l.maxDaysOffline) || !isCount(l.perWalletMinor)) {
    return bad("limits");
  }
  let update: UpdateOffer | null = null;
  if (m.update !== undefined) {
    const u = m.update as { version: unknown; board: unknown; key: unknown; size: unknown; sha256: unknown; sig: unknown };
    const sha = u && typeof u.sha256 === "string" ? fromHex(u.sha256) : undefined;
    const sig = u && typeof u.sig === "string" ? fromHex(u.sig) : undefined;
    // lower-case hex only, so the offer reads the same everywhere it is compared
    if (!u || !isLabel(u.version) || !isLabel(u.board) || !isCount(u.key) || (u.key as number) > 255 || !isCount(u.size) || !sha || sha.length !== 32 || !sig || sig.length !== 64 || toHex(sha) !== u.sha256 || toHex(sig) !== u.sig) {
      return bad("update");
    }
    update = { version: u.version as string, board: u.board as string, key: u.key as number, size: u.size as number, sha256: u.sha256 as string, sig: u.sig as string };
  }
  const paid: Uint8Array[] = [];
  if (m.paid !== undefined) {
    const list = m.paid as unknown[];
    if (!Array.isArray(list) || list.length > MAX_PAID) return bad("paid");
    for (let i = 0; i < list.length; i++) {
      const b = typeof list[i] === "string" ? fromBase64(list[i] as string) : undefined;
      if (!b || !b.length || b.length > MAX_PAID_BYTES) return bad("paid");
      paid.push(b);
    }
  }
  const keys: IssuerKeyOffer[] = [];
  if (m.keys !== undefined) {
    const list = m.keys as { id: unknown; pub: unknown; by: unknown; sig: unknown }[];
    if (!Array.isArray(list) || list.length > MAX_KEYS) return bad("keys");
    for (let i = 0; i < list.length; i++) {
      const k = list[i];
      const pub = k && typeof k === "object" ? hex64(k.pub) : undefined;
      const sig = pub ? hex64(k.sig) : undefined;
      if (!sig || !isByte(k.id) || !isByte(k.by) || k.id === k.by) return bad("keys");
      keys.push({ id: k.id as number, pub: pub as Uint8Array, by: k.by as number, sig: sig });
    }
  }
  const revoke: IssuerKeyRevoke[] = [];
  if (m.revoke !== undefined) {
    const list = m.revoke as { id: unknown; by: unknown; sig: unknown }[];
    if (!Array.isArray(list) || list.length > MAX_KEYS) return bad("revoke");
    for (let i = 0; i < list.length; i++) {
      const k = list[i];
      const sig = k && typeof k === "object" ? hex64(k.sig) : undefined;
      if (!sig || !isByte(k.id) || !isByte(k.by) || k.id === k.by) return bad("revoke");
      revoke.push({ id: k.id as number, by: k.by as number, sig: sig });
    }
  }
  return { time: time, denyVersion: m.denyVersion as number, deny: deny, limits: l, update: update, paid: paid, keys: keys, revoke: revoke };
}

/** The seqs in `list` (numbers, or objects with a numeric seq) that were in `sent`, each once; false if malformed. */
function pick(list: unknown, sent: number[], out: number[]): boolean {
  if (list === undefined) return true;
  if (!Array.isArray(list)) return false;
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    let seq: number;
    if (typeof x === "number") seq = x;
    else if (x && typeof x === "object" && typeof x.seq === "number") seq = x.seq;
    else return false;
    if (sent.indexOf(seq) >= 0 && out.indexOf(seq) < 0) out.push(seq);
  }
  return true;
}

interface Call {
  op: string;
  fields: { [k: string]: unknown };
  done: (e: SyncError | null, reply?: LinkReply) => void;
}

export function startSync(o: SyncOptions): SyncHandle {
  const d = o.device;
  const clock = d.clock;
  const c = d.crypto;
  const batch = o.batch && o.batch > 0 ? (o.batch < 32 ? o.batch : 32) : 8;
  const interval = o.intervalMs || 300000;
  const timeout = o.timeoutMs || 15000;
  const bMin = o.backoffMinMs || 5000;
  const bMax = o.backoffMaxMs || 300000;
  const base = o.gatewayUrl.charAt(o.gatewayUrl.length - 1) === "/" ? o.gatewayUrl.slice(0, -1) : o.gatewayUrl;

  const state: SyncState = {
    online: false,
    busy: false,
    syncedTime: 0,
    syncedUptime: 0,
    limits: null,
    denyVersion: -1,
    pending: 0,
    lastError: null,
    badReplies: 0,
  };

  let stopped = false;
  let keys: LinkKeys | null = null;
  let lastSeq = 0;
  const queue: Call[] = [];
  let inFlight = false;
  let connecting = false;
  let netIndex = 0;
  let wifiFailures = 0;
  let roundFailures = 0;
  let connectTimer = 0;
  let roundTimer = 0;
  let again = false;
  let sent = 0;

  function progress(phase: SyncPhase, e?: SyncError | null): void {
    const p: SyncProgress = { phase: phase, sent: sent, total: sent + state.pending };
    if (e) {
      p.error = e.message;
      p.code = e.code;
    }
    if (o.onProgress) o.onProgress(p);
  }

  // ------------------------------------------------------------ one request at a time

  function withKeys(done: (e: SyncError | null) => void): void {
    if (keys) return done(null);
    if (!o.gatewayKey || o.gatewayKey.length !== 64) return done(err(SYNC_CONFIG, "No gateway key: provision the terminal"));
    d.secure.ecdh(SeSlot.Identity, o.gatewayKey, (e, z) => {
      if (e || !z || z.length !== 32) return done(err(SYNC_SE, "Secure element: link key failed" + (e ? " (" + e + ")" : "")));
      keys = linkKeys(c, z);
      done(null);
    });
  }

  function call(op: string, fields: { [k: string]: unknown }, done: (e: SyncError | null, reply?: LinkReply) => void): void {
    queue.push({ op: op, fields: fields, done: done });
    next();
  }

  function next(): void {
    if (inFlight || !queue.length || stopped) return;
    const q = queue.shift() as Call;
    inFlight = true;
    const finish = (e: SyncError | null, reply?: LinkReply) => {
      inFlight = false;
      if (stopped) return;
      q.done(e, reply);
      next();
    };
    if (!state.online) return finish(err(SYNC_OFFLINE, "Offline: no Wi-Fi"));
    withKeys((ke) => {
      if (ke) return finish(ke);
      d.secure.counter(LINK_COUNTER, true, (ce, seq) => {
        if (ce || typeof seq !== "number" || !(seq > lastSeq)) return finish(err(SYNC_SE, "Secure element: counter failed" + (ce ? " (" + ce + ")" : "")));
        lastSeq = seq;
        d.secure.random((re, rnd) => {
          if (re || !rnd || rnd.length < 8) return finish(err(SYNC_SE, "Secure element: random failed" + (re ? " (" + re + ")" : "")));
          const k = keys as LinkKeys;
          const nonce = toHex(rnd.subarray(0, 8));
          const req = q.fields;
          req.op = q.op;
          req.tid = o.terminalId;
          req.nonce = nonce;
          const body = sealRequest(c, k, seq, req as { op: string; tid: number; nonce: string });
          d.http.request(
            { method: "POST", url: base + linkPath(o.terminalId, q.op), headers: { "Content-Type": "text/plain" }, body: body, timeoutMs: timeout },
            (he, res) => {
              if (he || !res) return finish(err(SYNC_NET, "Gateway unreachable" + (he ? ": " + he : "")));
              if (res.status !== 200) return finish(err(SYNC_HTTP, plainError(res.status, res.body, 40)));
              const r = openReply(c, k, res.body, { seq: seq, nonce: nonce });
              if (isLinkError(r)) {
                const e = err(r.code, r.message);
                if (r.code !== "REPLY_FORMAT") {
                  state.badReplies++;
                  if (o.onAlert) o.onAlert(e);
                }
                return finish(e);
              }
              finish(null, r.msg);
            },
          );
        });
      });
    });
  }

  // ------------------------------------------------------------ rounds

  function hello(done: (e: SyncError | null) => void): void {
    const found = o.journal.anomalies();
    const anomalies: { kind: string; page: number; offset: number; seq: number }[] = [];
    for (let i = 0; i < found.length; i++) anomalies.push({ kind: found[i].kind, page: found[i].page, offset: found[i].offset, seq: found[i].seq });
    const head = o.journal.head();
    const dv = o.denyVersion;
    if (state.denyVersion < 0) state.denyVersion = typeof dv === "function" ? dv() : dv || 0;
    const fields = {
      fw: o.firmwareVersion,
      time: clock.now(),
      head: { seq: head.seq, hash: toHex(head.hash) },
      pending: state.pending,
      denyVersion: state.denyVersion,
      anomalies: anomalies,
      keys: o.keyIds ? o.keyIds() : undefined,
    };
    call("hello", fields, (e, reply) => {
      if (e) return done(e);
      const h = readHello(reply as LinkReply, state.denyVersion);
      if ("code" in h) return done(h);
      clock.set(h.time);
      state.syncedTime = h.time;
      state.syncedUptime = clock.uptime();
      if (o.onTime) o.onTime(h.time);
      if (h.deny) {
        state.denyVersion = h.denyVersion;
        if (o.onDeny) o.onDeny(h.denyVersion, h.deny);
      }
      state.limits = h.limits;
      if (o.onLimits) o.onLimits(h.limits);
      if (anomalies.length) o.journal.releaseQuarantine();
      if (h.update && o.onUpdateOffer) o.onUpdateOffer(h.update);
      if (o.onPaid) for (let i = 0; i < h.paid.length; i++) o.onPaid(h.paid[i]);
      if ((h.keys.length || h.revoke.length) && o.onKeys) o.onKeys(h.keys, h.revoke);
      done(null);
    });
  }

  function upload(done: (e: SyncError | null) => void): void {
    const recs = o.journal.pending(batch);
    const ords = o.orders ? o.orders.list() : [];
    if (!recs.length && !ords.length) return done(null);
    const seqs: number[] = [];
    const items: { seq: number; entry: string; prev?: string }[] = [];
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      const item: { seq: number; entry: string; prev?: string } = { seq: r.seq, entry: toBase64(r.payload) };
      if (r.prev) item.prev = toHex(r.prev);
      seqs.push(r.seq);
      items.push(item);
    }
    o.journal.markUploaded(seqs);
    progress("upload");
    const f: { [k: string]: unknown } = { records: items };
    if (ords.length) f.orders = ords.map((x) => ({ order: toBase64(x.order), callback: x.callback }));
    call("upload", f, (e, reply) => {
      if (e) return done(e);
      const m = reply as LinkReply;
      if (ords.length && o.orders) o.orders.settled(m.orders);
      if (!recs.length) return done(null);
      const acked: number[] = [];
      const rejected: number[] = [];
      if (!pick(m.acked, seqs, acked) || !pick(m.rejected, seqs, rejected)) return done(err("REPLY_FORMAT", "gateway upload reply: bad acked/rejected"));
      const both = acked.slice();
      for (let i = 0; i < rejected.length; i++) if (both.indexOf(rejected[i]) < 0) both.push(rejected[i]);
      if (!both.length) return done(err(SYNC_STALLED, "Gateway took none of " + seqs.length + " records"));
      o.journal.markAcked(both);
      sent += both.length;
      state.pending = o.journal.stats().pending;
      if (rejected.length) {
        const first = (m.rejected as { seq: number; code?: unknown; message?: unknown }[])[0];
        state.lastError = err(SYNC_REJECTED, rejected.length + " record(s) refused by gateway" + (first && typeof first.code === "string" ? ": " + first.code : ""));
      }
      progress("upload", rejected.length ? state.lastError : null);
      upload(done);
    });
  }

  function endRound(e: SyncError | null): void {
    state.busy = false;
    o.journal.reclaim();
    state.pending = o.journal.stats().pending;
    if (e) state.lastError = e;
    progress(e ? "failed" : "done", e);
    if (stopped) return;
    if (again && state.online) {
      again = false;
      return round();
    }
    again = false;
    if (!state.online) return;
    roundFailures = e ? roundFailures + 1 : 0;
    roundTimer = clock.setTimeout(() => {
      roundTimer = 0;
      round();
    }, e ? backoffMs(roundFailures, bMin, bMax) : interval);
  }

  function round(): void {
    if (stopped) return;
    if (roundTimer) {
      clock.clear(roundTimer);
      roundTimer = 0;
    }
    if (state.busy) {
      again = true;
      return;
    }
    if (!state.online) {
      state.lastError = err(SYNC_OFFLINE, "Offline: no Wi-Fi");
      progress("offline", state.lastError);
      return;
    }
    state.busy = true;
    sent = 0;
    state.pending = o.journal.stats().pending;
    progress("hello");
    hello((e) => {
      if (e || stopped) return endRound(e);
      upload(endRound);
    });
  }

  // ------------------------------------------------------------ Wi-Fi

  function scheduleConnect(ms: number): void {
    if (stopped || connectTimer) return;
    connectTimer = clock.setTimeout(() => {
      connectTimer = 0;
      connect();
    }, ms);
  }

  function connectFailed(e: SyncError): void {
    connecting = false;
    netIndex++;
    wifiFailures++;
    state.lastError = e;
    progress("offline", e);
    scheduleConnect(backoffMs(wifiFailures, bMin, bMax));
  }

  function connect(): void {
    if (stopped || state.online || connecting) return;
    if (!o.networks.length) {
      state.lastError = err(SYNC_CONFIG, "No Wi-Fi network configured");
      return progress("offline", state.lastError);
    }
    const i = netIndex % o.networks.length;
    const ssid = o.networks[i];
    connecting = true;
    progress("connecting");
    o.secrets.get(wifiPasswordName(i), (se, pw) => {
      if (stopped) return;
      if (se || !pw) return connectFailed(err(SYNC_WIFI, "No password for Wi-Fi " + ssid));
      let pass = "";
      for (let i = 0; i < pw.length; i++) pass += String.fromCharCode(pw[i]);
      d.wifi.connect(ssid, pass, (we) => {
        if (stopped) return;
        if (we) return connectFailed(err(SYNC_WIFI, "Wi-Fi " + ssid + ": " + we));
        connecting = false;
        online();
      });
    });
  }

  function online(): void {
    if (state.online) return;
    wifiFailures = 0;
    state.online = true;
    progress("online");
    round();
  }

  d.wifi.onChange((s: WifiState) => {
    if (stopped) return;
    if (s === "connected" && !connecting) online();
    else if (s === "off" && state.online) {
      state.online = false;
      if (roundTimer) {
        clock.clear(roundTimer);
        roundTimer = 0;
      }
      state.lastError = err(SYNC_OFFLINE, "Wi-Fi lost");
      progress("offline", state.lastError);
      wifiFailures = 1;
      scheduleConnect(backoffMs(1, bMin, bMax));
    }
  });

  if (d.wifi.state() === "connected") online();
  else connect();

  const handle: SyncHandle = {
    state: state,
    sendNow() {
      if (stopped) return;
      if (state.online) return round();
      if (connectTimer) {
        clock.clear(connectTimer);
        connectTimer = 0;
      }
      connect();
    },
    stop() {
      stopped = true;
      if (connectTimer) clock.clear(connectTimer);
      if (roundTimer) clock.clear(roundTimer);
      connectTimer = 0;
      roundTimer = 0;
    },
    fetchChunk(version, offset, length, done) {
      if (!(length > 0) || length > MAX_CHUNK || !isCount(offset)) return done(err("SYNC_ARG", "chunk length must be 1.." + MAX_CHUNK));
      call("update-chunk", { version: version, offset: offset, length: length }, (e, reply) => {
        if (e) return done(e);
        const data = typeof (reply as LinkReply).data === "string" ? fromBase64((reply as LinkReply).data as string) : undefined;
        if (!data || data.length > length) return done(err("REPLY_FORMAT", "gateway update-chunk reply: bad data"));
        done(null, data);
      });
    },
    chunkFetcher(version) {
      return (offset, length, done) => handle.fetchChunk(version, offset, length, (e, data) => (e ? done(e.code + ": " + e.message) : done(null, data)));
    },
    relayKeys(done) {
      if (!o.gatewayKey || o.gatewayKey.length !== 64) return done(null);
      // relayKeys(c, z) of protocol/relay.ts, written out so that the device holds no function more for it
      d.secure.ecdh(SeSlot.Identity, o.gatewayKey, (e, z) => done(e || !z || z.length !== 32 ? null : sealKeys(c, z, 5, "relay")));
    },
    call: call,
  };
  return handle;
}
