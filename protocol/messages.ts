/**
 * The offline payment protocol's messages, version 1: fixed binary layouts (big-endian), pure encode/decode.
 * docs/protocol.md is the specification; byte offsets here follow its tables.
 *
 * Every signed message is `body || signature`, where signature = ECDSA P-256 (R||S, 64 bytes) over
 * SHA-256(body). A message starts with VERSION and its type, so a signature can never be replayed as another type.
 */

export const VERSION = 1;
export const SIG = 64;
export const PUB = 64;

export const enum MsgType {
  Allowance = 0x01,
  TerminalCert = 0x02,
  Request = 0x10,
  Payment = 0x11,
  Receipt = 0x12,
  Invoice = 0x20,
  PaidConfirmation = 0x21,
  Order = 0x30,
  Refund = 0x40,
  /** A relay bundle (protocol/relay.ts): not signed, sealed to the gateway; variable length. */
  Relay = 0x50,
}

/** Fixed lengths, signature included. */
export const enum Len {
  Allowance = 140,
  TerminalCert = 141,
  Request = 88,
  Payment = 206,
  Receipt = 87,
  Invoice = 84,
  PaidConfirmation = 94,
  Order = 44,
  Refund = 85,
}

export interface Allowance {
  walletPub: Uint8Array; // 64, X||Y
  capMinor: number; // u24: most the wallet may spend offline under this allowance
  currency: number; // ISO 4217 numeric, e.g. 978 = EUR
  expiryDay: number; // u16, days since 1970-01-01 (UTC); valid through the end of that day
  startCounter: number; // u16: first counter value the wallet may use
  issuerKeyId: number; // u8
  issuerSig: Uint8Array; // 64
}

export interface TerminalCert {
  terminalId: number; // u32
  merchantId: number; // u32
  terminalPub: Uint8Array; // 64
  expiryDay: number; // u16
  issuerKeyId: number; // u8
  issuerSig: Uint8Array; // 64
}

export interface PaymentRequest {
  terminalId: number; // u32
  amountMinor: number; // u32
  currency: number; // u16
  nonce: Uint8Array; // 8, from the secure element's RNG
  time: number; // u32, Unix seconds, the terminal's trusted time
  terminalSig: Uint8Array; // 64
}

export interface Payment {
  allowance: Allowance;
  counter: number; // u16, strictly increasing per allowance
  walletSig: Uint8Array; // 64, over SHA-256(payment body || the request it answers, whole)
}

export interface Receipt {
  txId: Uint8Array; // 8: terminalId u32 || sequence u32
  status: number; // u8: 0 = accepted offline (pending), 1 = settled
  time: number; // u32
  paymentHash: Uint8Array; // 8: SHA-256(payment)[0..8]
  terminalSig: Uint8Array;
}

export interface Invoice {
  terminalId: number;
  invoiceNo: number; // u32, from the terminal's counter
  amountMinor: number;
  currency: number;
  expires: number; // u32 Unix seconds
  terminalSig: Uint8Array;
}

export interface PaidConfirmation {
  terminalId: number;
  invoiceNo: number;
  amountMinor: number;
  currency: number;
  paidAt: number; // u32
  method: number; // u8: 1 card, 2 debit card, 3 wallet
  paymentRef: Uint8Array; // 8, the gateway's reference
  issuerKeyId: number;
  issuerSig: Uint8Array;
}

export interface Order {
  merchantId: number;
  orderRef: string; // up to 12 ASCII characters, zero-padded on the wire
  amountMinor: number;
  currency: number;
  expires: number;
  tag: Uint8Array; // 16: HMAC-SHA256(merchant's order key, body)[0..16]
}

export interface Refund {
  txId: Uint8Array; // 8
  amountMinor: number;
  currency: number;
  time: number;
  reason: number; // u8
  terminalSig: Uint8Array;
}

// ---------------------------------------------------------------- byte helpers

/** A cursor over a message; every read checks bounds, so malformed input can only produce `ok = false`. */
export class Reader {
  pos = 0;
  ok = true;
  constructor(readonly b: Uint8Array) {}
  u8(): number {
    if (this.pos + 1 > this.b.length) {
      this.ok = false;
      return 0;
    }
    return this.b[this.pos++];
  }
  u16(): number {
    return this.u8() * 256 + this.u8();
  }
  u24(): number {
    return this.u8() * 65536 + this.u16();
  }
  u32(): number {
    return this.u16() * 65536 + this.u16();
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.b.length) {
      this.ok = false;
      return new Uint8Array(n);
    }
    // a copy as a Uint8Array: on Espruino a typed array's slice() returns a plain Array
    const out = new Uint8Array(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

export class Writer {
  pos = 0;
  readonly b: Uint8Array;
  constructor(n: number) {
    this.b = new Uint8Array(n);
  }
  u8(v: number): Writer {
    this.b[this.pos++] = v & 255;
    return this;
  }
  u16(v: number): Writer {
    return this.u8(v >> 8).u8(v);
  }
  u24(v: number): Writer {
    return this.u8(Math.floor(v / 65536)).u16(v & 0xffff);
  }
  u32(v: number): Writer {
    return this.u16(Math.floor(v / 65536) & 0xffff).u16(v & 0xffff);
  }
  bytes(v: Uint8Array, n: number): Writer {
    for (let i = 0; i < n; i++) this.b[this.pos++] = i < v.length ? v[i] : 0;
    return this;
  }
}

function header(w: Writer, t: number): Writer {
  return w.u8(VERSION).u8(t);
}

/** Reads and checks version and type; false (and reader not ok) on any mismatch or wrong total length. */
function open(r: Reader, t: number, len: number): boolean {
  if (r.b.length !== len) return false;
  return r.u8() === VERSION && r.u8() === t;
}

// ---------------------------------------------------------------- codecs

export function encodeAllowance(a: Allowance): Uint8Array {
  const w = header(new Writer(Len.Allowance), MsgType.Allowance);
  return w.bytes(a.walletPub, PUB).u24(a.capMinor).u16(a.currency).u16(a.expiryDay).u16(a.startCounter).u8(a.issuerKeyId).bytes(a.issuerSig, SIG).b;
}

function readAllowance(r: Reader): Allowance {
  return {
    walletPub: r.bytes(PUB),
    capMinor: r.u24(),
    currency: r.u16(),
    expiryDay: r.u16(),
    startCounter: r.u16(),
    issuerKeyId: r.u8(),
    issuerSig: r.bytes(SIG),
  };
}

export function decodeAllowance(b: Uint8Array): Allowance | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Allowance, Len.Allowance)) return null;
  const a = readAllowance(r);
  return r.ok ? a : null;
}

export function encodeTerminalCert(c: TerminalCert): Uint8Array {
  const w = header(new Writer(Len.TerminalCert), MsgType.TerminalCert);
  return w.u32(c.terminalId).u32(c.merchantId).bytes(c.terminalPub, PUB).u16(c.expiryDay).u8(c.issuerKeyId).bytes(c.issuerSig, SIG).b;
}

export function decodeTerminalCert(b: Uint8Array): TerminalCert | null {
  const r = new Reader(b);
  if (!open(r, MsgType.TerminalCert, Len.TerminalCert)) return null;
  const c = { terminalId: r.u32(), merchantId: r.u32(), terminalPub: r.bytes(PUB), expiryDay: r.u16(), issuerKeyId: r.u8(), issuerSig: r.bytes(SIG) };
  return r.ok ? c : null;
}

export function encodeRequest(q: PaymentRequest): Uint8Array {
  const w = header(new Writer(Len.Request), MsgType.Request);
  return w.u32(q.terminalId).u32(q.amountMinor).u16(q.currency).bytes(q.nonce, 8).u32(q.time).bytes(q.terminalSig, SIG).b;
}

export function decodeRequest(b: Uint8Array): PaymentRequest | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Request, Len.Request)) return null;
  const q = { terminalId: r.u32(), amountMinor: r.u32(), currency: r.u16(), nonce: r.bytes(8), time: r.u32(), terminalSig: r.bytes(SIG) };
  return r.ok ? q : null;
}

/**
 * A payment carries its allowance without the allowance's 2 header bytes (its type is implied); they are put
 * back before the issuer's signature is checked, so the signature still covers them. This keeps a payment at
 * 206 bytes: "P1" + Base45 = 311 characters, the alphanumeric capacity of QR version 10 at ECC level M.
 */
export function encodePayment(p: Payment): Uint8Array {
  const w = header(new Writer(Len.Payment), MsgType.Payment);
  w.bytes(encodeAllowance(p.allowance).subarray(2), Len.Allowance - 2);
  return w.u16(p.counter).bytes(p.walletSig, SIG).b;
}

export function decodePayment(b: Uint8Array): Payment | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Payment, Len.Payment)) return null;
  const whole = new Uint8Array(Len.Allowance);
  whole[0] = VERSION;
  whole[1] = MsgType.Allowance;
  whole.set(r.bytes(Len.Allowance - 2), 2);
  const allowance = decodeAllowance(whole);
  const p = { allowance: allowance as Allowance, counter: r.u16(), walletSig: r.bytes(SIG) };
  return r.ok && allowance ? p : null;
}

export function encodeReceipt(x: Receipt): Uint8Array {
  const w = header(new Writer(Len.Receipt), MsgType.Receipt);
  return w.bytes(x.txId, 8).u8(x.status).u32(x.time).bytes(x.paymentHash, 8).bytes(x.terminalSig, SIG).b;
}

export function decodeReceipt(b: Uint8Array): Receipt | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Receipt, Len.Receipt)) return null;
  const x = { txId: r.bytes(8), status: r.u8(), time: r.u32(), paymentHash: r.bytes(8), terminalSig: r.bytes(SIG) };
  return r.ok ? x : null;
}

export function encodeInvoice(v: Invoice): Uint8Array {
  const w = header(new Writer(Len.Invoice), MsgType.Invoice);
  return w.u32(v.terminalId).u32(v.invoiceNo).u32(v.amountMinor).u16(v.currency).u32(v.expires).bytes(v.terminalSig, SIG).b;
}

export function decodeInvoice(b: Uint8Array): Invoice | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Invoice, Len.Invoice)) return null;
  const v = { terminalId: r.u32(), invoiceNo: r.u32(), amountMinor: r.u32(), currency: r.u16(), expires: r.u32(), terminalSig: r.bytes(SIG) };
  return r.ok ? v : null;
}

export function encodePaid(c: PaidConfirmation): Uint8Array {
  const w = header(new Writer(Len.PaidConfirmation), MsgType.PaidConfirmation);
  return w.u32(c.terminalId).u32(c.invoiceNo).u32(c.amountMinor).u16(c.currency).u32(c.paidAt).u8(c.method).bytes(c.paymentRef, 8).u8(c.issuerKeyId).bytes(c.issuerSig, SIG).b;
}

export function decodePaid(b: Uint8Array): PaidConfirmation | null {
  const r = new Reader(b);
  if (!open(r, MsgType.PaidConfirmation, Len.PaidConfirmation)) return null;
  const c = {
    terminalId: r.u32(),
    invoiceNo: r.u32(),
    amountMinor: r.u32(),
    currency: r.u16(),
    paidAt: r.u32(),
    method: r.u8(),
    paymentRef: r.bytes(8),
    issuerKeyId: r.u8(),
    issuerSig: r.bytes(SIG),
  };
  return r.ok ? c : null;
}

export function encodeOrder(o: Order): Uint8Array {
  const w = header(new Writer(Len.Order), MsgType.Order).u32(o.merchantId);
  for (let i = 0; i < 12; i++) w.u8(i < o.orderRef.length ? o.orderRef.charCodeAt(i) : 0);
  return w.u32(o.amountMinor).u16(o.currency).u32(o.expires).bytes(o.tag, 16).b;
}

export function decodeOrder(b: Uint8Array): Order | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Order, Len.Order)) return null;
  const merchantId = r.u32();
  let orderRef = "";
  let ended = false;
  for (let i = 0; i < 12; i++) {
    const c = r.u8();
    if (c === 0) ended = true;
    else if (ended || c < 0x21 || c > 0x7e) return null; // printable ASCII, zero padding only at the end
    else orderRef += String.fromCharCode(c);
  }
  if (!orderRef) return null;
  const o = { merchantId, orderRef, amountMinor: r.u32(), currency: r.u16(), expires: r.u32(), tag: r.bytes(16) };
  return r.ok ? o : null;
}

export function encodeRefund(x: Refund): Uint8Array {
  const w = header(new Writer(Len.Refund), MsgType.Refund);
  return w.bytes(x.txId, 8).u32(x.amountMinor).u16(x.currency).u32(x.time).u8(x.reason).bytes(x.terminalSig, SIG).b;
}

export function decodeRefund(b: Uint8Array): Refund | null {
  const r = new Reader(b);
  if (!open(r, MsgType.Refund, Len.Refund)) return null;
  const x = { txId: r.bytes(8), amountMinor: r.u32(), currency: r.u16(), time: r.u32(), reason: r.u8(), terminalSig: r.bytes(SIG) };
  return r.ok ? x : null;
}

/** The bytes a signature covers: the encoded message without its trailing 64-byte signature. */
export function signedPart(encoded: Uint8Array): Uint8Array {
  return encoded.subarray(0, encoded.length - SIG);
}
