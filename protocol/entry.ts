/**
 * Journal entries: the payload of one journal record (firmware/journal/), what the terminal uploads to the gateway.
 * Big-endian, fixed layouts (docs/protocol.md section 7). Every entry starts `kind u8 | txId (8)`:
 *
 *   kind 1 WalletPayment  kind | txId | method u8 (1 QR, 2 BLE) | request (88) | payment (206) | orderRef (12) = 316
 *   kind 2 InvoicePaid    kind | txId | method u8 (3 QR, 4 BLE, 5 online notice) | paid (94) | orderRef (12) = 116
 *   kind 3 Refund         kind | txId (the refund's own) | refund (85; its txId names the original)           =  94
 *
 * The embedded messages are kept whole (signatures included) so the gateway can verify every one again.
 * orderRef is up to 12 printable ASCII characters, zero-padded; all zeros means none ("").
 *
 *   const bytes = encodeEntry({ kind: EntryKind.WalletPayment, txId, method: 1, request, payment, orderRef: "" });
 *   const e = decodeEntry(bytes); // null when malformed
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { walletIdOf } from "./rules.ts";
import { Len, MsgType, VERSION } from "./messages.ts";

export const enum EntryKind {
  WalletPayment = 1,
  InvoicePaid = 2,
  Refund = 3,
}

export const enum EntryMethod {
  Qr = 1,
  Ble = 2,
  PaidByQr = 3,
  PaidByBle = 4,
  PaidOnline = 5,
}

export const enum EntryLen {
  WalletPayment = 316,
  InvoicePaid = 116,
  Refund = 94,
}

/** Bytes of an order reference on the wire. */
export const ORDER_REF = 12;

export interface WalletPaymentEntry {
  kind: 1;
  txId: Uint8Array; // 8
  method: number; // 1 QR, 2 BLE
  request: Uint8Array; // 88, as signed by the terminal
  payment: Uint8Array; // 206, as signed by the wallet
  orderRef: string; // "" = none
}

export interface InvoicePaidEntry {
  kind: 2;
  txId: Uint8Array;
  method: number; // 3 confirmation by QR, 4 by BLE, 5 online notice
  paid: Uint8Array; // 94, the issuer's paid confirmation
  orderRef: string;
}

export interface RefundEntry {
  kind: 3;
  txId: Uint8Array; // the refund's own
  refund: Uint8Array; // 85; its txId field names the original transaction
}

export type Entry = WalletPaymentEntry | InvoicePaidEntry | RefundEntry;

function put(out: Uint8Array, at: number, b: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) out[at + i] = i < b.length ? b[i] : 0;
  return at + n;
}

function putRef(out: Uint8Array, at: number, ref: string): number {
  for (let i = 0; i < ORDER_REF; i++) out[at + i] = i < ref.length ? ref.charCodeAt(i) & 255 : 0;
  return at + ORDER_REF;
}

/** A copy as a Uint8Array (on Espruino a typed array's slice() returns a plain Array). */
function take(b: Uint8Array, at: number, n: number): Uint8Array {
  return new Uint8Array(b.subarray(at, at + n));
}

/** The order reference, "" for none, or null when it is not printable ASCII with zero padding only at the end. */
function readRef(b: Uint8Array, at: number): string | null {
  let s = "";
  let ended = false;
  for (let i = 0; i < ORDER_REF; i++) {
    const c = b[at + i];
    if (c === 0) ended = true;
    else if (ended || c < 0x21 || c > 0x7e) return null;
    else s += String.fromCharCode(c);
  }
  return s;
}

/** An embedded message of the right length starts with the protocol version and its type. */
function isMsg(b: Uint8Array, at: number, type: number): boolean {
  return b[at] === VERSION && b[at + 1] === type;
}

/**
 * The bytes of an entry. Byte fields are written at their fixed lengths (a short field would be zero-filled, so
 * callers pass the messages whole); check with decodeEntry when the input is not trusted.
 */
export function encodeEntry(e: Entry): Uint8Array {
  let out: Uint8Array;
  let at = 1;
  if (e.kind === EntryKind.WalletPayment) {
    out = new Uint8Array(EntryLen.WalletPayment);
    at = put(out, at, e.txId, 8);
    out[at++] = e.method;
    at = put(out, at, e.request, Len.Request);
    at = put(out, at, e.payment, Len.Payment);
    putRef(out, at, e.orderRef);
  } else if (e.kind === EntryKind.InvoicePaid) {
    out = new Uint8Array(EntryLen.InvoicePaid);
    at = put(out, at, e.txId, 8);
    out[at++] = e.method;
    at = put(out, at, e.paid, Len.PaidConfirmation);
    putRef(out, at, e.orderRef);
  } else {
    out = new Uint8Array(EntryLen.Refund);
    at = put(out, at, e.txId, 8);
    put(out, at, e.refund, Len.Refund);
  }
  out[0] = e.kind;
  return out;
}

/**
 * The entry, or null when the bytes are not exactly one well-formed entry: unknown kind, wrong length, a method
 * that does not belong to the kind, an embedded message without its version and type, a bad order reference.
 * Signatures are not checked here (the terminal made them or checked them before journaling; the gateway checks
 * them all again).
 */
export function decodeEntry(b: Uint8Array): Entry | null {
  if (!b || b.length < 9) return null;
  const kind = b[0];
  const txId = take(b, 1, 8);
  if (kind === EntryKind.WalletPayment) {
    if (b.length !== EntryLen.WalletPayment) return null;
    const method = b[9];
    if (method !== EntryMethod.Qr && method !== EntryMethod.Ble) return null;
    if (!isMsg(b, 10, MsgType.Request) || !isMsg(b, 10 + Len.Request, MsgType.Payment)) return null;
    const orderRef = readRef(b, 10 + Len.Request + Len.Payment);
    if (orderRef === null) return null;
    return {
      kind: 1,
      txId: txId,
      method: method,
      request: take(b, 10, Len.Request),
      payment: take(b, 10 + Len.Request, Len.Payment),
      orderRef: orderRef,
    };
  }
  if (kind === EntryKind.InvoicePaid) {
    if (b.length !== EntryLen.InvoicePaid) return null;
    const method = b[9];
    if (method !== EntryMethod.PaidByQr && method !== EntryMethod.PaidByBle && method !== EntryMethod.PaidOnline) return null;
    if (!isMsg(b, 10, MsgType.PaidConfirmation)) return null;
    const orderRef = readRef(b, 10 + Len.PaidConfirmation);
    if (orderRef === null) return null;
    return { kind: 2, txId: txId, method: method, paid: take(b, 10, Len.PaidConfirmation), orderRef: orderRef };
  }
  if (kind === EntryKind.Refund) {
    if (b.length !== EntryLen.Refund) return null;
    if (!isMsg(b, 9, MsgType.Refund)) return null;
    return { kind: 3, txId: txId, refund: take(b, 9, Len.Refund) };
  }
  return null;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

/**
 * The entry's amount in minor units, read from the signed message inside it: the request's amount for a wallet
 * payment, the confirmation's for a paid invoice, minus the refund's for a refund or void.
 */
export function entryAmount(e: Entry): number {
  // offsets inside the messages (docs/protocol.md section 2): version, type, then the fields
  if (e.kind === EntryKind.WalletPayment) return u32(e.request, 6); // terminalId (4) | amount
  if (e.kind === EntryKind.InvoicePaid) return u32(e.paid, 10); // terminalId (4) | invoiceNo (4) | amount
  return -u32(e.refund, 10); // txId (8) | amount
}

/** The entry's currency (ISO 4217 numeric), read the same way. */
export function entryCurrency(e: Entry): number {
  if (e.kind === EntryKind.WalletPayment) return e.request[10] * 256 + e.request[11];
  if (e.kind === EntryKind.InvoicePaid) return e.paid[14] * 256 + e.paid[15];
  return e.refund[14] * 256 + e.refund[15];
}

/**
 * The paying wallet's ID (first 8 bytes of SHA-256 of its public key, hex; protocol/rules.ts
 * walletIdOf) for a wallet payment; "" for the other kinds, which no wallet signed.
 */
export function entryWalletId(c: CryptoBackend, e: Entry): string {
  if (e.kind !== EntryKind.WalletPayment) return "";
  // the payment carries the allowance without its 2 header bytes; the wallet key is its first field
  return walletIdOf(c, e.payment.subarray(2, 66));
}
