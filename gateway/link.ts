/**
 * The terminal link (docs/sync.md): the sealed requests (hello, upload, update-chunk), the connection log, and
 * checking each uploaded entry's signatures (on the worker threads first, preverify) before reconcile.ts enters it.
 */
import { createECDH } from "node:crypto";
import { sameBytes, toHex } from "./hex.ts";
import { takeOrders } from "./orders.ts";
import { authorize } from "./authorize.ts";
import type { Entry } from "../protocol/entry.ts";
import { decodeEntry, entryWalletId } from "../protocol/entry.ts";
import { txParts } from "../protocol/ids.ts";
import type { Allowance } from "../protocol/messages.ts";
import { decodePaid, decodeRefund } from "../protocol/messages.ts";
import { allowanceOf, paymentOf, paymentWalletId, requestOf, walletSigned } from "./decoded.ts";
import type { LinkCodec, LinkKeys, LinkReply, LinkRequest } from "../protocol/sync.ts";
import { isLinkError, linkKeys, MAX_CHUNK, MAX_UPLOAD_RECORDS, openRequest, sealReply, toBase64 } from "../protocol/sync.ts";
import { MAX_KEYS } from "../protocol/keys.ts";
import type { TerminalRow } from "./store.ts";
import type { UploadNeeds } from "./upload-reads.ts";
import { walletAvailable } from "./books.ts";
import {  } from "./verify.ts";
import type { SigCheck } from "./verify-pool.ts";
import type { Gateway, GatewayRequest, GatewayResponse, UploadRecord } from "./gateway.ts";
import { GatewayError, type Verdict, isHex, strictBase64, toPosInt, versionNewer } from "./fields.ts";

/**
 * The link codec's base64 and ASCII steps on Node's Buffer (the protocol's own are portable to the terminal and
 * slow on large bodies), with the same answers: canonical padded base64 only (strictBase64), bytes up to 0x7e.
 */
export const nodeLinkCodec: LinkCodec = {
  fromBase64: (s) => strictBase64(s) ?? undefined,
  ascii: (b) => {
    const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
    return /[^\x00-\x7e]/.test(s) ? null : s;
  },
};

/** An upload preverify() opened, kept for the request's own turn (opened once, not twice). */
interface Opened {
  body: string;
  keys: LinkKeys;
  tid: number;
  seq: number;
  msg: LinkRequest;
}
const opened = new WeakMap<GatewayRequest, Opened>();

/** An uploaded record's entry decoded (once per record: preverify, uploadNeeds and ingest all read it). */
interface Decoded {
  entry: string;
  bytes: Uint8Array | null;
  e: Entry | null;
}
const decoded = new WeakMap<object, Decoded>();

/** The record's entry as bytes and as an entry (null when not canonical base64, or not a well-formed entry). */
export function entryOf(r: UploadRecord): Decoded {
  const d = decoded.get(r);
  if (d && d.entry === r.entry) return d;
  const bytes = typeof r.entry === "string" ? strictBase64(r.entry) : null;
  const out = { entry: r.entry, bytes, e: bytes ? decodeEntry(bytes) : null };
  decoded.set(r, out);
  return out;
}

/**
 * Before an upload's turn: opens it (without acting on it) and has its entries' signatures checked on the worker
 * threads; what they verify is admitted to the Verifier, so the request's transaction only looks the answers up.
 * Never fails: anything it cannot do is simply checked in the request, as without workers.
 */
export async function preverify(g: Gateway, req: GatewayRequest): Promise<void> {
  if (!g.pool || !g.wantsPreverify(req) || !g.storeOpen()) return;
  try {
    const tid = Number((req.path || "").split("?")[0].split("/")[3]);
    // the link keys known from this terminal's earlier requests: no round trip to the database (if they are stale,
    // the body does not open, or the request's turn, which reads the terminal, sees other keys and opens it itself)
    const known = g.linkCache.get(tid);
    let keys = known ? known.keys : null;
    if (!keys) {
      const t = g.store.getTerminal(tid);
      if (!t) return;
      keys = g.keysFor(t);
    }
    const r = openRequest(g.crypto, keys, req.body, { lastSeq: 0, op: "upload", tid, codec: nodeLinkCodec });
    if (isLinkError(r)) return;
    opened.set(req, { body: req.body, keys, tid, seq: r.seq, msg: r.msg });
    if (!Array.isArray(r.msg.records)) return;
    const checks: SigCheck[] = [];
    for (const rec of (r.msg.records as UploadRecord[]).slice(0, MAX_UPLOAD_RECORDS)) {
      const e = rec && typeof rec === "object" ? entryOf(rec).e : null;
      if (e) g.sigChecks(e, checks);
    }
    if (!checks.length) return;
    const ok = await g.pool.verify(checks);
    for (let i = 0; i < checks.length; i++) if (ok[i]) g.verifier.admit(checks[i].pub, checks[i].data, checks[i].sig);
  } catch {
    // checked in the request instead
  }
}

/**
 * The signatures verifyEntry() will check for an uploaded entry: the wallet's on a payment (the allowance's issuer
 * signature is checked once per allowance and cached; the terminal's own signatures are vouched for by the link).
 */
export function sigChecks(_g: Gateway, e: Entry, out: SigCheck[]): void {
  if (e.kind === 1) {
    const p = paymentOf(e.payment);
    if (!p) return;
    const a = allowanceOf(e.payment).allowance;
    if (a) out.push({ pub: a.walletPub, data: walletSigned(e.payment, e.request), sig: p.walletSig });
  }
}

/** The HTTP server tells of each TCP/TLS connection; a row is written once a terminal speaks on it. */
export function connectionOpened(g: Gateway, id: number, remote: { address: string; port: number }): void {
  g.conns.set(id, { address: remote.address, port: remote.port, at: g.now(), rows: new Map() });
}

export function connectionClosed(g: Gateway, id: number): void {
  const c = g.conns.get(id);
  g.conns.delete(id);
  if (!c || !c.rows.size || !g.storeOpen()) return;
  try {
    g.store.transaction(() => {
      for (const rowId of c.rows.values()) g.store.closeConnection(rowId, g.now());
    });
  } catch {
    // the log is best effort
  }
}

/**
 * A request on the terminal link: its connection is logged in a transaction of its own, committed before the
 * request runs, so a refused request (bad authentication, replay) still leaves its address and port in the log.
 */
export function noteLink(g: Gateway, req: GatewayRequest): void {
  const m = /^\/v1\/t\/([0-9]{1,10})\/[a-z-]+$/.exec((req.path || "").split("?")[0]);
  if (!m || (req.method || "").toUpperCase() !== "POST" || !g.storeOpen()) return;
  const c = req.connection !== undefined ? g.conns.get(req.connection) : undefined;
  if (c && c.rows.has(Number(m[1]))) return; // logged already: the request itself counts itself (linkOp)
  try {
    g.store.transaction(() => {
      const t = g.store.getTerminal(Number(m[1]));
      if (t) g.noteConnection(req, t);
    });
  } catch {
    // the log is best effort; the request itself still runs (and fails on its own if the store is down)
  }
}

export function noteConnection(g: Gateway, req: GatewayRequest, t: TerminalRow): void {
  const c = req.connection !== undefined ? g.conns.get(req.connection) : undefined;
  if (c) {
    // one row per terminal on the connection (a proxy may carry several terminals on one)
    if (!c.rows.get(t.id)) c.rows.set(t.id, g.store.insertConnection({ merchantId: t.merchantId, terminalId: t.id, address: c.address, port: c.port, connectedAt: c.at, disconnectedAt: 0, requests: 0 }));
    return;
  }
  // in-process (the simulator): one request is one connection
  const r = req.remote ?? { address: "in-process", port: 0 };
  g.store.insertConnection({ merchantId: t.merchantId, terminalId: t.id, address: r.address, port: r.port, connectedAt: g.now(), disconnectedAt: g.now(), requests: 1 });
}

export function keysFor(g: Gateway, t: TerminalRow): LinkKeys {
  const pubHex = toHex(t.pub);
  const c = g.linkCache.get(t.id);
  if (c && c.pub === pubHex) {
    c.merchantId = t.merchantId;
    return c.keys;
  }
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(g.linkPrivate));
  const z = new Uint8Array(ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(t.pub)])));
  const keys = linkKeys(g.crypto, z);
  g.linkCache.set(t.id, { pub: pubHex, keys, merchantId: t.merchantId });
  return keys;
}

export function linkOp(g: Gateway, req: GatewayRequest, tid: number, op: string): GatewayResponse {
  if (op !== "hello" && op !== "upload" && op !== "update-chunk" && op !== "authorize") throw new GatewayError(404, "UNKNOWN_OP", "no link operation " + op);
  const pre = opened.get(req);
  // an upload preverify opened: the terminal's row comes with the upload's reads, in one round trip
  const folded = op === "upload" && pre && pre.body === req.body && pre.tid === tid ? foldedNeeds(g, pre) : null;
  const t = folded && g.store.terminalAndUpload ? g.store.terminalAndUpload(tid, folded) : g.store.getTerminal(tid);
  if (!t) throw new GatewayError(404, "UNKNOWN_TERMINAL", "terminal " + tid + " is not registered");
  if (t.revokedAt) throw new GatewayError(403, "TERMINAL_REVOKED", "terminal " + tid + " was revoked", { terminalId: t.id, merchantId: t.merchantId });
  const keys = g.keysFor(t);
  // opened already by preverify() (same body, same keys, not a replay now): the same answer openRequest would give
  const usePre = !!pre && pre.body === req.body && pre.keys === keys && pre.tid === tid && op === "upload" && pre.seq > t.linkSeq;
  // the reads were loaded for what preverify opened, under the merchant the cache named: not this request's, dropped
  if (folded && !(usePre && t.merchantId === folded.merchantId) && g.store.dropUpload) g.store.dropUpload();
  const r = usePre && pre ? { seq: pre.seq, msg: pre.msg } : openRequest(g.crypto, keys, req.body, { lastSeq: t.linkSeq, op, tid, codec: nodeLinkCodec });
  // the connection log counts the terminal's authentic requests on each connection
  const conn = req.connection !== undefined ? g.conns.get(req.connection) : undefined;
  const connRow = conn ? conn.rows.get(t.id) : undefined;
  if (connRow && !isLinkError(r)) g.store.touchConnection(connRow, t.id, t.merchantId);
  if (isLinkError(r)) {
    // the refusal itself is logged outside the (rolled back) transaction, by handle()
    throw new GatewayError(r.status, r.code, r.message, { terminalId: t.id, merchantId: t.merchantId });
  }
  g.store.updateTerminal(t.merchantId, t.id, { linkSeq: r.seq });
  let reply: Record<string, unknown>;
  if (op === "hello") reply = g.hello(t, r.msg);
  else if (op === "upload") reply = g.upload(t, r.msg);
  else if (op === "authorize") reply = authorize(g, t, r.msg);
  else reply = g.chunk(t, r.msg);
  const out: LinkReply = { ...reply, nonce: r.msg.nonce };
  return { status: 200, headers: { "content-type": "text/plain" }, body: sealReply(g.crypto, keys, r.seq, out) };
}

export function hello(g: Gateway, t: TerminalRow, m: LinkRequest): Record<string, unknown> {
  const now = g.now();
  const patch: Partial<TerminalRow> = { lastHelloAt: now };
  if (typeof m.fw === "string" && m.fw.length <= 32) patch.fw = m.fw;
  if (typeof m.time === "number" && Number.isFinite(m.time)) patch.drift = Math.round(m.time - now);
  const head = m.head as { seq?: unknown; hash?: unknown } | undefined;
  if (head && toPosInt(head.seq) && isHex(head.hash, 16)) {
    patch.headSeq = head.seq;
    patch.headHash = head.hash;
    if (head.seq > 0) g.learnHash(t, head.seq, head.hash, "hello head");
    const max = g.store.maxRecordSeq(t.merchantId, t.id);
    if (head.seq < max) g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "chain", detail: "journal head " + head.seq + " is behind record " + max + " already uploaded (journal reset?)" });
  }
  const anomalies = Array.isArray(m.anomalies) ? m.anomalies.slice(0, 64) : [];
  for (const a of anomalies) {
    const x = a as { kind?: unknown; page?: unknown; offset?: unknown; seq?: unknown };
    const kind = typeof x.kind === "string" ? x.kind.slice(0, 16) : "unknown";
    g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "journal-" + kind, detail: JSON.stringify({ page: x.page, offset: x.offset, seq: x.seq }) });
  }
  g.store.updateTerminal(t.merchantId, t.id, patch);
  const heldKeys = Array.isArray(m.keys) ? (m.keys as unknown[]).slice(0, 256) : undefined;
  g.log(t.merchantId, t.id, "hello", { fw: patch.fw ?? t.fw, head: head ?? null, pending: m.pending, anomalies: anomalies.length, drift: patch.drift, keys: heldKeys });
  const m0 = g.merchant(t.merchantId);
  const dv = g.denyVersion();
  const reply: Record<string, unknown> = { time: now, denyVersion: dv, limits: JSON.parse(m0.limits) };
  if (m.denyVersion !== dv) reply.deny = g.store.denyList().join("");
  const u = g.store.latestUpdate();
  // only a firmware-signed update (rows from before firmware keys have no board) is offered
  if (u && u.board && typeof m.fw === "string" && versionNewer(u.version, m.fw)) reply.update = { version: u.version, board: u.board, key: u.keyId, size: u.size, sha256: u.sha256, sig: u.sig };
  // issuer keys the terminal says it lacks (only a terminal that says which it holds is offered any)
  if (heldKeys) {
    const revoked = g.issuerKeyRevocations();
    const lack = g.issuerKeys().filter((k) => heldKeys.indexOf(k.id) < 0 && !revoked.some((r) => r.id === k.id));
    if (lack.length) reply.keys = lack.slice(0, MAX_KEYS);
    const drop = revoked.filter((r) => heldKeys.indexOf(r.id) >= 0);
    if (drop.length) reply.revoke = drop.slice(0, MAX_KEYS);
  }
  const paid = g.store.unrecordedPaid(t.merchantId, t.id);
  if (paid.length) reply.paid = paid.slice(0, 16).map((i) => toBase64(i.paid as Uint8Array));
  return reply;
}

export function chunk(g: Gateway, _t: TerminalRow, m: LinkRequest): Record<string, unknown> {
  if (typeof m.version !== "string" || !toPosInt(m.offset) || !toPosInt(m.length) || m.length > MAX_CHUNK) {
    throw new GatewayError(400, "REQ_FORMAT", "update-chunk: version, offset, length (at most " + MAX_CHUNK + ")");
  }
  const data = g.store.updateChunk(m.version, m.offset, m.length);
  if (!data) throw new GatewayError(404, "UNKNOWN_UPDATE", "no update " + m.version);
  return { data: toBase64(data) };
}

/** A chain hash learnt for (terminal, seq); a different one already known is a fork of the journal. */
export function learnHash(g: Gateway, t: TerminalRow, seq: number, hash: string, from: string): void {
  const known = g.store.chainHash(t.merchantId, t.id, seq);
  if (known === undefined) g.store.putChainHash(t.merchantId, t.id, seq, hash);
  else if (known !== hash) g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "chain", detail: "chain hash of record " + seq + " from " + from + " differs from the one known" });
}

/** What is wrong with an upload's records (null: an array of well-formed records in increasing seq). */
function recordsError(recs: unknown): GatewayError | null {
  if (!Array.isArray(recs)) return new GatewayError(400, "REQ_FORMAT", "upload: records must be an array");
  if (recs.length > MAX_UPLOAD_RECORDS) return new GatewayError(413, "TOO_MANY_RECORDS", "at most " + MAX_UPLOAD_RECORDS + " records per upload");
  let last = 0;
  for (const r of recs as UploadRecord[]) {
    if (!r || typeof r !== "object" || !toPosInt(r.seq) || r.seq < 1 || typeof r.entry !== "string" || (r.prev !== undefined && !isHex(r.prev, 16))) {
      return new GatewayError(400, "REQ_FORMAT", "upload: each record is {seq (positive), prev (32 hex, optional), entry (base64)}");
    }
    if (r.seq <= last) return new GatewayError(400, "REQ_FORMAT", "upload: records must be in increasing seq");
    last = r.seq;
  }
  return null;
}

/**
 * The reads of an upload preverify opened, to load with the terminal's row (linkOp): with the merchant the link
 * cache knows for the terminal; null when that is not known, the keys are not the cache's, the records are not
 * well formed (the request's turn refuses them) or it carries orders (taken before the reads, upload()).
 */
function foldedNeeds(g: Gateway, pre: Opened): UploadNeeds | null {
  const c = g.linkCache.get(pre.tid);
  if (!c || c.keys !== pre.keys || c.merchantId === undefined || pre.msg.orders !== undefined || recordsError(pre.msg.records)) return null;
  return uploadNeeds(g, { merchantId: c.merchantId, id: pre.tid }, pre.msg.records as UploadRecord[]);
}

export function upload(g: Gateway, t: TerminalRow, m: LinkRequest): Record<string, unknown> {
  const bad = recordsError(m.records);
  if (bad) throw bad;
  const recs = m.records as UploadRecord[];
  const last = recs.length ? recs[recs.length - 1].seq : 0;
  // the orders first: a payment for one of them in this same upload then finds its callback
  const orders = takeOrders(g, t, m.orders);
  // set-wise: what the records will ask of the store is loaded in one query per table, then each record is
  // checked and entered in turn as before, from memory; its rows are written in multi-row INSERTs at the end (loaded
  // already with the terminal's row when preverify opened the upload: linkOp)
  if (g.store.loadUpload && !(g.store.uploadLoaded && g.store.uploadLoaded())) g.store.loadUpload(uploadNeeds(g, t, recs as UploadRecord[]));
  const acked: number[] = [];
  const rejected: { seq: number; code: string; message: string }[] = [];
  let entered = 0;
  let dup = 0;
  for (const r of recs as UploadRecord[]) {
    const v = g.ingest(t, r);
    if (v === "entered" || v === "duplicate") {
      acked.push(r.seq);
      if (v === "entered") entered++;
      else dup++;
    } else rejected.push({ seq: r.seq, code: v.code, message: v.message });
  }
  g.log(t.merchantId, t.id, "upload", { records: recs.length, entered, duplicates: dup, rejected: rejected.length, first: recs.length ? (recs[0] as UploadRecord).seq : 0, last });
  return m.orders === undefined ? { acked, rejected } : { acked, rejected, orders };
}

/** What ingest() of these records will read: their seqs, txIds, wallets, counters, allowances, balances, orders. */
export function uploadNeeds(g: Gateway, t: Pick<TerminalRow, "merchantId" | "id">, recs: UploadRecord[]): UploadNeeds {
  const n: UploadNeeds = { merchantId: t.merchantId, terminalId: t.id, seqs: [], chainSeqs: [], txIds: [], wallets: [], counters: [], allowanceKeys: [], accounts: [], movementKeys: [], orderRefs: [] };
  for (const r of recs) {
    n.seqs.push(r.seq);
    if (r.seq > 1) n.chainSeqs.push(r.seq - 1);
    const e = entryOf(r).e;
    if (!e) continue;
    const tx = toHex(e.txId);
    n.txIds.push(tx);
    // the movement each kind posts (Books.move looks its key up first); an approval at once is rare: asked then
    n.movementKeys.push((e.kind === 3 ? "refund:" : "payment:") + tx);
    if (e.kind === 1) {
      const p = paymentOf(e.payment);
      if (!p) continue;
      const walletId = paymentWalletId(g.crypto, e.payment);
      n.wallets.push(walletId);
      n.counters.push(p.counter);
      n.allowanceKeys.push(p.allowance.expiryDay + ":" + p.allowance.startCounter);
      n.accounts.push(walletAvailable(walletId));
      if (e.orderRef) n.orderRefs.push(e.orderRef);
    } else if (e.kind === 3) {
      const x = decodeRefund(e.refund);
      if (x) n.txIds.push(toHex(x.txId));
    } else if (e.orderRef) n.orderRefs.push(e.orderRef);
  }
  return n;
}

export function ingest(g: Gateway, t: TerminalRow, r: UploadRecord): "entered" | "duplicate" | { code: string; message: string } {
  const s = g.store;
  const now = g.now();
  const { bytes, e } = entryOf(r);
  const txHex = e ? toHex(e.txId) : "";
  const prev = r.prev ?? "";
  // The same record again (a lost reply, a restart): acknowledged, never entered twice.
  const same = s.recordsAt(t.merchantId, t.id, r.seq);
  for (const x of same) {
    if (bytes && sameBytes(x.entry, bytes)) {
      if (x.status === "rejected") return { code: x.code, message: x.message };
      return "duplicate";
    }
  }
  const reject = (code: string, message: string) => {
    s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes ?? new Uint8Array(0), txId: txHex, status: "rejected", code, message, receivedAt: now });
    g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: e ? entryWalletId(g.crypto, e) : "", txId: txHex, kind: "rejected", detail: code + ": " + message + " (record " + r.seq + ")" });
    return { code, message };
  };
  if (!bytes) return reject("E_ENTRY", "entry is not base64");
  if (!e) return reject("E_ENTRY", "entry is not a well-formed journal entry");
  if (txParts(e.txId).terminalId !== t.id) return reject("E_TXID", "transaction ID names terminal " + txParts(e.txId).terminalId + ", not this one");
  if (s.txIdTaken(txHex)) {
    // Held already under another record (the journal was re-uploaded from elsewhere, or reset): the same bytes are
    // a duplicate, other bytes a conflict.
    const rec = s.recordOfTx(t.merchantId, t.id, txHex);
    if (rec && sameBytes(rec.entry, bytes)) {
      s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "same entry as record " + rec.seq, receivedAt: now });
      return "duplicate";
    }
    // Entered already from the payer's receipt: the same request and payment are this payment, uploaded at last.
    const ev = rec ? undefined : s.recordsAt(t.merchantId, t.id, 0).find((x) => x.txId === txHex && x.status === "evidence");
    const had = ev ? decodeEntry(ev.entry) : null;
    if (had && had.kind === 1 && e.kind === 1 && sameBytes(had.request, e.request) && sameBytes(had.payment, e.payment)) {
      s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "entered from the payer's receipt before this upload", receivedAt: now });
      s.updateLedger(t.merchantId, txHex, { method: e.method, orderRef: e.orderRef, updatedAt: now });
      if (prev && r.seq > 1) g.learnHash(t, r.seq - 1, prev, "record " + r.seq);
      g.log(t.merchantId, t.id, "evidence-uploaded", { ref: txHex, seq: r.seq });
      return "duplicate";
    }
    return reject("E_TXID_CONFLICT", "transaction " + txHex + " is held with other contents");
  }
  const v = g.verifyEntry(t, e, true);
  if (!v.ok) return reject(v.code, v.message);
  // The same signed request and payment journaled again under a new txId (an insider's replay, or a firmware
  // fault): the payment is the wallet's (wallet, allowance, counter) and its bytes, not the txId; it is booked once.
  const again = e.kind === 1 ? g.samePayment(e.request, e.payment) : null;
  if (again) {
    s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "the payment of " + again.ref + " journaled again", receivedAt: now });
    g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: again.walletId, txId: txHex, kind: "rejournaled", detail: "record " + r.seq + " holds the request and payment of " + again.ref + " under a new transaction ID" });
    if (prev && r.seq > 1) g.learnHash(t, r.seq - 1, prev, "record " + r.seq);
    return "duplicate";
  }
  // chain: seq continuity and prev hashes
  const max = s.maxRecordSeq(t.merchantId, t.id);
  if (r.seq > max + 1) g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: txHex, kind: "gap", detail: "records " + (max + 1) + ".." + (r.seq - 1) + " missing before " + r.seq });
  if (same.length) g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: txHex, kind: "chain", detail: "record " + r.seq + " arrived again with another entry (journal reset or forked)" });
  if (prev && r.seq > 1) g.learnHash(t, r.seq - 1, prev, "record " + r.seq);
  s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "entered", code: "", message: "", receivedAt: now });
  g.enter(t, e, txHex);
  return "entered";
}

export function allowanceValid(g: Gateway, a: Allowance, bytes: Uint8Array): boolean {
  const id = toHex(bytes);
  if (g.allowanceOk.has(id)) return true;
  if (a.issuerKeyId !== g.issuer.keyId) return false;
  const ok = g.verifier.message(g.issuer.publicKey, bytes);
  if (ok) {
    if (g.allowanceOk.size > 50000) g.allowanceOk.clear();
    g.allowanceOk.add(id);
  }
  return ok;
}

/**
 * The checks an entry must pass before reconcile.ts enters it. `linkVouches`: the entry came in an upload the
 * terminal's own link sealed (its identity key's ECDH secret), so the terminal's signature on the request or refund
 * inside it tells nothing more than the seal did and is not checked again (docs/gateway.md, what is verified); the
 * payer's evidence, which no link vouches for, checks it.
 */
export function verifyEntry(g: Gateway, t: TerminalRow, e: Entry, linkVouches = false): Verdict {
  const no = (code: string, message: string): Verdict => ({ ok: false, code, message });
  if (e.kind === 1) {
    const q = requestOf(e.request);
    const p = paymentOf(e.payment);
    if (!q || !p) return no("E_ENTRY", "request or payment malformed");
    if (q.terminalId !== t.id) return no("E_TERMINAL", "the request names terminal " + q.terminalId);
    if (!linkVouches && !g.verifier.message(t.pub, e.request)) return no("E_SIG", "terminal signature on the request not valid");
    if (p.allowance.issuerKeyId !== g.issuer.keyId) return no("E_ISSUER", "allowance from an unknown issuer key " + p.allowance.issuerKeyId);
    const { whole, allowance: a } = allowanceOf(e.payment);
    if (!a || !g.allowanceValid(a, whole)) return no("E_SIG", "issuer signature on the allowance not valid");
    if (!g.verifier.body(a.walletPub, walletSigned(e.payment, e.request), p.walletSig)) return no("E_SIG", "wallet signature not valid");
    if (a.currency !== q.currency) return no("E_CURRENCY", "allowance and request currencies differ");
    return { ok: true };
  }
  if (e.kind === 2) {
    const c = decodePaid(e.paid);
    if (!c) return no("E_ENTRY", "paid confirmation malformed");
    if (c.issuerKeyId !== g.issuer.keyId || !g.verifier.message(g.issuer.publicKey, e.paid)) return no("E_SIG", "issuer signature on the paid confirmation not valid");
    if (c.terminalId !== t.id) return no("E_TERMINAL", "the confirmation names terminal " + c.terminalId);
    const inv = g.store.getInvoice(t.merchantId, t.id, c.invoiceNo);
    if (!inv || inv.status !== "paid" || inv.paymentRef !== toHex(c.paymentRef)) return no("E_INVOICE", "no payment " + toHex(c.paymentRef) + " of invoice " + c.invoiceNo);
    const l = g.store.ledgerByRef(t.merchantId, "pay:" + inv.paymentRef);
    if (l && l.txId) return no("E_DUPLICATE", "invoice " + c.invoiceNo + " is recorded already as " + l.txId);
    return { ok: true };
  }
  const x = decodeRefund(e.refund);
  if (!x) return no("E_ENTRY", "refund malformed");
  if (!linkVouches && !g.verifier.message(t.pub, e.refund)) return no("E_SIG", "terminal signature on the refund not valid");
  const orig = g.store.ledgerByTx(t.merchantId, toHex(x.txId));
  if (!orig || orig.kind === "refund") return no("E_REFUND_UNKNOWN", "refund of " + toHex(x.txId) + ", which this merchant's books do not hold");
  const left = orig.amountMinor - g.store.refundedOf(t.merchantId, orig.ref);
  if (x.amountMinor > left) return no("E_REFUND_OVER", "refund of " + x.amountMinor + " passes what remains of the original (" + left + " of " + orig.amountMinor + ")");
  if (x.currency !== orig.currency) return no("E_CURRENCY", "the refund's currency is not the original's");
  return { ok: true };
}
