/**
 * Wallet side of the encrypted Bluetooth session (docs/protocol.md section 3, "Bluetooth LE"; the terminal side
 * is protocol/ble-session.ts). Works over any central with the SimPhone shape (write a characteristic,
 * get notifications), so the simulator's customer wallet, the tests and a phone app's BLE binding share it.
 *
 *   const s = new WalletBleSession(phone, { issuerKeys: { 3: issuerPub }, wallClockMs: () => Date.now() });
 *   const info = await s.open();                 // HELLO → ACCEPT: certificate (issuer, expiry) and session key checked
 *   show("Paying merchant " + info.merchantId + ", terminal " + info.terminalId);
 *   const { payment, receipt } = await payOverBle(wallet, s, info, { confirm: (p) => askCustomer(p) });
 *   await s.send(paidConfirmationBytes);         // relaying an online payment's confirmation
 *   wallet.keepRelayed(...)                      // payOverBle keeps the terminal's relay bundles by itself
 *
 * Fails closed: without issuer keys no session opens (NO_ISSUER_KEYS); a certificate that is not the issuer's
 * (CERT_UNTRUSTED) or has expired by the app's clock (CERT_EXPIRED) is refused; a request for another terminal
 * than the certificate's (TERMINAL_MISMATCH) or not signed by the certificate's key (REQUEST_SIGNATURE) is never
 * paid. The SDK has no trusted clock: expiry is judged by the time the app passes (`wallClockMs`).
 *
 * WebCrypto only (ECDH P-256, ECDSA P-256/SHA-256, HMAC-SHA-256, AES-CBC with PKCS#7, which is exactly the
 * padding of the sealed envelope).
 */
import { ascii, concat, equalConstantTime } from "../protocol/codec/hex.ts";
import { MAX_TO_WALLET, Reassembler, toFrames } from "../protocol/ble-frames.ts";
import {
  ACCEPT_LEN,
  BleMsg,
  CHAR_FROM_WALLET,
  CHAR_TO_WALLET,
  KEYID_T2W,
  KEYID_W2T,
  SESSION_LABEL,
  SESSION_VERSION,
} from "../protocol/ble-session.ts";
import type { TerminalCert } from "../protocol/messages.ts";
import { decodeRequest, decodeTerminalCert, MsgType, PUB, SIG, signedPart } from "../protocol/messages.ts";
import type { PaymentOut, ReceiptCheck, Wallet } from "./wallet.ts";

/** What a Bluetooth central offers (sim/peripherals/ble-phone.ts SimPhone; a phone app's BLE binding). */
export interface BleCentral {
  write(charUuid: number, bytes: Uint8Array): void;
  onNotify(fn: (charUuid: number, bytes: Uint8Array) => void): void;
}

/**
 * A refusal the app can show. `code`: the terminal's ERROR codes (B01..B06) and B03/B04/B05 of the wallet's own
 * checks; NO_ISSUER_KEYS, NO_CLOCK (options); CERT_MALFORMED, CERT_UNTRUSTED, CERT_EXPIRED, SIGNATURE (open());
 * TERMINAL_MISMATCH, REQUEST_SIGNATURE, DECLINED (payOverBle); STATE, TIMEOUT, CRYPTO.
 */
export class BleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BleError";
  }
}

/** The terminal a session is open with, from its certificate (checked: issuer's signature, not expired). */
export interface BleSessionInfo {
  cert: TerminalCert;
  /** The terminal's identity key X||Y, from its certificate: requests and receipts must be signed by it. */
  terminalPub: Uint8Array;
  /** The certificate's terminal ID: the only terminal ID a request in this session may carry. */
  terminalId: number;
  /** The certificate's merchant ID: who is paid. Show it (with the app's name for it) before the customer confirms. */
  merchantId: number;
  /** The certificate's last valid day (days since 1970-01-01 UTC; valid through the end of that day). */
  certExpiryDay: number;
}

export interface WalletBleOptions {
  /**
   * Issuer public keys (X||Y, 64 bytes) by key ID, as the wallet got them from its issuer (at sync): the terminal's
   * certificate must verify under the key its `issuerKeyId` names. Required: without at least one key the
   * constructor throws NO_ISSUER_KEYS (a certificate nobody checked proves nothing).
   */
  issuerKeys: Record<number, Uint8Array>;
  /**
   * The app's wall clock, Unix milliseconds, for the certificate's expiry. Required (NO_CLOCK): the SDK has no
   * trusted clock of its own, so it judges by the time the app passes (the phone's clock, or better a network time
   * the app trusts). A certificate is valid through the end of its expiry day (UTC).
   */
  wallClockMs: () => number;
  /** Milliseconds for the frame reassembler, monotonic (default Date.now). */
  now?: () => number;
  /** How long open() and next() wait, ms (default 15000; 0 = forever). */
  timeoutMs?: number;
}

interface Subtle {
  generateKey(alg: object, extractable: boolean, usages: string[]): Promise<{ privateKey: object; publicKey: object }>;
  importKey(format: string, key: object, alg: object, extractable: boolean, usages: string[]): Promise<object>;
  exportKey(format: string, key: object): Promise<ArrayBuffer>;
  deriveBits(alg: object, key: object, length: number): Promise<ArrayBuffer>;
  sign(alg: object | string, key: object, data: Uint8Array): Promise<ArrayBuffer>;
  verify(alg: object, key: object, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
  encrypt(alg: object, key: object, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(alg: object, key: object, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): Subtle {
  const c = (globalThis as { crypto?: { subtle?: Subtle } }).crypto;
  if (!c || !c.subtle) throw new BleError("CRYPTO", "WebCrypto (crypto.subtle) is not available here");
  return c.subtle;
}

const ECDH = { name: "ECDH", namedCurve: "P-256" };
const ECDSA_KEY = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA = { name: "ECDSA", hash: "SHA-256" };
const HMAC = { name: "HMAC", hash: "SHA-256" };

/** HMAC-SHA-256 with WebCrypto. */
export async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await subtle().importKey("raw", key, HMAC, false, ["sign"]);
  return new Uint8Array(await subtle().sign("HMAC", k, data));
}

async function verifyRaw(pubXY: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    const k = await subtle().importKey("raw", concat([new Uint8Array([4]), pubXY]), ECDSA_KEY, false, ["verify"]);
    return await subtle().verify(ECDSA, k, sig, data);
  } catch {
    return false;
  }
}

interface DirKeys {
  keyId: number;
  enc: Uint8Array;
  mac: Uint8Array;
}

/** The sealed envelope of protocol/seal.ts, with WebCrypto. */
export async function sealAsync(k: DirKeys, seq: number, plaintext: Uint8Array): Promise<Uint8Array> {
  const h = new Uint8Array([1, k.keyId, (seq >>> 24) & 255, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255]);
  const iv = (await hmac(k.mac, concat([new Uint8Array([0x49, 0x56]), h.subarray(1)]))).subarray(0, 16);
  const aes = await subtle().importKey("raw", k.enc, { name: "AES-CBC" }, false, ["encrypt"]);
  const ct = new Uint8Array(await subtle().encrypt({ name: "AES-CBC", iv }, aes, plaintext));
  const body = concat([h, iv, ct]);
  return concat([body, (await hmac(k.mac, body)).subarray(0, 16)]);
}

/** Opens an envelope: its plaintext and seq, or an error "format" | "key" | "tag" | "padding". */
export async function unsealAsync(k: DirKeys, env: Uint8Array): Promise<{ seq: number; data: Uint8Array } | { err: string }> {
  if (env.length < 6 + 16 + 16 + 16 || (env.length - 38) % 16 || env[0] !== 1) return { err: "format" };
  if (env[1] !== k.keyId) return { err: "key" };
  const body = env.subarray(0, env.length - 16);
  if (!equalConstantTime((await hmac(k.mac, body)).subarray(0, 16), env.subarray(env.length - 16))) return { err: "tag" };
  const aes = await subtle().importKey("raw", k.enc, { name: "AES-CBC" }, false, ["decrypt"]);
  try {
    const pt = await subtle().decrypt({ name: "AES-CBC", iv: env.subarray(6, 22) }, aes, env.subarray(22, env.length - 16));
    return { seq: ((env[2] * 256 + env[3]) * 256 + env[4]) * 256 + env[5], data: new Uint8Array(pt) };
  } catch {
    return { err: "padding" };
  }
}

type Waiter = { resolve: (m: Uint8Array) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> };

export class WalletBleSession {
  private readonly central: BleCentral;
  private readonly o: WalletBleOptions;
  private readonly rx = new Reassembler();
  /** Raw session messages in arrival order, and callers waiting for one. */
  private inbox: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private w2t: DirKeys | null = null;
  private t2w: DirKeys | null = null;
  private sendSeq = 0;
  private recvSeq = 0;
  /** A copy of the issuer keys taken at construction, so a later change to the app's object cannot open a hole. */
  private readonly issuerKeys: Record<number, Uint8Array>;
  /** The terminal of the open session (set by open() after every check passed). */
  private peer: BleSessionInfo | null = null;
  /** Relay bundles the terminal sent in this session (docs/protocol.md, "Relayed records"), not yet taken. */
  private bundles: Uint8Array[] = [];

  constructor(central: BleCentral, o: WalletBleOptions) {
    this.rx.max = MAX_TO_WALLET;
    this.issuerKeys = copyIssuerKeys(o ? o.issuerKeys : undefined);
    if (!o || typeof o.wallClockMs !== "function") throw new BleError("NO_CLOCK", "WalletBleSession needs wallClockMs (the app's clock, Unix ms) to check the terminal's certificate's expiry");
    this.central = central;
    this.o = o;
    central.onNotify((uuid, bytes) => {
      if (uuid !== CHAR_TO_WALLET) return;
      const r = this.rx.push(bytes, (o.now || Date.now)());
      if (!r) return;
      if ("err" in r) return this.fail(new BleError("B01", "Bluetooth frame from the terminal rejected: " + r.err));
      this.deliver(r.msg);
    });
  }

  /**
   * HELLO with a fresh ephemeral key, then the terminal's ACCEPT: its certificate (issuer's signature, expiry by the
   * app's clock), the session key's signature by the certificate's terminal key, then the session keys. Throws
   * BleError CERT_MALFORMED, CERT_UNTRUSTED, CERT_EXPIRED, SIGNATURE, NO_CLOCK, B02, TIMEOUT.
   */
  async open(): Promise<BleSessionInfo> {
    const c = subtle();
    this.peer = null;
    this.w2t = null;
    this.t2w = null;
    const eph = await c.generateKey(ECDH, false, ["deriveBits"]);
    const raw = new Uint8Array(await c.exportKey("raw", eph.publicKey));
    const ephXY = raw.subarray(1);
    this.write(concat([new Uint8Array([BleMsg.Hello, SESSION_VERSION]), ephXY]));
    const m = await this.take();
    if (m[0] !== BleMsg.Accept || m.length !== ACCEPT_LEN || m[1] !== SESSION_VERSION) throw new BleError("B02", "The terminal's answer is not a session accept");
    const sessionPub = m.subarray(2, 66);
    const sig = m.subarray(66, 130);
    const certBytes = m.subarray(130);
    const cert = decodeTerminalCert(certBytes);
    if (!cert) throw new BleError("CERT_MALFORMED", "The terminal's certificate is malformed");
    const ik = this.issuerKeys[cert.issuerKeyId];
    if (!ik) throw new BleError("CERT_UNTRUSTED", "The terminal's certificate names issuer key " + cert.issuerKeyId + ", which this wallet does not trust");
    if (!(await verifyRaw(ik, certBytes.subarray(certBytes.length - SIG), signedPart(certBytes)))) {
      throw new BleError("CERT_UNTRUSTED", "The terminal's certificate is not signed by the issuer (key " + cert.issuerKeyId + ")");
    }
    const nowMs = this.o.wallClockMs();
    if (typeof nowMs !== "number" || !isFinite(nowMs) || nowMs <= 0) throw new BleError("NO_CLOCK", "wallClockMs() did not return a time (Unix ms): " + String(nowMs));
    const today = Math.floor(nowMs / 86400000);
    if (cert.expiryDay < today) {
      throw new BleError("CERT_EXPIRED", "The terminal's certificate expired on " + dayText(cert.expiryDay) + " (today is " + dayText(today) + " by this phone's clock)");
    }
    const transcript = concat([ascii(SESSION_LABEL), ephXY, sessionPub]);
    if (!(await verifyRaw(cert.terminalPub, sig, transcript))) throw new BleError("SIGNATURE", "The session key is not signed by the terminal");
    const peer = await c.importKey("raw", concat([new Uint8Array([4]), sessionPub]), ECDH, false, []);
    const z = new Uint8Array(await c.deriveBits({ name: "ECDH", public: peer }, eph.privateKey, 256));
    const th = new Uint8Array(await c.digest("SHA-256", transcript));
    const k = async (label: string) => (await hmac(z, concat([ascii(label), th]))).subarray(0, 16);
    this.w2t = { keyId: KEYID_W2T, enc: await k("w2t enc"), mac: await k("w2t mac") };
    this.t2w = { keyId: KEYID_T2W, enc: await k("t2w enc"), mac: await k("t2w mac") };
    z.fill(0);
    this.sendSeq = 0;
    this.recvSeq = 0;
    this.peer = { cert, terminalPub: cert.terminalPub, terminalId: cert.terminalId, merchantId: cert.merchantId, certExpiryDay: cert.expiryDay };
    return this.info();
  }

  /** The terminal of the open session (a copy); throws STATE before open() succeeded. */
  info(): BleSessionInfo {
    const p = this.peer;
    if (!p) throw new BleError("STATE", "open() the session first");
    return { ...p, cert: { ...p.cert, terminalPub: new Uint8Array(p.cert.terminalPub), issuerSig: new Uint8Array(p.cert.issuerSig) }, terminalPub: new Uint8Array(p.terminalPub) };
  }

  /** Seals one protocol message (Payment, PaidConfirmation) to the terminal. */
  async send(msg: Uint8Array): Promise<void> {
    if (!this.w2t) throw new BleError("STATE", "open() the session first");
    const env = await sealAsync(this.w2t, ++this.sendSeq, msg);
    this.write(concat([new Uint8Array([BleMsg.Data]), env]));
  }

  /**
   * The next protocol message from the terminal, decrypted and authenticated. A relay bundle the terminal sends
   * along is set aside for relayed() and never returned here. Throws BleError: the terminal's ERROR code
   * (B01..B06), B03 (a message that fails authentication), B04 (replayed), TIMEOUT.
   */
  async next(): Promise<Uint8Array> {
    if (!this.t2w) throw new BleError("STATE", "open() the session first");
    for (;;) {
      const m = await this.take();
      if (m[0] !== BleMsg.Data) throw new BleError("B05", "Unexpected message from the terminal (type " + m[0] + ")");
      const r = await unsealAsync(this.t2w, m.subarray(1));
      if ("err" in r) throw new BleError("B03", "A message from the terminal failed authentication (" + r.err + ")");
      if (r.seq <= this.recvSeq) throw new BleError("B04", "A message from the terminal was replayed");
      this.recvSeq = r.seq;
      if (r.data.length > 1 && r.data[0] === 1 && r.data[1] === MsgType.Relay) {
        this.bundles.push(r.data);
        continue;
      }
      return r.data;
    }
  }

  /**
   * The relay bundles the terminal has sent so far in this session (docs/protocol.md, "Relayed records"), taken
   * out: the wallet keeps them (Wallet.keepRelayed) for the gateway client to upload at the next sync.
   */
  relayed(): Uint8Array[] {
    const b = this.bundles;
    this.bundles = [];
    return b;
  }

  private write(msg: Uint8Array): void {
    const f = toFrames(msg);
    for (let i = 0; i < f.length; i++) this.central.write(CHAR_FROM_WALLET, f[i]);
  }

  private deliver(m: Uint8Array): void {
    if (m[0] === BleMsg.Error) {
      let code = "";
      for (let i = 1; i < m.length && i < 8; i++) code += String.fromCharCode(m[i]);
      return this.fail(new BleError(code || "B00", "The terminal rejected the message (" + code + ")"));
    }
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(m);
    } else this.inbox.push(m);
  }

  private fail(e: Error): void {
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(e);
    } else this.pendingError = e;
  }

  private pendingError: Error | null = null;

  private take(): Promise<Uint8Array> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = null;
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      const ms = this.o.timeoutMs === undefined ? 15000 : this.o.timeoutMs;
      if (ms > 0) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new BleError("TIMEOUT", "The terminal did not answer over Bluetooth"));
        }, ms);
      }
      this.waiters.push(w);
    });
  }
}

/** What the customer is asked to confirm: who is paid (from the terminal's certificate) and how much (its request). */
export interface BlePaymentPrompt {
  merchantId: number;
  terminalId: number;
  amountMinor: number;
  /** ISO 4217 numeric. */
  currency: number;
  /** The request's time (the terminal's clock), Unix seconds. */
  time: number;
}

export interface PayOverBleOptions {
  /**
   * Called once the request has passed every check and before anything is signed: resolve true to pay, false to
   * decline (BleError DECLINED, nothing spent). Without it the request is paid at once.
   */
  confirm?: (p: BlePaymentPrompt) => boolean | Promise<boolean>;
}

export interface BlePaymentOut {
  payment: PaymentOut;
  receipt: ReceiptCheck;
  /** Who was paid, from the terminal's certificate. */
  merchantId: number;
  terminalId: number;
  /** Relay bundles the terminal handed over in this session, kept in the wallet for the gateway (usually 0 or 1). */
  relayed: number;
}

/**
 * A whole payment over an open session: the terminal's Request arrives and is checked against the session's
 * certificate (its terminal ID, TERMINAL_MISMATCH; its signature by the certificate's key, REQUEST_SIGNATURE), the
 * customer confirms (`o.confirm`), the wallet pays it, the Payment goes back, and the terminal's Receipt is checked
 * against the same key. `info` is what open() returned (it must be this session's: STATE otherwise).
 */
export async function payOverBle(wallet: Wallet, s: WalletBleSession, info?: BleSessionInfo, o: PayOverBleOptions = {}): Promise<BlePaymentOut> {
  const peer = s.info();
  if (info && !equalConstantTime(info.terminalPub, peer.terminalPub)) throw new BleError("STATE", "The session info given is not this session's terminal");
  const req = await s.next();
  if (req.length < 2 || req[1] !== MsgType.Request) throw new BleError("B05", "The terminal sent something other than a payment request");
  const q = decodeRequest(req);
  if (!q) throw new BleError("B05", "The terminal's payment request is malformed");
  if (q.terminalId !== peer.terminalId) {
    throw new BleError("TERMINAL_MISMATCH", "The request is for terminal " + q.terminalId + ", but this terminal's certificate is for terminal " + peer.terminalId + ": not paid");
  }
  if (!(await verifyRaw(peer.terminalPub, req.subarray(req.length - SIG), signedPart(req)))) {
    throw new BleError("REQUEST_SIGNATURE", "The request is not signed by the terminal's certified key: not paid");
  }
  if (o.confirm) {
    const prompt: BlePaymentPrompt = { merchantId: peer.merchantId, terminalId: peer.terminalId, amountMinor: q.amountMinor, currency: q.currency, time: q.time };
    if ((await o.confirm(prompt)) !== true) throw new BleError("DECLINED", "The customer declined the payment");
  }
  const payment = await wallet.pay(req);
  await s.send(payment.bytes);
  const rc = await s.next();
  const receipt = await wallet.checkReceipt(rc, payment.bytes, peer.terminalPub);
  // the terminal sends its relay bundle, if any, before the receipt: it has come by now
  let relayed = 0;
  for (const b of s.relayed()) {
    try {
      wallet.keepRelayed(b);
      relayed++;
    } catch {
      // a malformed bundle is not kept; the payment stands (the terminal still holds its records)
    }
  }
  return { payment, receipt, merchantId: peer.merchantId, terminalId: peer.terminalId, relayed };
}

/** Validated copy of the app's issuer keys; NO_ISSUER_KEYS when there is none or one is not a 64-byte X||Y. */
function copyIssuerKeys(keys: Record<number, Uint8Array> | undefined): Record<number, Uint8Array> {
  const out: Record<number, Uint8Array> = {};
  let n = 0;
  if (keys && typeof keys === "object") {
    for (const id in keys) {
      const k = keys[id as unknown as number];
      const num = Number(id);
      if (!(num >= 0 && num <= 255 && Math.floor(num) === num)) throw new BleError("NO_ISSUER_KEYS", "issuerKeys: key ID " + id + " is not a byte");
      if (!(k instanceof Uint8Array) || k.length !== PUB) throw new BleError("NO_ISSUER_KEYS", "issuerKeys: key " + id + " is not a 64-byte X||Y public key");
      out[num] = new Uint8Array(k);
      n++;
    }
  }
  if (!n) throw new BleError("NO_ISSUER_KEYS", "WalletBleSession needs the issuer's public keys (issuerKeys) to check the terminal's certificate");
  return out;
}

function dayText(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}
