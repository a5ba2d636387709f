/**
 * A payment's decoding and its wallet's ID, made once per bytes: an uploaded payment is decoded by each step that reads it (what the
 * upload needs, the signatures sent to the verify threads, the checks, the entry, the ledger row: six times a
 * record), and its decoding (a reader, the allowance's fields, copies of its keys and signatures) was one of the
 * upload path's largest sources of garbage (docs/gateway.md, ingest at the limit, fifth pass). Keyed by the byte
 * array itself: an entry's payment is one view, made when the entry was decoded, and nothing writes into it. The
 * decoded payment is shared: its readers only read it.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { concat } from "../protocol/codec/hex.ts";
import type { Allowance, Payment, PaymentRequest } from "../protocol/messages.ts";
import { decodeAllowance, decodePayment, decodeRequest, signedPart } from "../protocol/messages.ts";
import { walletIdOf } from "../protocol/rules.ts";

/** `make` of a byte array, made once per array (the array itself the key, so a copy of it is made again). */
function perBytes<T>(make: (b: Uint8Array) => T): (b: Uint8Array) => T {
  const made = new WeakMap<Uint8Array, T>();
  return (b) => {
    if (made.has(b)) return made.get(b) as T;
    const v = make(b);
    made.set(b, v);
    return v;
  };
}

/** A payment's decoding, once per bytes. */
export const paymentOf: (b: Uint8Array) => Payment | null = perBytes(decodePayment);

/** A payment request's decoding, once per bytes (the checks and the entry each read it). */
export const requestOf: (b: Uint8Array) => PaymentRequest | null = perBytes(decodeRequest);

const walletIds = new WeakMap<Uint8Array, string>();

/**
 * The ID of the wallet that made a payment (walletIdOf of the key its allowance carries, bytes 2..66), once per
 * payment bytes: what an upload needs, the spends a repeated payment is looked up by, and the entry each take it (a
 * SHA-256 and its hex, three times a record).
 */
export function paymentWalletId(c: Pick<CryptoBackend, "sha256">, payment: Uint8Array): string {
  let id = walletIds.get(payment);
  if (id === undefined) {
    id = walletIdOf(c, payment.subarray(2, 66));
    walletIds.set(payment, id);
  }
  return id;
}

/**
 * The allowance a payment carries, whole again (its 2 header bytes put back, as the issuer signed it) and decoded,
 * once per payment bytes: the verify threads' checks and the request's own each take it. Nothing writes into
 * `whole` (the issuer signature's cache keys it by its hex).
 */
export const allowanceOf: (payment: Uint8Array) => { whole: Uint8Array; allowance: Allowance | null } = perBytes((payment) => {
  const whole = new Uint8Array(140);
  whole[0] = 1;
  whole[1] = 1;
  whole.set(payment.subarray(2, 140), 2);
  return { whole, allowance: decodeAllowance(whole) };
});

const signed = new WeakMap<Uint8Array, { request: Uint8Array; body: Uint8Array }>();

/** What the wallet signed: the payment's signed part and the whole request it answers, once per (payment, request). */
export function walletSigned(payment: Uint8Array, request: Uint8Array): Uint8Array {
  const x = signed.get(payment);
  if (x && x.request === request) return x.body;
  const body = concat([signedPart(payment), request]);
  signed.set(payment, { request, body });
  return body;
}
