/**
 * The store side of the order hand-off (docs/orders.md), for a store's order system on Node:
 *
 *   const link = orderLink({ orderKey, merchantId: 77001, orderRef: "ORD-1", amountMinor: 2599,
 *                            callback: "https://shop.example/paid" });          // show as a QR, or send to the till
 *   const event = verifyCallback({ secret, signature: req.headers["x-gateway-signature"], body });
 *
 * The link carries the Order (docs/protocol.md section 2) tagged with the merchant's order key and the URL the
 * gateway calls once the order is paid; the callback is signed with the merchant's webhook secret, exactly as the
 * gateway's webhooks are (`x-gateway-signature: t=<ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { toQrText } from "../protocol/qr.ts";
import { encodeOrder, Len, VERSION } from "../protocol/messages.ts";
import { callbackOk, orderLinkTagged, orderLinkText } from "../protocol/order-link.ts";

export class StoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export interface OrderSpec {
  /** The merchant's order key (16 to 64 bytes), as hex or bytes: the one its terminals were provisioned with. */
  orderKey: string | Uint8Array;
  merchantId: number;
  /** 1 to 12 printable ASCII characters, no spaces: printed on the receipt and sent back in the callback. */
  orderRef: string;
  amountMinor: number;
  /** ISO 4217 numeric, default 978 (EUR). */
  currency?: number;
  /** Unix seconds after which the terminal refuses the order; default 15 minutes from now. */
  expires?: number;
  /** Called (POST, signed) once the order is paid: https, or http to loopback for development. */
  callback?: string;
}

function keyBytes(k: string | Uint8Array): Buffer {
  const b = typeof k === "string" ? (/^([0-9a-fA-F]{2})+$/.test(k) ? Buffer.from(k, "hex") : Buffer.alloc(0)) : Buffer.from(k);
  if (b.length < 16 || b.length > 64) throw new StoreError("KEY", "the order key must be 16 to 64 bytes (hex)");
  return b;
}

/** The Order message (44 bytes), tagged with the order key. */
export function orderMessage(o: OrderSpec): Uint8Array {
  const key = keyBytes(o.orderKey);
  if (!/^[\x21-\x7e]{1,12}$/.test(o.orderRef)) throw new StoreError("REF", "orderRef: 1 to 12 printable ASCII characters, no spaces");
  if (!(Number.isInteger(o.merchantId) && o.merchantId > 0 && o.merchantId <= 0xffffffff)) throw new StoreError("MERCHANT", "merchantId: a positive 32-bit integer");
  if (!(Number.isInteger(o.amountMinor) && o.amountMinor > 0 && o.amountMinor <= 0xffffffff)) throw new StoreError("AMOUNT", "amountMinor: a positive integer of minor units");
  const currency = o.currency ?? 978;
  if (!(Number.isInteger(currency) && currency > 0 && currency < 1000)) throw new StoreError("CURRENCY", "currency: an ISO 4217 numeric code");
  const expires = o.expires ?? Math.floor(Date.now() / 1000) + 15 * 60;
  const b = encodeOrder({ merchantId: o.merchantId, orderRef: o.orderRef, amountMinor: o.amountMinor, currency, expires, tag: new Uint8Array(16) });
  b.set(createHmac("sha256", key).update(b.subarray(0, Len.Order - 16)).digest().subarray(0, 16), Len.Order - 16);
  if (b[0] !== VERSION) throw new StoreError("INTERNAL", "order encoding");
  return b;
}

/** The "O1…" QR text of an order without a callback (the merchant's webhook hears of it). */
export function orderQr(o: OrderSpec): string {
  return toQrText(orderMessage(o));
}

/** The `pay-api://payNow?order=…&callback=…&tag=…` link of an order with its own callback URL. */
export function orderLink(o: OrderSpec): string {
  const cb = o.callback ?? "";
  if (!callbackOk(cb)) throw new StoreError("CALLBACK", "callback: an http(s) URL of at most 200 printable ASCII characters");
  const order = orderMessage(o);
  const tag = createHmac("sha256", keyBytes(o.orderKey)).update(orderLinkTagged(order, cb)).digest().subarray(0, 16);
  return orderLinkText(order, cb, new Uint8Array(tag));
}

export interface CallbackEvent {
  /** "order.paid" */
  event: string;
  [k: string]: unknown;
}

/**
 * Checks a callback the gateway sent: the signature header against the merchant's webhook secret (hex), and that
 * it was signed within `toleranceMs` (default 5 minutes) of `now`, so a recorded callback cannot be replayed later.
 * Returns the parsed body; throws StoreError SIGNATURE, STALE or BODY. Deduplicate by the `x-gateway-delivery`
 * header: a callback whose answer was lost is sent again.
 */
export function verifyCallback(a: { secret: string; signature: string | undefined; body: string; now?: number; toleranceMs?: number }): CallbackEvent {
  const m = /^t=([0-9]{1,15}),v1=([0-9a-f]{64})$/.exec(a.signature ?? "");
  if (!m) throw new StoreError("SIGNATURE", "no x-gateway-signature header of the form t=<ms>,v1=<hex>");
  const want = createHmac("sha256", Buffer.from(a.secret, "hex")).update(m[1] + "." + a.body).digest();
  if (!timingSafeEqual(want, Buffer.from(m[2], "hex"))) throw new StoreError("SIGNATURE", "the signature is not the gateway's (wrong secret, or the body was changed)");
  const now = a.now ?? Date.now();
  if (Math.abs(now - Number(m[1])) > (a.toleranceMs ?? 5 * 60000)) throw new StoreError("STALE", "signed at " + new Date(Number(m[1])).toISOString() + ", too far from now: a replay?");
  let ev: unknown;
  try {
    ev = JSON.parse(a.body);
  } catch {
    throw new StoreError("BODY", "the body is not JSON");
  }
  if (!ev || typeof ev !== "object" || typeof (ev as CallbackEvent).event !== "string") throw new StoreError("BODY", "the body has no event type");
  return ev as CallbackEvent;
}
