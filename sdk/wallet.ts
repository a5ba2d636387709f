/**
 * Wallet SDK for the offline payment protocol, version 1 (docs/protocol.md; usage in docs/wallet-sdk.md).
 *
 * A wallet app embeds this module to pay a terminal offline:
 *
 *   const wallet = new Wallet({ keyPair, allowance, store });   // allowance: issuer-signed bytes from the last sync
 *   const { qr, frames } = await wallet.pay(scannedRequestText); // show `qr`, or write `frames` to FFF2 over BLE
 *   const r = await wallet.checkReceipt(receiptBytesOrQrText, payment.bytes, terminalPub);
 *
 * It runs wherever WebCrypto does (browsers, React Native with a WebCrypto polyfill, Node >= 19):
 * ECDSA P-256 with SHA-256, whose `sign` hashes the data and returns R||S, exactly what a terminal verifies.
 *
 * Counters: every payment takes the next counter of the allowance, and the new state is saved through `store`
 * BEFORE the payment is signed, so a crash or a second tap can never make two payments with one counter.
 * The amount counts against the cap as soon as a payment is made: the wallet cannot know whether the terminal
 * took it (a receipt may never arrive), and the terminal and the gateway add it up the same way.
 */
import { concat, toHex } from "../protocol/codec/hex.ts";
import { toFrames } from "../protocol/ble-frames.ts";
import { rejects } from "../protocol/check.ts";
import { utr, txParts } from "../protocol/ids.ts";
import type { Allowance, PaymentRequest, Receipt } from "../protocol/messages.ts";
import { decodeAllowance, decodeReceipt, decodeRequest, encodePayment, MsgType, SIG, signedPart } from "../protocol/messages.ts";
import { fromQrText, toQrText } from "../protocol/qr.ts";
import { relayTerminalId } from "../protocol/relay.ts";
import { fromBase64, toBase64 } from "../protocol/sync.ts";
import { parseRequestQr } from "../protocol/qr-session.ts";
import { sealPaymentForQr } from "./qr-session.ts";

// ---------------------------------------------------------------- WebCrypto, typed just as far as used here

/** An opaque WebCrypto key (CryptoKey). */
export type WebCryptoKey = object;
export interface WebCryptoKeyPair {
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}
/** A P-256 key as a JSON Web Key; `d` is present in a private key. */
export interface P256Jwk {
  kty: "EC" | string;
  crv: "P-256" | string;
  x: string;
  y: string;
  d?: string;
}
interface Subtle {
  generateKey(alg: object, extractable: boolean, usages: string[]): Promise<WebCryptoKeyPair>;
  importKey(format: string, key: object, alg: object, extractable: boolean, usages: string[]): Promise<WebCryptoKey>;
  exportKey(format: string, key: WebCryptoKey): Promise<ArrayBuffer>;
  sign(alg: object, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  verify(alg: object, key: WebCryptoKey, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): Subtle {
  const c = (globalThis as { crypto?: { subtle?: Subtle } }).crypto;
  if (!c || !c.subtle) throw new WalletError("CRYPTO", "WebCrypto (crypto.subtle) is not available here");
  return c.subtle;
}

const EC = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA = { name: "ECDSA", hash: "SHA-256" };

async function sha256(d: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", d));
}

function b64url(b: Uint8Array): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] || 0) << 8) | (b[i + 2] || 0);
    s += A[(n >> 18) & 63] + A[(n >> 12) & 63] + (i + 1 < b.length ? A[(n >> 6) & 63] : "") + (i + 2 < b.length ? A[n & 63] : "");
  }
  return s;
}

/** A verify key for a raw X||Y public key (a terminal's, from its certificate). */
async function importPublicRaw(xy: Uint8Array): Promise<WebCryptoKey> {
  if (xy.length !== 64) throw new WalletError("KEY", "a public key is 64 bytes (X||Y), got " + xy.length);
  return subtle().importKey("jwk", { kty: "EC", crv: "P-256", x: b64url(xy.subarray(0, 32)), y: b64url(xy.subarray(32)), ext: true }, EC, true, ["verify"]);
}

// ---------------------------------------------------------------- public types

/** An error the wallet app can show: `code` is a reject code (R01..R12) when the terminal would refuse the same. */
export class WalletError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "WalletError";
  }
}

/** One payment this wallet made under its current allowance. */
export interface PaymentRecord {
  counter: number;
  terminalId: number;
  amountMinor: number;
  currency: number;
  /** The request's time (terminal's clock), Unix seconds. */
  time: number;
  /** The request's nonce, hex. */
  nonce: string;
  /** SHA-256(payment)[0..8], hex: what the terminal's receipt must carry. */
  paymentHash: string;
  /** Set by checkReceipt. */
  receipt?: { txId: string; utr: string; status: number; time: number; signatureVerified: boolean };
}

/** What the wallet persists (JSON-able). */
export interface WalletState {
  v: 1;
  /** Identifies the allowance the state belongs to: hex of its issuer signature's first 16 bytes. */
  allowanceId: string;
  /** Next counter to use. */
  nextCounter: number;
  /** Sum of all payments made under the allowance, minor units. */
  spentMinor: number;
  payments: PaymentRecord[];
  /**
   * Relay bundles terminals handed this phone for the gateway (base64, unchanged: docs/protocol.md, "Relayed
   * records"), oldest first; the gateway client uploads them at the next sync. Absent in states from before.
   */
  relayed?: string[];
}

export interface WalletStore {
  load(): WalletState | null;
  save(s: WalletState): void;
}

export interface WalletOptions {
  /** The wallet's P-256 key: a WebCrypto key pair, or a private JWK (with d, x, y). */
  keyPair: WebCryptoKeyPair | P256Jwk;
  /** The issuer-signed Allowance message (140 bytes) from the wallet's last sync. */
  allowance: Uint8Array;
  /** Where counters and spending are kept; in memory only when absent (then counters restart with the app!). */
  store?: WalletStore;
}

export interface PaymentOut {
  /**
   * QR text to show. For an encrypted request ("R2…") it is the sealed "P2…" form (467 characters, QR version 13 at
   * ECC level M, alphanumeric mode): only the terminal that showed the request can read it. For an "R1…" request
   * (or Request bytes from Bluetooth, whose session is already encrypted) it is "P1" + Base45 (311 characters,
   * version 10-M).
   */
  qr: string;
  /** True when `qr` is the encrypted "P2…" form. */
  encrypted: boolean;
  /** The binary Payment message (206 bytes). */
  bytes: Uint8Array;
  /** The message as Bluetooth LE writes of at most 20 bytes, for characteristic FFF2. */
  frames: Uint8Array[];
  /** The request that was paid, decoded. */
  request: PaymentRequest;
  counter: number;
}

export interface ReceiptCheck {
  receipt: Receipt;
  /** The customer's reference, XXXX-XXXX-XXXX. */
  utr: string;
  /** txId as hex (terminalId || sequence). */
  txId: string;
  /** True when the terminal's signature was checked against the given terminal key (false: not checked). */
  signatureVerified: boolean;
}

// ---------------------------------------------------------------- the wallet

/** Most relay bundles a wallet keeps for the gateway at once (each at most 1,404 bytes). */
export const MAX_RELAYED = 16;

export class Wallet {
  private allowanceMsg: Uint8Array;
  private fields: Allowance;
  private readonly store: WalletStore | undefined;
  private mem: WalletState | null = null;
  private keys: Promise<{ priv: WebCryptoKey; pubRaw: Uint8Array }>;
  /** Serialises pay() calls so two taps cannot race for a counter. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(o: WalletOptions) {
    this.store = o.store;
    this.allowanceMsg = new Uint8Array(0);
    this.fields = null as unknown as Allowance;
    this.setAllowance(o.allowance);
    this.keys = loadKeys(o.keyPair);
    this.keys.catch(() => {}); // reported by the first call that needs the key
  }

  /** A new P-256 key pair for a wallet; non-extractable private key unless asked (e.g. to store it as a JWK). */
  static generateKey(extractable = false): Promise<WebCryptoKeyPair> {
    return subtle().generateKey(EC, extractable, ["sign", "verify"]);
  }

  /** X||Y (64 bytes) of a key pair, before any allowance exists (to enrol the wallet with the issuer). */
  static async publicKeyOf(keyPair: WebCryptoKeyPair | P256Jwk): Promise<Uint8Array> {
    return new Uint8Array((await loadKeys(keyPair)).pubRaw);
  }

  /** The wallet public key X||Y (64 bytes): what the issuer puts in the allowance. */
  async publicKeyRaw(): Promise<Uint8Array> {
    return new Uint8Array((await this.keys).pubRaw);
  }

  /** The allowance in use as the issuer-signed message (140 bytes). */
  allowanceMessage(): Uint8Array {
    return new Uint8Array(this.allowanceMsg);
  }

  /** The allowance in use, decoded. */
  allowance(): Allowance {
    return this.fields;
  }

  /**
   * Takes a new allowance (after a sync). Spending and counters restart only when it is a different allowance;
   * the counter never goes below what this wallet already used, even if the new allowance starts lower.
   */
  setAllowance(bytes: Uint8Array): void {
    const a = decodeAllowance(bytes);
    if (!a) throw new WalletError("ALLOWANCE", "not a version-1 Allowance message of 140 bytes");
    const prev = this.currentState();
    this.allowanceMsg = new Uint8Array(bytes);
    this.fields = a;
    const id = toHex(a.issuerSig.subarray(0, 16));
    if (!prev || prev.allowanceId !== id) {
      const next = Math.max(a.startCounter, prev ? prev.nextCounter : 0);
      const fresh: WalletState = { v: 1, allowanceId: id, nextCounter: next, spentMinor: 0, payments: [] };
      // bundles still to carry are the gateway's, not the allowance's: they survive a new allowance
      if (prev && prev.relayed && prev.relayed.length) fresh.relayed = prev.relayed.slice();
      this.write(fresh);
    }
  }

  /**
   * Keeps a relay bundle a terminal sent over Bluetooth (sdk/ble.ts does it in payOverBle) for the gateway, bytes
   * unchanged; the gateway client uploads it at the next sync. The same bundle twice is kept once; past
   * MAX_RELAYED the oldest is let go (its terminal still holds the records and uploads them itself). Throws
   * WalletError RELAY for bytes that are no relay bundle.
   */
  keepRelayed(bundle: Uint8Array): void {
    if (relayTerminalId(bundle) === null) throw new WalletError("RELAY", "not a relay bundle (01 50, terminal ID, sealed records)");
    const s = this.state();
    const b64 = toBase64(bundle);
    const list = (s.relayed || []).filter((x) => x !== b64);
    list.push(b64);
    s.relayed = list.slice(-MAX_RELAYED);
    this.write(s);
  }

  /** The relay bundles waiting for the gateway, oldest first (copies). */
  relayedBundles(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const b of this.currentState()?.relayed || []) {
      const bytes = fromBase64(b);
      if (bytes) out.push(bytes);
    }
    return out;
  }

  /** Lets go of a relay bundle (the gateway took it, or will never take it). */
  dropRelayed(bundle: Uint8Array): void {
    const s = this.state();
    if (!s.relayed) return;
    const b64 = toBase64(bundle);
    s.relayed = s.relayed.filter((x) => x !== b64);
    this.write(s);
  }

  /** A copy of the persisted state. */
  state(): WalletState {
    return JSON.parse(JSON.stringify(this.currentState())) as WalletState;
  }

  /** What the wallet may still spend offline under its allowance, minor units. */
  remaining(): number {
    return Math.max(0, this.fields.capMinor - (this.currentState() as WalletState).spentMinor);
  }

  /**
   * Pays the request a terminal shows ("R2…" or "R1…" QR text, or the binary Request bytes received over Bluetooth).
   * Throws WalletError: R01 (not a request / damaged), R02 (newer version), R05 (allowance expired by the
   * terminal's date), R06 (request currency is not the allowance's), R07 (amount over what remains), KEY (the
   * allowance is for another key), COUNTER (the allowance's counters are used up: sync for a new one).
   */
  pay(request: string | Uint8Array): Promise<PaymentOut> {
    const run = this.queue.then(() => this.payNow(request));
    this.queue = run.catch(() => {});
    return run;
  }

  private async payNow(request: string | Uint8Array): Promise<PaymentOut> {
    let reqBytes: Uint8Array;
    let sessionKey: Uint8Array | null = null;
    const r2 = typeof request === "string" ? parseRequestQr(request) : null;
    if (r2) {
      reqBytes = new Uint8Array(r2.request);
      sessionKey = new Uint8Array(r2.sessionKey);
    } else if (typeof request === "string") {
      const parsed = fromQrText(request);
      if ("err" in parsed) {
        throw parsed.err === "version"
          ? new WalletError("R02", "The request is from a newer protocol version; update the app")
          : new WalletError("R01", "Not a payment request, or the code is damaged");
      }
      reqBytes = parsed.msg;
    } else reqBytes = new Uint8Array(request);
    const q = decodeRequest(reqBytes);
    if (!q) throw new WalletError("R01", "Not a payment request, or the code is damaged");
    const a = this.fields;
    const { priv, pubRaw } = await this.keys;
    if (toHex(pubRaw) !== toHex(a.walletPub)) throw new WalletError("KEY", "The allowance was issued for another wallet key");
    const day = Math.floor(q.time / 86400);
    if (a.expiryDay < day) throw new WalletError("R05", rejects().R05 + ": it ended on day " + a.expiryDay + ", the terminal's date is day " + day + "; sync to renew it");
    if (q.currency !== a.currency) throw new WalletError("R06", rejects().R06 + ": the terminal asks in currency " + q.currency + ", this allowance is in " + a.currency);
    if (!(q.amountMinor > 0)) throw new WalletError("R01", "The request is for no amount");
    const left = this.remaining();
    if (q.amountMinor > left) throw new WalletError("R07", rejects().R07 + ": " + q.amountMinor + " asked, " + left + " left offline");
    // Reserve the counter and the amount, persisted, before anything is signed.
    const s = this.currentState() as WalletState;
    const counter = s.nextCounter;
    if (counter > 0xffff) throw new WalletError("COUNTER", "This allowance's payment counters are used up; sync to get a new allowance");
    const rec: PaymentRecord = {
      counter,
      terminalId: q.terminalId,
      amountMinor: q.amountMinor,
      currency: q.currency,
      time: q.time,
      nonce: toHex(q.nonce),
      paymentHash: "",
    };
    this.write({ ...s, nextCounter: counter + 1, spentMinor: s.spentMinor + q.amountMinor, payments: s.payments.concat([rec]) });

    const unsigned = encodePayment({ allowance: a, counter, walletSig: new Uint8Array(SIG) });
    const sig = new Uint8Array(await subtle().sign(ECDSA, priv, concat([signedPart(unsigned), reqBytes])));
    if (sig.length !== SIG) throw new WalletError("CRYPTO", "the platform's ECDSA signature is not R||S (64 bytes)");
    const bytes = new Uint8Array(unsigned);
    bytes.set(sig, bytes.length - SIG);
    rec.paymentHash = toHex((await sha256(bytes)).subarray(0, 8));
    this.updateRecord(counter, (r) => (r.paymentHash = rec.paymentHash));
    const qr = sessionKey ? await sealPaymentForQr(reqBytes, sessionKey, bytes) : toQrText(bytes);
    return { qr, encrypted: !!sessionKey, bytes, frames: toFrames(bytes), request: q, counter };
  }

  /**
   * The wallet key's signature (R||S, 64 bytes) over SHA-256 of `bytes`: for the gateway's wallet API, whose
   * requests are signed over protocol/wallet-api.ts's walletRequestBytes (a domain that can never be a payment).
   */
  async signApiRequest(bytes: Uint8Array): Promise<Uint8Array> {
    if (bytes.length < 1 || bytes[0] < 0x20) throw new WalletError("KEY", "only wallet-API request bytes are signed here");
    const { priv } = await this.keys;
    return new Uint8Array(await subtle().sign(ECDSA, priv, bytes));
  }

  /**
   * Checks the terminal's receipt for a payment this wallet made: its paymentHash must be SHA-256(payment)[0..8],
   * and, when the terminal's public key is given (from its TerminalCert), its signature must be the terminal's.
   * Throws WalletError RECEIPT (not a receipt), MISMATCH (for another payment), SIGNATURE (not the terminal's).
   */
  async checkReceipt(receipt: Uint8Array | string, payment: Uint8Array, terminalPub?: Uint8Array): Promise<ReceiptCheck> {
    let bytes: Uint8Array | null = null;
    if (typeof receipt === "string") {
      const parsed = fromQrText(receipt);
      if ("msg" in parsed) bytes = parsed.msg;
    } else bytes = receipt;
    const r = bytes ? decodeReceipt(bytes) : null;
    if (!r || !bytes) throw new WalletError("RECEIPT", "Not a receipt, or the code is damaged");
    if (payment.length < 2 || payment[1] !== MsgType.Payment) throw new WalletError("RECEIPT", "the second argument must be the Payment bytes pay() returned");
    const hash = (await sha256(payment)).subarray(0, 8);
    if (toHex(hash) !== toHex(r.paymentHash)) throw new WalletError("MISMATCH", "This receipt is for a different payment");
    let verified = false;
    if (terminalPub) {
      const key = await importPublicRaw(terminalPub);
      verified = await subtle().verify(ECDSA, key, bytes.subarray(bytes.length - SIG), signedPart(bytes));
      if (!verified) throw new WalletError("SIGNATURE", "The receipt is not signed by this terminal");
    }
    const parts = txParts(r.txId);
    const out: ReceiptCheck = { receipt: r, utr: utr(parts.terminalId, parts.seq), txId: toHex(r.txId), signatureVerified: verified };
    const hex = toHex(hash);
    const s = this.currentState() as WalletState;
    for (const p of s.payments) {
      if (p.paymentHash === hex) {
        this.updateRecord(p.counter, (x) => (x.receipt = { txId: out.txId, utr: out.utr, status: r.status, time: r.time, signatureVerified: verified }));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- state

  private currentState(): WalletState | null {
    if (this.store) return this.store.load();
    return this.mem;
  }

  private write(s: WalletState): void {
    if (this.store) this.store.save(JSON.parse(JSON.stringify(s)) as WalletState);
    else this.mem = s;
  }

  private updateRecord(counter: number, f: (r: PaymentRecord) => void): void {
    const s = this.state();
    for (const p of s.payments) if (p.counter === counter) f(p);
    this.write(s);
  }
}

async function loadKeys(k: WebCryptoKeyPair | P256Jwk): Promise<{ priv: WebCryptoKey; pubRaw: Uint8Array }> {
  const c = subtle();
  let priv: WebCryptoKey;
  let pub: WebCryptoKey;
  if ("privateKey" in k) {
    priv = k.privateKey;
    pub = k.publicKey;
  } else {
    if (k.kty !== "EC" || k.crv !== "P-256" || !k.d) throw new WalletError("KEY", "the JWK must be a private P-256 EC key (kty EC, crv P-256, d, x, y)");
    priv = await c.importKey("jwk", { kty: "EC", crv: "P-256", x: k.x, y: k.y, d: k.d }, EC, false, ["sign"]);
    pub = await c.importKey("jwk", { kty: "EC", crv: "P-256", x: k.x, y: k.y }, EC, true, ["verify"]);
  }
  const raw = new Uint8Array(await c.exportKey("raw", pub));
  if (raw.length !== 65 || raw[0] !== 4) throw new WalletError("KEY", "not an uncompressed P-256 public key");
  return { priv, pubRaw: raw.subarray(1) };
}
