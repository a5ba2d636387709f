/**
 * A payment's decoding and its wallet's ID, made once per bytes: an uploaded payment is decoded by each step that reads it (what the
 * upload needs, the signatures sent to the verify threads, the checks, the entry, the ledger row: six times a
 * record), and its decoding (a reader, the allowance's fields, copies of its keys and signatures) was one of the
 * upload path's largest sources of garbage (docs/gateway.md, ingest at the limit, fifth pass). Keyed by the byte
 * array itself: an entry's payment is one view, made when the entry was decoded, and nothing writes into it. The
 * decoded payment is shared: its readers only read it.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import type { Payment } from "../protocol/messages.ts";
import { decodePayment } from "../protocol/messages.ts";
import { walletIdOf } from "../protocol/rules.ts";

const payments = new WeakMap<Uint8Array, Payment | null>();

export function paymentOf(b: Uint8Array): Payment | null {
  let p = payments.get(b);
  if (p === undefined) {
    p = decodePayment(b);
    payments.set(b, p);
  }
  return p;
}

const wallets = new WeakMap<Uint8Array, string>();

/**
 * The ID of the wallet that made a payment (walletIdOf of the key its allowance carries, bytes 2..66), once per
 * payment bytes: what an upload needs, the spends a repeated payment is looked up by, and the entry each take it (a
 * SHA-256 and its hex, three times a record).
 */
export function paymentWalletId(c: Pick<CryptoBackend, "sha256">, payment: Uint8Array): string {
  let id = wallets.get(payment);
  if (id === undefined) {
    id = walletIdOf(c, payment.subarray(2, 66));
    wallets.set(payment, id);
  }
  return id;
}
