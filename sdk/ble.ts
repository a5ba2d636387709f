/**
 * Wallet side of the encrypted Bluetooth session (docs/protocol.md section 3, "Bluetooth LE"; the terminal side
 * is protocol/ble-session.ts). Works over any central with the SimPhone shape (write a characteristic,
 * get notifications), so the simulator's customer wallet, the tests and a phone app's BLE binding share it.
 *
 *   const s = new WalletBleSession(phone, { issuerKeys: { 3: issuerPub } });
 *   const info = await s.open();                 // HELLO → ACCEPT, terminal signature and certificate checked
 *   const { payment, receipt } = await payOverBle(wallet, s);
 *   await s.send(paidConfirmationBytes);         // relaying an online payment's confirmation
 *
 * WebCrypto only (ECDH P-256, ECDSA P-256/SHA-256, HMAC-SHA-256, AES-CBC with PKCS#7, which is exactly the
 * padding of the sealed envelope).
 */
import { ascii, concat, equalConstantTime } from "../protocol/codec/hex.ts";
import { Reassembler, toFrames } from "../protocol/ble-frames.ts";
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
import { decodeTerminalCert, MsgType, SIG, signedPart } from "../protocol/messages.ts";
import type { PaymentOut, ReceiptCheck, Wallet } from "./wallet.ts";

/** What a Bluetooth central offers (sim/peripherals/ble-phone.ts SimPhone; a phone app's BLE binding). */
export interface BleCentral {
  write(charUuid: number, bytes: Uint8Array): void;
  onNotify(fn: (charUuid: number, bytes: Uint8Array) => void): void;
}

export class BleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BleError";
  }
}

export interface BleSessionInfo {
  cert: TerminalCert;
  /** The terminal's identity key X||Y, from its certificate. */
  terminalPub: Uint8Array;
  /** True when the certificate's issuer signature was checked against a key in `issuerKeys`. */
  certVerified: boolean;
}

export interface WalletBleOptions {
  /** Issuer public keys by key ID: the terminal's certificate must verify under one (unchecked when absent). */
  issuerKeys?: Record<number, Uint8Array>;
  /** Milliseconds for the frame reassembler (default Date.now). */
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

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
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

  constructor(central: BleCentral, o: WalletBleOptions = {}) {
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

  /** HELLO with a fresh ephemeral key, then the terminal's ACCEPT: signature, certificate, keys. */
  async open(): Promise<BleSessionInfo> {
    const c = subtle();
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
    if (!cert) throw new BleError("CERT", "The terminal's certificate is malformed");
    let certVerified = false;
    if (this.o.issuerKeys) {
      const ik = this.o.issuerKeys[cert.issuerKeyId];
      if (!ik || !(await verifyRaw(ik, certBytes.subarray(certBytes.length - SIG), signedPart(certBytes)))) {
        throw new BleError("CERT", "The terminal's certificate is not signed by a known issuer");
      }
      certVerified = true;
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
    return { cert, terminalPub: cert.terminalPub, certVerified };
  }

  /** Seals one protocol message (Payment, PaidConfirmation) to the terminal. */
  async send(msg: Uint8Array): Promise<void> {
    if (!this.w2t) throw new BleError("STATE", "open() the session first");
    const env = await sealAsync(this.w2t, ++this.sendSeq, msg);
    this.write(concat([new Uint8Array([BleMsg.Data]), env]));
  }

  /**
   * The next protocol message from the terminal, decrypted and authenticated. Throws BleError: the terminal's
   * ERROR code (B01..B06), B03 (a message that fails authentication), B04 (replayed), TIMEOUT.
   */
  async next(): Promise<Uint8Array> {
    if (!this.t2w) throw new BleError("STATE", "open() the session first");
    const m = await this.take();
    if (m[0] !== BleMsg.Data) throw new BleError("B05", "Unexpected message from the terminal (type " + m[0] + ")");
    const r = await unsealAsync(this.t2w, m.subarray(1));
    if ("err" in r) throw new BleError("B03", "A message from the terminal failed authentication (" + r.err + ")");
    if (r.seq <= this.recvSeq) throw new BleError("B04", "A message from the terminal was replayed");
    this.recvSeq = r.seq;
    return r.data;
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

/**
 * A whole payment over an open session: the terminal's Request arrives, the wallet pays it, the Payment goes back,
 * and the terminal's Receipt is checked against the terminal key from its certificate.
 */
export async function payOverBle(wallet: Wallet, s: WalletBleSession, info: BleSessionInfo): Promise<{ payment: PaymentOut; receipt: ReceiptCheck }> {
  const req = await s.next();
  if (req.length < 2 || req[1] !== MsgType.Request) throw new BleError("B05", "The terminal sent something other than a payment request");
  const payment = await wallet.pay(req);
  await s.send(payment.bytes);
  const rc = await s.next();
  const receipt = await wallet.checkReceipt(rc, payment.bytes, info.terminalPub);
  return { payment, receipt };
}
