/**
 * Fakes for the sync tests: a secure element on Node's crypto (ECDH, counters, RNG; anything else fails loudly),
 * Wi-Fi and HTTP on a virtual clock, a real journal on RAM pages, and a tiny gateway built on the link codec.
 */
import { createECDH, randomBytes } from "node:crypto";
import { toHex } from "../../protocol/codec/hex.ts";
import { Journal } from "../../firmware/journal/journal.ts";
import { ramPages } from "../../firmware/journal/ram-pages.ts";
import { decodeEntry, encodeEntry } from "../../protocol/entry.ts";
import { txId } from "../../protocol/ids.ts";
import { encodePayment, encodeRefund, encodeRequest } from "../../protocol/messages.ts";
import type { LinkKeys, LinkReply, LinkRequest } from "../../protocol/sync.ts";
import { fromBase64, isLinkError, linkKeys, openRequest, sealReply, toBase64 } from "../../protocol/sync.ts";
import type { SyncOptions, SyncProgress } from "../../firmware/sync/sync.ts";
import type { Http, HttpRequest, HttpResponse, Wifi, WifiState } from "../../hal/net.ts";
import type { Done, SecureElement } from "../../hal/secure-element.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

export const crypto = nodeCrypto();
export const TID = 42;
export const GATEWAY_URL = "http://gw.test";
export const GATEWAY_TIME = Date.UTC(2026, 10, 23, 12, 0, 0);

function keyPair(): { priv: Buffer; pub: Uint8Array; ecdh: ReturnType<typeof createECDH> } {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { priv: ecdh.getPrivateKey(), pub: new Uint8Array(ecdh.getPublicKey().subarray(1)), ecdh };
}

function ecdhX(e: ReturnType<typeof createECDH>, peer: Uint8Array): Uint8Array {
  return new Uint8Array(e.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(peer)])));
}

/** The terminal's secure element: identity key in slot 0, counters, RNG. Anything else throws. */
export class FakeSe implements SecureElement {
  readonly identity = keyPair();
  readonly counters = [0, 0];
  calls: string[] = [];
  failCounter = false;
  constructor(private clock: VirtualClock) {}
  private later<T>(done: Done<T>, err: string | null, v?: T): void {
    this.clock.setTimeout(() => done(err, v), 5);
  }
  info(): void {
    throw new Error("fake SE: info() not expected in sync");
  }
  sign(): void {
    throw new Error("fake SE: sign() not expected in sync");
  }
  verify(): void {
    throw new Error("fake SE: verify() not expected in sync");
  }
  publicKey(slot: number, done: Done<Uint8Array>): void {
    if (slot !== 0) throw new Error("fake SE: publicKey of slot " + slot);
    this.later(done, null, this.identity.pub);
  }
  random(done: Done<Uint8Array>): void {
    this.calls.push("random");
    this.later(done, null, new Uint8Array(randomBytes(32)));
  }
  counter(id: number, increment: boolean, done: Done<number>): void {
    this.calls.push("counter" + id);
    if (id !== 0) throw new Error("fake SE: sync used counter " + id + " (link requests use counter 0; 1 counts hours)");
    if (this.failCounter) return this.later(done, "EXECUTION_ERROR");
    if (increment) this.counters[id]++;
    this.later(done, null, this.counters[id]);
  }
  ecdh(slot: number, peer: Uint8Array, done: Done<Uint8Array>): void {
    this.calls.push("ecdh");
    if (slot !== 0) throw new Error("fake SE: ecdh on slot " + slot + " (the link uses the identity key)");
    this.later(done, null, ecdhX(this.identity.ecdh, peer));
  }
}

/** Wi-Fi that joins the networks in `up` after `joinMs`, and fails the others after `joinMs`. */
export class FakeWifi implements Wifi {
  st: WifiState = "off";
  listener: ((s: WifiState) => void) | null = null;
  attempts: { ssid: string; password: string; at: number }[] = [];
  up: string[] = [];
  passwords: Record<string, string> = {};
  joinMs = 100;
  constructor(private clock: VirtualClock) {}
  private set(s: WifiState): void {
    if (s === this.st) return;
    this.st = s;
    if (this.listener) this.listener(s);
  }
  connect(ssid: string, password: string, done: (err: string | null) => void): void {
    this.attempts.push({ ssid, password, at: this.clock.uptime() });
    this.set("connecting");
    this.clock.setTimeout(() => {
      const ok = this.up.includes(ssid) && (this.passwords[ssid] === undefined || this.passwords[ssid] === password);
      this.set(ok ? "connected" : "off");
      done(ok ? null : "timeout");
    }, this.joinMs);
  }
  disconnect(): void {
    this.set("off");
  }
  state(): WifiState {
    return this.st;
  }
  onChange(fn: (s: WifiState) => void): void {
    this.listener = fn;
  }
  /** The access point goes away. */
  drop(): void {
    this.up = [];
    this.set("off");
  }
}

export interface Exchange {
  req: HttpRequest;
  res?: HttpResponse;
  err?: string;
}

/**
 * HTTP to a handler, answering after `latencyMs`. `intercept` sits in the middle of the wire (a proxy, an
 * attacker): it sees the request and the gateway's response and returns what the terminal gets.
 */
export class FakeHttp implements Http {
  log: Exchange[] = [];
  latencyMs = 20;
  intercept: ((x: Exchange, forward: () => HttpResponse) => Exchange) | null = null;
  constructor(
    private clock: VirtualClock,
    private wifi: FakeWifi,
    public handler: (path: string, body: string) => HttpResponse,
  ) {}
  request(req: HttpRequest, done: (err: string | null, res?: HttpResponse) => void): void {
    if (this.wifi.state() !== "connected") {
      this.clock.setTimeout(() => done("no connection"), 1);
      return;
    }
    if (req.method !== "POST" || !req.url.startsWith(GATEWAY_URL + "/")) throw new Error("fake http: unexpected " + req.method + " " + req.url);
    const path = req.url.slice(GATEWAY_URL.length);
    const forward = () => this.handler(path, req.body ?? "");
    let x: Exchange = { req };
    if (this.intercept) x = this.intercept(x, forward);
    else x.res = forward();
    this.log.push(x);
    this.clock.setTimeout(() => (x.err !== undefined ? done(x.err) : done(null, x.res)), this.latencyMs);
  }
}

/** A tiny gateway on the link codec: replay check, idempotent by txId, deny list, limits, update offers. */
export class FakeGateway {
  readonly link = keyPair();
  keys: LinkKeys;
  lastSeq = 0;
  /** txId hex -> entry bytes, in order of arrival. */
  ledger = new Map<string, Uint8Array>();
  requests: LinkRequest[] = [];
  time = () => GATEWAY_TIME;
  denyVersion = 2;
  deny = "0000000000000001" + "00000000000000ff";
  limits = { perTxMinor: 5000, unsyncedMinor: 50000, maxDaysOffline: 3, perWalletMinor: 10000 };
  /** `board` (default "devkit") and `key` (firmware key ID, default 1) as the offer carries them; given as undefined, left out. */
  update: { version: string; bundle: Uint8Array; sig: Uint8Array; board?: unknown; key?: unknown } | null = null;
  /** Notices of invoices paid online, as the hello reply's `paid` (base64 strings; anything, to test the checks). */
  paid: unknown = undefined;
  /** New issuer keys, as the hello reply's `keys` (anything, to test the checks). */
  issuerKeys: unknown = undefined;
  /** Issuer key revocations, as the hello reply's `revoke`. */
  revoke: unknown = undefined;
  /** Replace the upload reply (records as received, and what the gateway would answer). */
  uploadReply: ((records: { seq: number; entry: string }[], normal: LinkReply) => LinkReply) | null = null;

  constructor(terminalPub: Uint8Array) {
    this.keys = linkKeys(crypto, ecdhX(this.link.ecdh, terminalPub));
  }

  handle(path: string, body: string): HttpResponse {
    const parts = path.split("/"); // "", "v1", "t", tid, op
    if (parts.length !== 5 || parts[1] !== "v1" || parts[2] !== "t" || parts[3] !== String(TID)) {
      return { status: 404, body: JSON.stringify({ error: "NOT_FOUND", message: "unknown terminal" }) };
    }
    const op = parts[4];
    const r = openRequest(crypto, this.keys, body, { lastSeq: this.lastSeq, op, tid: TID });
    if (isLinkError(r)) return { status: r.status, body: JSON.stringify({ error: r.code, message: r.message }) };
    this.lastSeq = r.seq;
    this.requests.push(r.msg);
    const reply: LinkReply = { nonce: r.msg.nonce };
    if (op === "hello") {
      reply.time = this.time();
      reply.denyVersion = this.denyVersion;
      if (r.msg.denyVersion !== this.denyVersion) reply.deny = this.deny;
      reply.limits = this.limits;
      if (this.update) {
        reply.update = {
          version: this.update.version,
          board: "board" in this.update ? this.update.board : "devkit",
          key: "key" in this.update ? this.update.key : 1,
          size: this.update.bundle.length,
          sha256: toHex(crypto.sha256(this.update.bundle)),
          sig: toHex(this.update.sig),
        };
      }
      if (this.paid !== undefined) reply.paid = this.paid;
      if (this.issuerKeys !== undefined) reply.keys = this.issuerKeys;
      if (this.revoke !== undefined) reply.revoke = this.revoke;
    } else if (op === "upload") {
      const records = r.msg.records as { seq: number; entry: string }[];
      const acked: number[] = [];
      const rejected: { seq: number; code: string; message: string }[] = [];
      for (const rec of records) {
        const bytes = fromBase64(rec.entry);
        const e = bytes ? decodeEntry(bytes) : null;
        if (!e || !bytes) {
          rejected.push({ seq: rec.seq, code: "E_ENTRY", message: "malformed entry" });
          continue;
        }
        const key = toHex(e.txId);
        if (!this.ledger.has(key)) this.ledger.set(key, bytes);
        acked.push(rec.seq);
      }
      reply.acked = acked;
      reply.rejected = rejected;
      if (this.uploadReply) return { status: 200, body: sealReply(crypto, this.keys, r.seq, this.uploadReply(records, reply)) };
    } else if (op === "update-chunk") {
      const u = this.update;
      if (!u || r.msg.version !== u.version) return { status: 404, body: JSON.stringify({ error: "NO_UPDATE", message: "no such update" }) };
      const off = r.msg.offset as number;
      reply.data = toBase64(u.bundle.subarray(off, off + (r.msg.length as number)));
    } else return { status: 404, body: JSON.stringify({ error: "UNKNOWN_OP", message: "unknown op " + op }) };
    return { status: 200, body: sealReply(crypto, this.keys, r.seq, reply) };
  }

  /** Ops in the order they arrived. */
  ops(): string[] {
    return this.requests.map((q) => q.op);
  }
}

/** An entry the gateway can decode: a refund (94 bytes, fits any journal), its own txId from `n`. */
export function entry(n: number): Uint8Array {
  const refund = encodeRefund({ txId: txId(TID, 1000 + n), amountMinor: 100 + n, currency: 978, time: 1_700_000_000 + n, reason: 2, terminalSig: new Uint8Array(64).fill(n & 255) });
  return encodeEntry({ kind: 3, txId: txId(TID, n), refund });
}

/** The largest entry: a wallet payment (316 bytes), its own txId from `n`. */
export function walletEntry(n: number): Uint8Array {
  const b = (len: number, v: number) => new Uint8Array(len).fill(v & 255);
  const request = encodeRequest({ terminalId: TID, amountMinor: 1000 + n, currency: 978, nonce: b(8, n), time: 1_700_000_000 + n, terminalSig: b(64, n) });
  const payment = encodePayment({
    allowance: { walletPub: b(64, 7), capMinor: 100000, currency: 978, expiryDay: 20500, startCounter: 1, issuerKeyId: 1, issuerSig: b(64, 3) },
    counter: n,
    walletSig: b(64, n + 1),
  });
  return encodeEntry({ kind: 1, txId: txId(TID, n), method: 1, request, payment, orderRef: "ORD" + n });
}

export interface Rig {
  clock: VirtualClock;
  se: FakeSe;
  /** What the sync loop is given as its secure element (`se` unless another was passed to rig()). */
  secure: SecureElement;
  wifi: FakeWifi;
  http: FakeHttp;
  gateway: FakeGateway;
  journal: Journal;
  progress: SyncProgress[];
  vault: { get(name: string, done: (err: string | null, value?: Uint8Array) => void): void };
  options(extra?: Partial<SyncOptions>): SyncOptions;
  /** Append n entries numbered from `from`. */
  append(n: number, from?: number): number[];
  advance(ms: number): void;
}

/** By default the terminal's SE is a FakeSe; pass another (e.g. the ATECC608 driver) with its identity key. */
export function rig(o: { clock?: VirtualClock; secure?: SecureElement; identityPub?: Uint8Array } = {}): Rig {
  const clock = o.clock ?? new VirtualClock();
  clock.set(Date.UTC(2020, 0, 1)); // a wrong wall clock until the gateway's signed time arrives
  const se = new FakeSe(clock);
  const secure = o.secure ?? se;
  const wifi = new FakeWifi(clock);
  wifi.up = ["shop"];
  wifi.passwords = { shop: "s3cret", back: "b4ck" };
  const gateway = new FakeGateway(o.identityPub ?? se.identity.pub);
  const http = new FakeHttp(clock, wifi, (p, b) => gateway.handle(p, b));
  const k = (n: number, base: number) => Uint8Array.from({ length: n }, (_, i) => (base + i * 7) & 255);
  const journal = new Journal({ pages: ramPages(4096, 8), crypto, keys: { enc: k(16, 1), mac: k(32, 50), iv: k(16, 99) } });
  journal.recover();
  const progress: SyncProgress[] = [];
  const secrets: Record<string, string> = { "wifi.0": "s3cret", "wifi.1": "b4ck" }; // as provisioned: shop, back
  const vault = {
    get(name: string, done: (err: string | null, value?: Uint8Array) => void) {
      const v = secrets[name];
      clock.setTimeout(() => (v === undefined ? done("not found") : done(null, new Uint8Array(Buffer.from(v, "latin1")))), 1);
    },
  };
  let next = 1;
  return {
    clock,
    se,
    secure,
    wifi,
    http,
    gateway,
    journal,
    progress,
    vault,
    options(extra?: Partial<SyncOptions>): SyncOptions {
      return {
        device: { clock, wifi, http, secure, crypto },
        journal,
        terminalId: TID,
        gatewayUrl: GATEWAY_URL,
        gatewayKey: gateway.link.pub,
        networks: ["shop"],
        secrets: vault,
        firmwareVersion: "1.0.0",
        batch: 3,
        intervalMs: 60000,
        onProgress: (p) => progress.push(p),
        ...extra,
      };
    },
    append(n: number, from?: number): number[] {
      if (from !== undefined) next = from;
      const seqs: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = journal.append(entry(next++));
        if (!("seq" in r)) throw new Error("journal refused: " + r.code);
        seqs.push(r.seq);
      }
      return seqs;
    },
    advance(ms: number): void {
      clock.sched.advance(ms);
    },
  };
}
