/**
 * The simulator's world: one terminal (SimHost running the very bundle that is flashed), the issuer, customer
 * wallets built on the wallet SDK, and (when present) the reference gateway as the terminal's HTTP peer. The page
 * server (sim/main.ts) and the headless CLI (sim/cli.ts) both drive a World, so what the page can do, a script can.
 *
 * Time is simulated: `wait(ms)` advances the terminal's event loop; `fastForward(ms)` moves the wall clock too (the
 * gateway's 3-day rule, the status bar's "time since sync").
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash, webcrypto } from "node:crypto";
import { join } from "node:path";
import qrcode from "qrcode-generator";
import { orderLink as storeOrderLink, orderQr as storeOrderQr } from "../sdk/store.ts";
import { fromQrText, invoiceFromText } from "../protocol/qr.ts";
import { payOverBle, WalletBleSession } from "../sdk/ble.ts";
import { Wallet } from "../sdk/wallet.ts";
import type { P256Jwk } from "../sdk/wallet.ts";
import { Flash } from "./espruino/flash.ts";
import { rawFlashBytes } from "./espruino/flash-module.ts";
import { Gateway, Issuer, money, publicKeyOf, SqliteStore } from "../gateway/index.ts";
import type { GatewayStore, LedgerRow } from "../gateway/index.ts";
import { readBoard, SimHost } from "./host.ts";
import { EspruinoHost } from "./engine/espruino-host.ts";
import { espruinoBin, isEspruino } from "./engine/engine.ts";
import type { EngineName, TerminalHost } from "./engine/engine.ts";
import type { BoardData } from "./host.ts";
import type { HttpHandler } from "./espruino/net.ts";
import { Atecc608Emulator } from "./peripherals/atecc608.ts";
import { BusLog } from "./bus-log.ts";
import { SimPhone } from "./peripherals/ble-phone.ts";
import { encodePng } from "./render/png.ts";
import { paperPng } from "./render/paper.ts";
import { decodeQrPngBytes } from "./render/qr-decode.ts";
import { consoleHostOptions, startTcpConsole } from "./tcp-console.ts";
import { fromHex } from "../protocol/codec/hex.ts";
import { walletIdOf } from "../protocol/rules.ts";

/**
 * What the world needs of a gateway (helper C's gateway/gateway.ts `Gateway` has this shape): the HTTP API the
 * terminal talks to, and the books the page's gateway panel shows. Anything else is optional and used when there.
 */
export interface GatewayLike {
  handle(req: { method: string; path: string; headers: Record<string, string>; body: string; remote?: { address: string; port: number } }): Promise<{ status: number; headers?: Record<string, string>; body: string }>;
  ledger(merchantId?: unknown): unknown;
  /** The money: balances per merchant and wallet, the issuer's accounts and the trial balance. */
  books?(): unknown;
  holds(): unknown;
  smsOutbox(): unknown;
  flags(): unknown;
  /** Each transaction as the gateway panel shows it: amount, status, hold-until, method. */
  transactions?(): TransactionView[];
  /** Settlement runs and each merchant's payout in them (pain.001 credit transfers). */
  payouts?(): unknown;
  activity?(): unknown;
  /** Runs the 3-day auto-approve against the gateway's clock. */
  tick?(): unknown;
  /** The gateway's link public key X||Y (what provisioning gives the terminal), bytes or hex. */
  linkPublicKey?: Uint8Array | string;
  /** A customer's fraud claim against one of their payments (the phone's "Claim fraud"). */
  claimFraud?(c: FraudClaim): unknown;
  /** A registered wallet's online balance (minor units), by its public key X||Y in hex; null when unknown. */
  walletBalance?(walletPubHex: string): number | null;
  /**
   * The customer pays a terminal's request online (card or wallet through the gateway); the answer is the signed
   * paid confirmation, as the QR text the phone shows the terminal's scanner (InvoicePaid, method 3).
   */
  payOnline?(p: { requestQr: string; walletName: string }): Promise<{ confirmationQr: string }> | { confirmationQr: string };
  /** Registration (the reference gateway's admin calls): provisioning certifies the terminal through them. */
  registerMerchant?(spec: { name: string; merchantId?: number; currency?: number; phone?: string }): unknown;
  registerTerminal?(spec: { merchantId: number; publicKey: Uint8Array; terminalId?: number }): { cert: Uint8Array; issuerKeyId: number; issuerPublicKey: Uint8Array };
  /** The operator revokes a terminal: the gateway refuses its link from then on. */
  revokeTerminal?(merchantId: number, terminalId: number): void;
  registerWallet?(spec: { publicKey: Uint8Array; capMinor: number; currency?: number; phone?: string; balanceMinor?: number }): { walletId: string; allowance: Uint8Array };
}

/** What the phone sends the gateway when its owner claims a payment was not theirs. */
export interface FraudClaim {
  /** The wallet's public key X||Y, hex (its ID at the gateway). */
  walletPub: string;
  terminalId: number;
  counter: number;
  amountMinor: number;
  /** SHA-256(payment)[0..8], hex, as the wallet recorded it. */
  paymentHash: string;
  txId?: string;
  reason: string;
}

/** One transaction at the gateway, in words and money (the page's gateway panel). */
export interface TransactionView {
  terminalId: number;
  /** The terminal's transaction ID (hex), or the online payment's reference. */
  ref: string;
  kind: string;
  /** "QR", "Bluetooth", "paid by QR", "paid by Bluetooth", "paid online", "card", "debit card", "wallet online". */
  method: string;
  amount: string;
  amountMinor: number;
  currency: number;
  status: string;
  /** When the 3-day rule approves a held payment (ISO time), "" when not held. */
  holdUntil: string;
  time: string;
}

/** Entry methods (protocol/entry.ts) and the gateway's online methods (gateway/store.ts LedgerRow.method). */
const METHOD_NAMES: Record<number, string> = { 1: "QR", 2: "Bluetooth", 3: "paid by QR", 4: "paid by Bluetooth", 5: "paid online", 11: "card", 12: "debit card", 13: "wallet online" };

/** A ledger row in words and money. */
export function transactionView(r: LedgerRow): TransactionView {
  const iso = (ms: number) => (ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "");
  return {
    terminalId: r.terminalId,
    ref: r.txId || r.ref,
    kind: r.kind,
    method: METHOD_NAMES[r.method] ?? String(r.method),
    amount: money(r.kind === "refund" ? -r.amountMinor : r.amountMinor, r.currency),
    amountMinor: r.amountMinor,
    currency: r.currency,
    status: r.status,
    holdUntil: r.status === "held" ? iso(r.holdUntil) : "",
    time: iso(r.txTime),
  };
}

/** The gateway's books as the page's gateway panel and the JSON summary show them. */
export interface GatewayBooks {
  /** Balances: each merchant's pending, available and paid out; each wallet's available, purse and debt; the issuer's. */
  money: unknown;
  /** Each transaction: amount, status, hold-until, method (null when the gateway does not say). */
  transactions: TransactionView[] | null;
  /** Settlement runs and the payouts in them. */
  payouts: unknown;
  ledger: unknown;
  holds: unknown;
  sms: unknown;
  flags: unknown;
}

/** How the world provisions its terminal (through the technician console, as `npm run provision` does). */
export interface ProvisionSpec {
  terminalId: number;
  merchantId: number;
  merchantName: string;
  currency: string;
  gatewayUrl: string;
  /** The gateway's link public key X||Y (64 bytes), hex. */
  linkKey: string;
  wifi: { ssid: string; password: string }[];
  limits?: Record<string, number>;
  techPin: string;
  /** The merchant's PIN (refunds, voids). */
  merchantPin?: string;
  /** The merchant's order hand-off key, hex (the store system's HMAC key for order QR codes). */
  orderKey?: string;
}

export const DEFAULT_PROVISION: ProvisionSpec = {
  terminalId: 7,
  merchantId: 42,
  merchantName: "Cafe Blue",
  currency: "EUR",
  gatewayUrl: "http://gateway.sim:8080",
  linkKey: "",
  wifi: [{ ssid: "shop-net", password: "shop-net-password" }],
  techPin: "2580",
  merchantPin: "1357",
  // test-only: the simulated store's order key for merchant 42
  orderKey: "6f726465722d6b65792d6d65726368616e742d3432",
};

export interface WorldOptions {
  board?: string;
  /** Run this bundle instead of dist/<board>.js (tests: a firmware with the wiring they need). */
  bundle?: string;
  /** Start from this secure element (tests); otherwise the state dir's, or one as shipped (config zone locked). */
  secure?: Atecc608Emulator;
  /** Where flash, secure element, issuer and wallets persist between runs; null keeps everything in memory. */
  stateDir?: string | null;
  /** Wall-clock time at power-on (ms since the epoch); now by default. */
  wallClockMs?: number;
  onPrint?: (line: string) => void;
  /**
   * Which engine runs the bundle: "v8" (Node's V8, simulated time; the default) or "espruino" (the real interpreter
   * named by ESPRUINO, booted from its Storage, real time; sim/engine/). Call close() when done with the latter.
   */
  engine?: EngineName;
  /** The interpreter for the espruino engine (default: ESPRUINO). */
  espruino?: string;
  /** The interpreter is killed after this many seconds whatever happens (espruino engine; default 900). */
  maxLifetimeS?: number;
}

export interface WalletInfo {
  name: string;
  capMinor: number;
  spentMinor: number;
  remainingMinor: number;
  currency: number;
  payments: number;
  /** The wallet's online balance at the gateway (what "pay online" spends); null without a gateway that knows it. */
  balanceMinor: number | null;
  /** Payments the terminal accepted: the wallet holds the terminal's signed receipt for them. */
  accepted: number;
  /** Payments signed but with no receipt yet (shown by QR and not yet read off the receipt, or refused). */
  awaitingReceipt: number;
  /** The same figures in money ("12.50 EUR"). */
  money: { cap: string; spent: string; left: string; balance: string | null };
  /** Each payment, newest last: amount in money, terminal, how it was paid, and the receipt's UTR once accepted. */
  list: { counter: number; terminalId: number; amount: string; method: string; accepted: boolean; utr: string }[];
}

interface SavedWallet {
  jwk: P256Jwk;
  allowance: string;
  state: unknown;
}

const DAY_MS = 86400000;

/**
 * The simulator's phone numbers, so the gateway's SMS rules run there: UK mobile numbers Ofcom reserves for drama
 * (07700 900000 to 900999, "Telephone numbers for TV, radio and other drama"), never anyone's. 0 is the merchant's.
 */
export function simPhone(n: number): string {
  return "+447700900" + String(n % 1000).padStart(3, "0");
}

/** A QR code as a PNG (black on white, quiet zone 4, `scale` pixels a module), as a phone screen shows it. */
export function qrPng(text: string, scale = 6): Buffer {
  const q = qrcode(0, "M");
  q.addData(text, /^[0-9A-Z $%*+\-./:]*$/.test(text) ? "Alphanumeric" : "Byte");
  q.make();
  const n = q.getModuleCount();
  const size = (n + 8) * scale;
  const rgba = new Uint8Array(size * size * 4).fill(255);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      if (!q.isDark(y, x)) continue;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const o = (((y + 4) * scale + dy) * size + (x + 4) * scale + dx) * 4;
          rgba[o] = rgba[o + 1] = rgba[o + 2] = 0;
        }
    }
  return encodePng(size, size, rgba);
}

/** The text of the first QR code found in a PNG, or null. Small images are scaled up first (a 240 px panel). */
export function decodeQrPng(png: Buffer): string | null {
  const r = decodeQrPngBytes(png);
  return r ? r.text : null;
}

/**
 * The reference gateway (`gateway/`) for a world: in memory (or `gateway.db` in the world's state dir), its clock the
 * world's wall clock, its issuer the world's (so wallets' allowances and the terminal's certificate are its own), SMS
 * to its outbox. `o.store`: another store for it (a test's, on PostgreSQL); it is the gateway's from then on.
 */
export async function loadReferenceGateway(w: World, o: { store?: GatewayStore } = {}): Promise<GatewayLike | null> {
  const store = o.store ?? new SqliteStore(w.stateDirectory ? join(w.stateDirectory, "gateway.db") : ":memory:");
  // test-only bank accounts (well-known example IBANs): the daily payout run writes its pain.001 file for them
  const g = new Gateway({ store, clock: { now: () => w.now() }, issuer: w.issuer, dailyPayouts: true, payoutAccount: { name: "Simulated Issuer", iban: "DE89370400440532013000", bic: "COBADEFFXXX" } });
  g.addFirmwareKey(w.firmwareKey.keyId, w.firmwareKey.publicKey);
  const sha256 = { sha256: (d: Uint8Array) => new Uint8Array(createHash("sha256").update(d).digest()) };
  const walletIdOfHex = (pubHex: string) => walletIdOf(sha256, fromHex(pubHex) as Uint8Array);
  return {
    handle: (req) => g.handle(req),
    ledger: () => g.ledger(),
    holds: () => g.holds(),
    // the page's panel shows the first columns: who, which rule, queued/sent/failed, the delivery report, the text
    smsOutbox: () => g.smsOutbox().map((m) => ({ id: m.id, to: m.to, kind: m.kind, status: m.status, dlr: m.dlr, text: m.text, attempts: m.attempts })),
    flags: () => g.flags(),
    transactions: () => g.ledger().map(transactionView),
    // each run with its payouts (the pain.001 file itself stays in the store)
    payouts: () => store.payoutRuns().map((r) => ({ period: r.period, count: r.count, total: r.controlSum, payouts: store.payouts(undefined, r.id).map((p) => ({ merchantId: p.merchantId, name: p.name, amount: money(p.amountMinor, p.currency), iban: p.iban, endToEndId: p.endToEndId })) })),
    activity: () => g.activity(),
    tick: () => g.tick(),
    linkPublicKey: g.linkPublicKey,
    books: () => g.books(),
    registerMerchant: (spec) => g.registerMerchant({ iban: "FR1420041010050500013M02606", ...spec }),
    registerTerminal: (spec) => g.registerTerminal(spec),
    revokeTerminal: (merchantId, terminalId) => {
      g.revokeTerminal(merchantId, terminalId);
    },
    registerWallet: (spec) => g.registerWallet(spec),
    walletBalance: (pubHex) => {
      const id = walletIdOfHex(pubHex);
      return g.wallet(id) ? g.walletBalances(id).available : null;
    },
    claimFraud: (c) => {
      if (!c.txId) throw new Error("the wallet has no receipt (txId) for this payment: the terminal's receipt names it");
      return g.claimFraud(walletIdOfHex(c.walletPub), c.txId, "dispute", c.reason);
    },
    payOnline: async (p) => {
      // the terminal's invoice QR: its pay URL `<gateway>/pay#<invoice>`, or the bare "I1..." text
      const m = invoiceFromText(p.requestQr);
      if ("err" in m) throw new Error("the terminal's QR is not an invoice: " + m.err + " (" + p.requestQr.slice(0, 40) + ")");
      const wallet = w.wallets[p.walletName];
      const walletId = walletIdOfHex(Buffer.from(await wallet.publicKeyRaw()).toString("hex"));
      const r = await g.payInvoice({ invoice: m.msg, method: "wallet", walletId });
      if ("challenge" in r) throw new Error("a wallet payment asks no 3-D Secure challenge");
      return { confirmationQr: r.qr };
    },
  };
}

/**
 * An ATECC608 as Microchip ships a blank part: configuration and data zones unlocked, no keys. Provisioning
 * configures and locks it for the terminal and makes its keys (firmware/se-ready.ts).
 */
export function shippedSecureElement(now: () => number, address: number): Atecc608Emulator {
  return new Atecc608Emulator({ now, address, revision: "608B" });
}

/** A PNG from whatever a receipt comes as: a PNG already, or a 1-bit bitmap { width, height, bits }. */
function toPng(r: unknown): Buffer | null {
  if (Buffer.isBuffer(r)) return r;
  if (r && typeof r === "object") {
    const o = r as { png?: unknown; width?: number; height?: number; bits?: Uint8Array };
    if (Buffer.isBuffer(o.png)) return o.png;
    if (o.png instanceof Uint8Array) return Buffer.from(o.png);
    if (typeof o.width === "number" && typeof o.height === "number" && o.bits) {
      const w = o.width;
      const h = Math.max(1, o.height);
      const rgba = new Uint8Array(w * h * 4).fill(255);
      const stride = Math.ceil(w / 8);
      for (let y = 0; y < o.height; y++)
        for (let x = 0; x < w; x++)
          if (o.bits[y * stride + (x >> 3)] & (0x80 >> (x & 7))) {
            const i = (y * w + x) * 4;
            rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
          }
      return encodePng(w, h, rgba);
    }
  }
  return null;
}

export class World {
  /** The terminal, on the engine the world was opened with (during provisioning on the espruino engine: V8's). */
  get host(): TerminalHost {
    return this.current;
  }
  /** Which engine runs the bundle. */
  readonly engine: EngineName;
  private current: TerminalHost;
  /** Added to the running engine's clock for the secure element, so its time runs on when the engine changes. */
  private clockBase = 0;
  private readonly bundle: string;
  readonly board: BoardData;
  readonly issuer: Issuer;
  /**
   * The firmware key updates are signed with (tools/sign-update.ts), separate from the issuer key: provisioning
   * gives the terminal its public key and the world's reference gateway registers it.
   */
  readonly firmwareKey: { keyId: number; privateKey: Uint8Array; publicKey: Uint8Array };
  readonly wallets: Record<string, Wallet> = {};
  /** What crossed each wire (UARTs, I2C, SPI, Bluetooth, HTTP), as the page's bus log shows it. */
  readonly bus = new BusLog();
  /** Where the terminal's HTTP goes when the gateway is reachable. */
  gatewayHandler: HttpHandler | null = null;
  private gatewayUp = true;
  private readonly stateDir: string | null;
  private readonly saved: Record<string, SavedWallet> = {};
  private readonly clockListeners: ((nowMs: number) => void)[] = [];
  private readonly bindConsole: ReturnType<typeof consoleHostOptions>["bind"];
  private gw: GatewayLike | null = null;
  /** How each wallet payment made here was handed over ("QR", "Bluetooth"), by "name:counter". */
  private readonly paidBy: Record<string, string> = {};
  /** The terminal's HTTP requests waiting for their reply (the page's fast mode runs in real time meanwhile). */
  httpInFlight = 0;
  /** What the world remembers besides the device: how it provisioned the terminal. */
  private meta: { provisioned?: ProvisionSpec } = {};

  private constructor(o: WorldOptions) {
    const boardName = o.board ?? "devkit";
    const read = readBoard(boardName);
    const board = read.board;
    const bundle = o.bundle ?? read.bundle;
    this.board = board;
    this.bundle = bundle;
    this.stateDir = o.stateDir === undefined ? join(process.cwd(), ".sim-state", boardName) : o.stateDir;
    if (this.stateDir) mkdirSync(this.stateDir, { recursive: true });
    const file = (n: string) => (this.stateDir ? join(this.stateDir, n) : "");
    const flash = this.stateDir && existsSync(file("flash.bin")) ? Flash.load(file("flash.bin"), { pageSize: board.platform.storage.pageSize }) : undefined;
    const jr = board.platform.journal;
    // A journal image saved by a build with another region size is not this device's: it starts blank. One saved
    // before the kept orders' pages followed the journal's is the journal alone: their pages start erased.
    const raw = rawFlashBytes(board.platform);
    const saved = this.stateDir && existsSync(file("journal.bin")) ? statSync(file("journal.bin")).size : -1;
    let journalFlash: Flash | undefined;
    if (saved === raw || saved === jr.pageSize * jr.pageCount) {
      journalFlash = new Flash({ size: raw, pageSize: jr.pageSize });
      journalFlash.bytes.set(readFileSync(file("journal.bin")));
    }
    const secure = o.secure ?? shippedSecureElement(() => this.partClock(), board.wiring.secure.address);
    if (!o.secure && this.stateDir && existsSync(file("secure-element.json"))) secure.importState(JSON.parse(readFileSync(file("secure-element.json"), "utf8")));
    if (this.stateDir && existsSync(file("world.json"))) this.meta = JSON.parse(readFileSync(file("world.json"), "utf8"));
    const iss = this.stateDir && existsSync(file("issuer.json")) ? JSON.parse(readFileSync(file("issuer.json"), "utf8")) : null;
    this.issuer = iss ? new Issuer({ keyId: iss.keyId, privateKey: new Uint8Array(Buffer.from(iss.privateKey, "hex")) }) : Issuer.generate(1);
    const fwPriv = iss && iss.firmwareKey ? new Uint8Array(Buffer.from(iss.firmwareKey, "hex")) : Issuer.generate(1).privateKey;
    this.firmwareKey = { keyId: 1, privateKey: fwPriv, publicKey: publicKeyOf(fwPriv) };
    // The device as on the bench: process.env as the real board reports it and the console globals EspruinoTools
    // uses, so the technician tools (provision, diagnose) run against it over the simulated console.
    const con = consoleHostOptions();
    this.bindConsole = con.bind;
    this.engine = o.engine ?? "v8";
    if (this.engine === "espruino") {
      const bin = o.espruino ?? espruinoBin();
      if (!bin) throw new Error("the espruino engine needs the interpreter: set ESPRUINO=/path/to/espruino (see README, The real interpreter)");
      this.current = new EspruinoHost({ board, bundle, bin, flash, journalFlash, secure, wallClockMs: o.wallClockMs ?? Date.now(), onPrint: o.onPrint, maxLifetimeS: o.maxLifetimeS });
    } else this.current = new SimHost({ board, bundle, flash, journalFlash, secure, wallClockMs: o.wallClockMs ?? Date.now(), onPrint: o.onPrint, env: con.env, onContext: con.onContext, bootFromStorage: con.bootFromStorage });
    this.current.httpHandler = (req) => {
      const reply = !this.gatewayUp || !this.gatewayHandler ? Promise.reject(new Error("connection refused")) : this.gatewayHandler(req);
      this.bus.http(req, reply);
      this.httpInFlight++;
      const done = () => {
        this.httpInFlight--;
      };
      reply.then(done, done);
      return reply;
    };
    this.bus.attach(this.current, board.wiring);
    if (this.stateDir && existsSync(file("wallets.json"))) {
      const w = JSON.parse(readFileSync(file("wallets.json"), "utf8")) as Record<string, SavedWallet>;
      for (const name in w) this.restoreWallet(name, w[name]);
    }
  }

  /** The secure element's clock: the current engine's device time, continuing across a change of engine. */
  private partClock(): number {
    return this.clockBase + (this.current ? this.current.sched.now : 0);
  }

  /** Make `h` the running engine, the secure element's clock continuing from where it was. */
  private switchTo(h: TerminalHost, boot: () => void): void {
    const t = this.partClock();
    this.current = h;
    this.bus.attach(h, this.board.wiring);
    // set before boot (V8 runs the bundle at once, at device time 0) and after (the interpreter's clock restarts)
    this.clockBase = t - h.sched.now;
    boot();
    this.clockBase = t - h.sched.now;
  }

  /** A world with its terminal booted. */
  static open(o: WorldOptions = {}): World {
    const w = new World(o);
    w.host.boot();
    w.wait(300);
    return w;
  }

  // ------------------------------------------------------------------ time

  /** Let the terminal's event loop run for `ms` of simulated time. */
  wait(ms: number): void {
    const step = 20;
    for (let t = 0; t < ms; t += step) {
      this.host.advance(Math.min(step, ms - t));
    }
  }

  /**
   * Like wait(), but lets Node's own event loop run between steps, so promises (the gateway's HTTP replies, the
   * wallet SDK's WebCrypto) settle while the terminal runs.
   */
  async run(ms: number, step = 20): Promise<void> {
    const h = this.host;
    if (isEspruino(h)) return h.runFor(ms);
    for (let t = 0; t < ms; t += step) {
      this.wait(Math.min(step, ms - t));
      await new Promise((r) => setImmediate(r));
      // thread-pool work (WebCrypto, SQLite, sockets) gets in before more device time passes on a busy machine
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  /** Runs the terminal (and Node's event loop) until `done()` holds; fails naming what was awaited. */
  async until(what: string, done: () => boolean, ms = 5000): Promise<void> {
    for (let t = 0; t <= ms; t += 50) {
      if (done()) return;
      await this.run(50);
    }
    if (!done()) throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen shows: ${this.screenText().join(" | ")}`);
  }

  /** Move the wall clock forward (days pass for the gateway and the status bar); then the event loop runs 1 s. */
  fastForward(ms: number): void {
    this.host.skewWallClock(ms);
    for (const fn of this.clockListeners) fn(this.now());
    if (this.gw && this.gw.tick) this.gw.tick();
    this.wait(1000);
  }

  /** Wall-clock time as the world sees it (ms since the epoch). */
  now(): number {
    return this.host.wallClock();
  }

  /** Told of every fast-forward (the gateway's clock follows the world's). */
  onClockJump(fn: (nowMs: number) => void): void {
    this.clockListeners.push(fn);
  }

  // ------------------------------------------------------------------ the terminal's parts

  /** Press keys on the keypad, one after another ("1250#"; names A-D, *, #). */
  keys(seq: string): void {
    const valid = this.board.wiring.keypad.keys;
    for (const k of seq) {
      if (valid.indexOf(k) < 0) throw new Error(`no key "${k}" on this keypad (keys: ${valid})`);
      this.host.pressKey(k);
      this.wait(80);
    }
  }

  /**
   * Type keys and let the terminal take them: on the V8 engine as keys(); on the interpreter, resolves once it has
   * seen every key pressed and released, and had a moment to draw what they changed.
   */
  async type(seq: string): Promise<void> {
    this.keys(seq);
    const h = this.host;
    if (!isEspruino(h)) return;
    await h.typed();
    await h.runFor(50);
  }

  /** Hold a code in front of the scanner until it reads it (as a customer does), then take it away. */
  scanText(text: string | Uint8Array): void {
    this.act(() => this.host.scanner.present(text));
    this.wait(600);
    this.act(() => this.host.scanner.removeCode());
    this.wait(200);
  }

  /** Do `fn` at the script's point in time: at once on the V8 engine, when real time gets there on the interpreter. */
  private act(fn: () => void): void {
    const h = this.host;
    if (isEspruino(h)) h.act(fn);
    else fn();
  }

  /** Stop the terminal's engine: on the espruino engine the interpreter is killed and its folder removed. */
  async close(): Promise<void> {
    const h = this.host;
    if (isEspruino(h)) await h.close();
  }

  /** Decode a QR image (PNG) as the scanner module would, and scan what it holds. */
  scanImage(png: Buffer): string {
    const text = decodeQrPng(png);
    if (text === null) throw new Error("no QR code found in the image");
    this.scanText(text);
    return text;
  }

  /** What the panel shows now, as a PNG. */
  displayPng(): Buffer {
    return this.host.display.toPng();
  }

  /** Text lines the firmware drew on the display since the last clear. */
  screenText(): string[] {
    return this.host.screenText();
  }

  /** The QR code the display shows, decoded (a customer's phone camera), or null. */
  displayQr(): string | null {
    return decodeQrPng(this.displayPng());
  }

  /** The paper roll as a PNG. */
  paperPng(): Buffer {
    return paperPng(this.host.printer);
  }

  /** The paper roll as text. */
  paperText(): string {
    return this.host.printer.text();
  }

  /**
   * Every receipt printed so far, each as a PNG, oldest first. Split where the printer cut the paper when the
   * emulator reports cuts (`receipts()`), otherwise the whole roll is one.
   */
  receiptPngs(): Buffer[] {
    const p = this.host.printer as unknown as { receipts?: () => unknown[] };
    if (typeof p.receipts === "function") {
      const list = p.receipts();
      const out: Buffer[] = [];
      for (const r of list) {
        const png = toPng(r);
        if (png) out.push(png);
      }
      if (out.length || list.length === 0) return out;
    }
    return this.host.printer.paper.length ? [this.paperPng()] : [];
  }

  /** QR codes printed on the paper roll, as their text (what a phone scanning the receipt reads). */
  printedQrs(): string[] {
    const out: string[] = [];
    for (const it of this.host.printer.paper) if (it.kind === "qr") out.push(String(it.data));
    return out;
  }

  setPaperOut(out: boolean): void {
    this.host.printer.paperOut = out;
  }

  // ------------------------------------------------------------------ radio, gateway, power

  /** Wi-Fi in range or not (the access points the terminal was provisioned with: ssid -> password). */
  setWifi(on: boolean, networks?: Record<string, string>): void {
    this.host.setWifi(on, networks);
    this.wait(100);
  }

  /** The gateway reachable from the terminal or not (Wi-Fi stays up: a captive portal, a dead uplink). */
  setGatewayReachable(up: boolean): void {
    this.gatewayUp = up;
  }

  /** Whether the gateway answers the terminal (the switch above). */
  get gatewayReachable(): boolean {
    return this.gatewayUp;
  }

  /** Cut power now; the flash keeps what was written. */
  powerCut(): void {
    this.host.powerOff();
  }

  /** Cut power in the middle of the next flash write or erase (Storage or journal), tearing it. */
  powerCutAtNextWrite(): void {
    if (isEspruino(this.host)) throw new Error("a power cut in the middle of a flash write needs the V8 engine (the interpreter's flash is its own file)");
    this.host.flash.cutPowerAt(1);
    this.host.journalFlash.cutPowerAt(1);
  }

  /**
   * A factory reset, as a technician's bench does it: Storage, the journal's region and the kept orders' pages after
   * it erased, the secure element back as shipped (no keys: a new identity at the next provisioning), then power on.
   * The paper roll, the wallets and the gateway stay (they are not in the terminal). V8 engine only (the
   * interpreter's flash is its own file).
   */
  factoryReset(): void {
    const h = this.host;
    if (isEspruino(h)) throw new Error("a factory reset needs the V8 engine (the interpreter's flash is its own file)");
    if (h.poweredOn) h.powerOff();
    h.flash.cutPowerAt(null);
    h.journalFlash.cutPowerAt(null);
    for (const f of [h.flash, h.journalFlash]) for (let a = 0; a < f.size; a += f.pageSize) f.erasePage(a);
    h.secure.importState(shippedSecureElement(() => 0, this.board.wiring.secure.address).exportState());
    this.meta = {};
    this.bus.note("i2c", "factory reset: Storage and journal erased, secure element as shipped");
    this.powerOn();
    this.persist();
  }

  /** Power on; `wallClockMs` sets the device's RTC first (an ESP32's RTC restarts near 1970 after a power loss). */
  powerOn(o: { wallClockMs?: number } = {}): void {
    this.host.flash.cutPowerAt(null);
    this.host.journalFlash.cutPowerAt(null);
    if (this.host.poweredOn) this.host.powerOff();
    if (o.wallClockMs !== undefined) this.host.setWallClock(o.wallClockMs);
    this.host.boot();
    this.wait(300);
  }

  // ------------------------------------------------------------------ the gateway

  /** The terminal's HTTP now goes to this gateway (while reachable), and its books show on the page. */
  attachGateway(g: GatewayLike): void {
    this.gw = g;
    this.gatewayHandler = (req) =>
      g.handle({ method: req.method, path: req.path, headers: req.headers, body: req.body, remote: { address: "10.0.0.7", port: 49152 } }).then((r) => ({ status: r.status, body: r.body }));
  }

  get gateway(): GatewayLike | null {
    return this.gw;
  }

  /** The gateway's ledger, holds, SMS outbox and flags; null when no gateway is attached. */
  gatewayBooks(): GatewayBooks | null {
    const g = this.gw;
    if (!g) return null;
    const safe = (f: () => unknown) => {
      try {
        return f();
      } catch (e) {
        return { error: e instanceof Error ? e.message : String(e) };
      }
    };
    return {
      money: safe(() => (g.books ? g.books() : null)),
      transactions: g.transactions ? (safe(() => (g.transactions as () => TransactionView[])()) as TransactionView[]) : null,
      payouts: safe(() => (g.payouts ? g.payouts() : null)),
      ledger: safe(() => g.ledger()),
      holds: safe(() => g.holds()),
      sms: safe(() => g.smsOutbox()),
      flags: safe(() => g.flags()),
    };
  }

  // ------------------------------------------------------------------ provisioning

  /** Where this world persists (null: in memory). */
  get stateDirectory(): string | null {
    return this.stateDir;
  }

  /** How the terminal was provisioned by this world, or null. */
  get provisioned(): ProvisionSpec | null {
    return this.meta.provisioned ?? null;
  }

  /**
   * Provision the terminal as a technician does: the technician menu on the keypad (D, the PIN once there is one,
   * 1 = open console), then tools/provision.ts over the simulated console, certified by the world's issuer. Wi-Fi
   * comes in range with the provisioned network; the terminal is powered off and on to start provisioned.
   */
  async provision(spec: Partial<ProvisionSpec> = {}): Promise<ProvisionSpec> {
    const gk = this.gw && this.gw.linkPublicKey;
    // Without a gateway, a stand-in link key (the issuer's public key): the terminal's sync then fails authentication.
    const linkKey = gk ? (typeof gk === "string" ? gk : Buffer.from(gk).toString("hex")) : Buffer.from(publicKeyOf(this.issuer.privateKey)).toString("hex");
    const s: ProvisionSpec = { ...DEFAULT_PROVISION, linkKey, ...spec };
    const esp = this.host;
    if (isEspruino(esp)) {
      // The technician's console is the V8 engine's (sim/tcp-console.ts): provisioning runs the same bundle there,
      // on the same flash, journal and secure element, then the interpreter boots what it wrote (a bench station
      // provisioning a board before it goes into the terminal).
      esp.powerOff();
      const con = consoleHostOptions();
      const v8 = new SimHost({ board: this.board, bundle: this.bundle, flash: esp.flash, journalFlash: esp.journalFlash, secure: esp.secure, wallClockMs: esp.wallClock(), env: con.env, onContext: con.onContext, bootFromStorage: con.bootFromStorage });
      v8.httpHandler = esp.httpHandler;
      v8.setWifi(esp.wifiWorld.enabled, esp.wifiWorld.networks);
      try {
        this.switchTo(v8, () => v8.boot());
        this.wait(300);
        await this.provisionOnV8(s, con.bind);
      } finally {
        if (v8.poweredOn) v8.powerOff();
        this.switchTo(esp, () => esp.boot());
      }
      esp.setWifi(esp.wifiWorld.enabled, v8.wifiWorld.networks);
      await esp.ready();
      // as powerOn() lets the V8 engine boot for 300 ms: the terminal is up once it has drawn its first screen
      // (keys pressed while it starts are lost, as on the device): on the V8 engine that takes no time at all
      // (the idle screen: the status bar alone is drawn before "Starting"); a firmware that never shows "Ready" is
      // left to the caller's own checks
      await this.until("the terminal's idle screen after provisioning", () => this.screenText().includes("Ready"), 30000).catch(() => {});
      await this.run(300);
      this.persist();
      return s;
    }
    await this.provisionOnV8(s, this.bindConsole);
    this.powerOn();
    this.persist();
    return s;
  }

  /**
   * The technician's console opened as on the bench (D, the PIN and #, then 1 on the keypad) and served on a TCP
   * port for the tools (`npm run order -- send --port <url>`). V8 engine only; close it when done.
   */
  async technicianConsole(): Promise<{ url: string; close(): Promise<void> }> {
    const host = this.host;
    if (isEspruino(host)) throw new Error("the technician console runs on the V8 engine");
    const con = await startTcpConsole({ host, bindGlobals: this.bindConsole, timeScale: 20 });
    host.pressKey("D");
    const pin = this.meta.provisioned ? this.meta.provisioned.techPin : "";
    if (pin) {
      for (const k of pin) host.pressKey(k);
      host.pressKey("#");
      this.wait(500);
    }
    host.pressKey("1");
    this.wait(100);
    if (host.consoles.serial !== "Serial1") {
      await con.close();
      throw new Error("the technician console did not open; the screen shows: " + this.screenText().join(" | "));
    }
    return { url: con.url, close: () => con.close() };
  }

  private async provisionOnV8(s: ProvisionSpec, bindConsole: ReturnType<typeof consoleHostOptions>["bind"]): Promise<void> {
    const host = this.host;
    if (isEspruino(host)) throw new Error("provisioning runs on the V8 engine");
    const { provision, issuerCertify } = await import("../tools/provision.ts");
    const con = await startTcpConsole({ host, bindGlobals: bindConsole, timeScale: 20 });
    const lines: string[] = [];
    try {
      this.host.pressKey("D");
      const pin = this.meta.provisioned ? this.meta.provisioned.techPin : "";
      if (pin) {
        for (const k of pin) this.host.pressKey(k);
        this.host.pressKey("#");
        this.wait(500);
      }
      this.host.pressKey("1");
      this.wait(100);
      if (this.host.consoles.serial !== "Serial1")
        throw new Error("the technician console did not open (D, then 1 on the technician menu); the screen shows: " + this.screenText().join(" | "));
      const expiryDay = Math.floor(this.now() / DAY_MS) + 3 * 365;
      await provision({
        board: this.board.name,
        port: con.url,
        terminalId: s.terminalId,
        merchantId: s.merchantId,
        merchantName: s.merchantName,
        currency: s.currency,
        gatewayUrl: s.gatewayUrl,
        linkKey: s.linkKey,
        certify: this.certifier(s, issuerCertify(this.issuer, s.terminalId, s.merchantId, expiryDay)),
        wifi: s.wifi,
        limits: s.limits,
        techPin: s.techPin,
        merchantPin: s.merchantPin,
        orderKey: s.orderKey,
        firmwareKeys: { [String(this.firmwareKey.keyId)]: Buffer.from(this.firmwareKey.publicKey).toString("hex") },
        out: (l) => lines.push(l),
      });
    } catch (e) {
      if (this.host.consoles.serial !== "Serial1") this.host.pressKey("*"); // leave the keypad as found
      throw new Error("provisioning failed: " + (e instanceof Error ? e.message : String(e)) + (lines.length ? " (" + lines.join("; ") + ")" : ""));
    } finally {
      await con.close();
    }
    this.meta.provisioned = s;
    const nets: Record<string, string> = {};
    for (const n of s.wifi) nets[n.ssid] = n.password;
    this.host.setWifi(this.host.wifiWorld.enabled, nets);
  }

  /**
   * The terminal's certificate: from the gateway's registration when the gateway registers terminals (the merchant
   * is registered first if new), else signed here by the world's issuer (the gateway's, when one is attached).
   */
  private certifier(s: ProvisionSpec, local: (identity: Uint8Array) => Promise<{ cert: Uint8Array; issuerKeyId: number; issuerPub: Uint8Array }>) {
    const g = this.gw;
    return async (identity: Uint8Array) => {
      if (!g || !g.registerTerminal) return local(identity);
      const exists = (e: unknown) => !!e && typeof e === "object" && (e as { status?: number }).status === 409;
      try {
        if (g.registerMerchant) g.registerMerchant({ name: s.merchantName, merchantId: s.merchantId, phone: simPhone(0) });
      } catch (e) {
        if (!exists(e)) throw e;
      }
      try {
        const t = g.registerTerminal({ merchantId: s.merchantId, publicKey: identity, terminalId: s.terminalId });
        return { cert: t.cert, issuerKeyId: t.issuerKeyId, issuerPub: t.issuerPublicKey };
      } catch (e) {
        if (exists(e)) return local(identity); // registered before (re-provisioning): same issuer
        throw e;
      }
    };
  }

  // ------------------------------------------------------------------ customer wallets

  /** A customer wallet with an issuer-signed offline allowance (created once; kept in the state dir). */
  async wallet(name: string, capMinor = 20000, currency = 978): Promise<Wallet> {
    if (this.wallets[name]) return this.wallets[name];
    const kp = await Wallet.generateKey(true);
    const jwk = (await webcrypto.subtle.exportKey("jwk", kp.privateKey as webcrypto.CryptoKey)) as P256Jwk;
    const pub = await Wallet.publicKeyOf(kp);
    const today = Math.floor(this.now() / DAY_MS);
    // Registered at the gateway when it registers wallets (it issues the allowance), else issued here.
    const allowance =
      this.gw && this.gw.registerWallet
        ? this.gw.registerWallet({ publicKey: pub, capMinor, currency, balanceMinor: 100000 + capMinor, phone: simPhone(1 + Object.keys(this.wallets).length) }).allowance
        : this.issuer.issueAllowance({ walletPub: pub, capMinor, currency, expiryDay: today + 30, startCounter: 1 });
    this.restoreWallet(name, { jwk, allowance: Buffer.from(allowance).toString("hex"), state: null });
    return this.wallets[name];
  }

  /** The customer pays a request QR text; returns the payment's QR text (what the phone shows). */
  /** The Payment bytes behind a QR text this world's wallets made (a P2 text is sealed: the wallet keeps its bytes). */
  paymentBytes(qr: string): Uint8Array | null {
    const b = this.paymentsByQr.get(qr);
    if (b) return b;
    const m = fromQrText(qr);
    return "msg" in m ? m.msg : null;
  }
  private readonly paymentsByQr = new Map<string, Uint8Array>();

  async pay(name: string, requestQr: string): Promise<string> {
    const w = await this.wallet(name);
    const out = await w.pay(requestQr);
    this.paymentsByQr.set(out.qr, out.bytes);
    const list = w.state().payments;
    if (list.length) this.paidBy[name + ":" + list[list.length - 1].counter] = "QR";
    this.persist();
    return out.qr;
  }

  /**
   * Awaits a phone-side promise while the terminal runs in 5 ms steps; fails after `timeoutMs` of device time. The
   * phone's WebCrypto completes on Node's thread pool: each step lets it in before more device time passes, so the
   * phone does not look seconds slow to the terminal on a busy machine.
   */
  private async drive<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let t = 0; t < timeoutMs && !done; t += 5) {
      const h = this.host;
      if (isEspruino(h)) {
        await h.runFor(5);
        continue;
      }
      this.wait(5);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 0));
    }
    if (!done) throw new Error(what + " did not finish in time; the screen shows: " + this.screenText().join(" | "));
    return p;
  }

  /**
   * The customer pays over Bluetooth: the phone connects to what the terminal advertises, opens the encrypted
   * session, reads the request, writes its payment and checks the terminal's receipt. The event loop runs meanwhile.
   */
  async payOverBluetooth(name: string, timeoutMs = 10000): Promise<{ amountMinor: number; amount: string; utr: string; receiptVerified: boolean; relayed: number }> {
    const w = await this.wallet(name);
    if (!this.host.ble.advertising) throw new Error("the terminal is not advertising: open a payment first");
    const phone = new SimPhone(this.host);
    phone.connect();
    this.wait(20);
    const issuerKeys: Record<number, Uint8Array> = {};
    issuerKeys[this.issuer.keyId] = this.issuer.publicKey;
    const session = new WalletBleSession(phone, { now: () => this.host.sched.now, issuerKeys, wallClockMs: () => this.now(), timeoutMs: 0 });
    const drive = <T>(p: Promise<T>) => this.drive(p, timeoutMs, "the Bluetooth payment");
    try {
      const info = await drive(session.open());
      const pay = payOverBle(w, session, info);
      const mine = () => {
        const list = w.state().payments;
        if (list.length) this.paidBy[name + ":" + list[list.length - 1].counter] = "Bluetooth";
      };
      pay.then(mine, mine);
      const out = await drive(pay);
      this.persist();
      // relayed: the terminal's relay bundles the wallet now carries for the gateway (docs/protocol.md "Relayed records")
      return { amountMinor: out.payment.request.amountMinor, amount: money(out.payment.request.amountMinor, out.payment.request.currency), utr: out.receipt.utr, receiptVerified: out.receipt.signatureVerified, relayed: out.relayed };
    } finally {
      if (phone.isConnected) phone.disconnect();
      this.wait(50);
    }
  }

  /**
   * The customer's phone hands the paid confirmation of the invoice on the display to the terminal over Bluetooth
   * (flow 2, offline): it connects to what the terminal advertises, opens the encrypted session, reads the invoice,
   * writes the confirmation (QR text or bytes) and waits for the terminal's receipt. Returns both messages' bytes.
   */
  async paidOverBluetooth(confirmation: string | Uint8Array, timeoutMs = 10000): Promise<{ invoice: Uint8Array; receipt: Uint8Array }> {
    if (!this.host.ble.advertising) throw new Error("the terminal is not advertising: open an invoice first");
    let paid: Uint8Array;
    if (typeof confirmation === "string") {
      const m = fromQrText(confirmation);
      if ("err" in m) throw new Error("not a paid confirmation: " + m.err);
      paid = m.msg;
    } else paid = confirmation;
    const phone = new SimPhone(this.host);
    phone.connect();
    this.wait(20);
    const issuerKeys: Record<number, Uint8Array> = {};
    issuerKeys[this.issuer.keyId] = this.issuer.publicKey;
    const session = new WalletBleSession(phone, { now: () => this.host.sched.now, issuerKeys, wallClockMs: () => this.now(), timeoutMs: 0 });
    const drive = <T>(p: Promise<T>) => this.drive(p, timeoutMs, "the Bluetooth exchange");
    try {
      await drive(session.open());
      const invoice = await drive(session.next());
      await drive(session.send(paid));
      const receipt = await drive(session.next());
      return { invoice, receipt };
    } finally {
      if (phone.isConnected) phone.disconnect();
      this.wait(50);
    }
  }

  /**
   * The customer claims fraud on a payment (the last one by default) at the gateway. Needs a gateway with a claim
   * API (`claimFraud`).
   */
  async claimFraud(name: string, reason = "not my payment", counter?: number): Promise<{ claim: FraudClaim; answer: unknown }> {
    const w = this.wallets[name];
    if (!w) throw new Error(`no wallet "${name}"`);
    const list = w.state().payments;
    const p = counter === undefined ? list[list.length - 1] : list.find((x) => x.counter === counter);
    if (!p) throw new Error(counter === undefined ? `wallet "${name}" has made no payment to claim` : `wallet "${name}" has no payment with counter ${counter}`);
    const g = this.gw;
    if (!g) throw new Error("no gateway attached: a fraud claim goes to the gateway");
    if (!g.claimFraud) throw new Error("the attached gateway has no fraud claim API (claimFraud)");
    const claim: FraudClaim = { walletPub: Buffer.from(await w.publicKeyRaw()).toString("hex"), terminalId: p.terminalId, counter: p.counter, amountMinor: p.amountMinor, paymentHash: p.paymentHash, txId: p.receipt ? p.receipt.txId : undefined, reason };
    return { claim, answer: await g.claimFraud(claim) };
  }

  /**
   * The customer pays the request on the terminal's display online through the gateway and gets the paid
   * confirmation to show the terminal (returns its QR text). Needs a gateway with `payOnline`.
   */
  async paidConfirmation(name: string): Promise<string> {
    const req = this.displayQr();
    if (!req) throw new Error("the terminal's display shows no QR code to pay");
    const g = this.gw;
    if (!g) throw new Error("no gateway attached: an online payment goes through the gateway");
    if (!g.payOnline) throw new Error("the attached gateway has no online payment API (payOnline)");
    await this.wallet(name);
    return (await g.payOnline({ requestQr: req, walletName: name })).confirmationQr;
  }

  /**
   * The store's order system shows an order for this terminal's merchant (flow 4): the QR text "O1...", tagged
   * with the order key the terminal was provisioned with. Valid for `validMs` from now.
   */
  orderQr(orderRef: string, amountMinor: number, validMs = 15 * 60000): string {
    const s = this.meta.provisioned;
    if (!s || !s.orderKey) throw new Error("the terminal was not provisioned with an order key");
    const cur: Record<string, number> = { EUR: 978, USD: 840, GBP: 826, CHF: 756 };
    return storeOrderQr({ orderKey: s.orderKey, merchantId: s.merchantId, orderRef, amountMinor, currency: cur[s.currency] ?? 978, expires: Math.floor((this.now() + validMs) / 1000) });
  }

  /**
   * The store's order system hands over an order with its own callback URL as a pay-api link (docs/orders.md),
   * tagged with the order key the terminal was provisioned with; `merchantId` makes one for another merchant.
   */
  orderLink(orderRef: string, amountMinor: number, callback: string, o: { merchantId?: number; validMs?: number } = {}): string {
    const s = this.meta.provisioned;
    if (!s || !s.orderKey) throw new Error("the terminal was not provisioned with an order key");
    const cur: Record<string, number> = { EUR: 978, USD: 840, GBP: 826, CHF: 756 };
    const expires = Math.floor((this.now() + (o.validMs ?? 15 * 60000)) / 1000);
    return storeOrderLink({ orderKey: s.orderKey, merchantId: o.merchantId ?? s.merchantId, orderRef, amountMinor, currency: cur[s.currency] ?? 978, expires, callback });
  }

  walletInfo(name: string): WalletInfo {
    const w = this.wallets[name];
    if (!w) throw new Error(`no wallet "${name}"`);
    const a = w.allowance();
    const s = w.state();
    const g = this.gw;
    const balanceMinor = g && g.walletBalance ? g.walletBalance(Buffer.from(a.walletPub).toString("hex")) : null;
    const list = s.payments.map((p) => ({ counter: p.counter, terminalId: p.terminalId, amount: money(p.amountMinor, p.currency), method: this.paidBy[name + ":" + p.counter] ?? "", accepted: !!p.receipt, utr: p.receipt ? p.receipt.utr : "" }));
    const accepted = list.filter((p) => p.accepted).length;
    return {
      name,
      capMinor: a.capMinor,
      spentMinor: s.spentMinor,
      remainingMinor: w.remaining(),
      currency: a.currency,
      payments: s.payments.length,
      balanceMinor,
      accepted,
      awaitingReceipt: list.length - accepted,
      money: { cap: money(a.capMinor, a.currency), spent: money(s.spentMinor, a.currency), left: money(w.remaining(), a.currency), balance: balanceMinor === null ? null : money(balanceMinor, a.currency) },
      list,
    };
  }

  private restoreWallet(name: string, s: SavedWallet): void {
    const entry = s;
    const store = {
      load: () => entry.state as never,
      save: (st: unknown) => {
        entry.state = st;
      },
    };
    this.saved[name] = entry;
    this.wallets[name] = new Wallet({ keyPair: s.jwk, allowance: new Uint8Array(Buffer.from(s.allowance, "hex")), store });
  }

  // ------------------------------------------------------------------ state

  /** Write flash, journal, secure element, issuer and wallets to the state dir (no-op without one). */
  persist(): void {
    if (!this.stateDir) return;
    const h = this.host;
    if (isEspruino(h)) h.syncFlash();
    const f = (n: string) => join(this.stateDir as string, n);
    this.host.flash.save(f("flash.bin"));
    this.host.journalFlash.save(f("journal.bin"));
    writeFileSync(f("secure-element.json"), JSON.stringify(this.host.secure.exportState()));
    writeFileSync(f("issuer.json"), JSON.stringify({ keyId: this.issuer.keyId, privateKey: Buffer.from(this.issuer.privateKey).toString("hex"), firmwareKey: Buffer.from(this.firmwareKey.privateKey).toString("hex") }));
    writeFileSync(f("wallets.json"), JSON.stringify(this.saved));
    writeFileSync(f("world.json"), JSON.stringify(this.meta));
  }

  /** What a script wants to know after a run. */
  summary(): Record<string, unknown> {
    const h = this.host;
    return {
      board: this.board.name,
      version: this.board.version,
      engine: this.engine,
      // on the interpreter: JsVars in use as last read (process.memory()), and its total
      jsVars: isEspruino(h) ? h.lastMemory : null,
      poweredOn: this.host.poweredOn,
      simulatedMs: this.host.sched.now,
      screen: this.host.screenText(),
      paper: this.host.printer.text(),
      provisioned: this.meta.provisioned ? { terminalId: this.meta.provisioned.terminalId, merchantId: this.meta.provisioned.merchantId } : null,
      wallets: Object.keys(this.wallets).map((n) => this.walletInfo(n)),
      gateway: this.gatewayBooks(),
      errors: this.host.errors.slice(),
      log: this.host.output.slice(-20),
    };
  }
}
