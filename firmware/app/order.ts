/**
 * Order hand-off (flow 4): the store's order system shows an Order as a QR ("O1..."), the terminal's scanner reads
 * it, and the payment that follows carries the order reference in its journal entry, so the gateway makes the
 * store's callback once the entry is uploaded (docs/protocol.md section 2, Order).
 *
 *   const o = readOrder(device.crypto, text, vault.value(orderKeyName(cfg.merchantId)), cfg.merchantId, 978, now);
 *   if ("code" in o) show(o.code + " " + o.message); else openPayment(o.amountMinor, o.orderRef);
 *
 * Checks, in order (the first failure is the result):
 *   O01 not an order code, or damaged      O02 no order key on this terminal      O03 tag is not the order key's
 *   O04 order of another merchant          O05 order expired                      O06 other currency
 *   O07 amount zero                        O08 not a pay-api link, or damaged     O09 link's tag is not the order key's
 *   O10 eight link orders wait to be sent  O11 order flash full: not kept       O12 order flash read back wrong
 * A pay-api link (docs/orders.md, protocol/order-link.ts) is checked the same way once its own tag, over the order
 * and its callback URL, matched: readOrderLink.
 * The tag is HMAC-SHA256(order key, the 28 bytes before it)[0..16], compared in constant time; nothing of the order
 * is trusted before the tag matches.
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { equalConstantTime } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import { decodeOrder, Len, MsgType } from "../../protocol/messages.ts";
import { fromQrText } from "../../protocol/qr.ts";
import type { OrderLink } from "../../protocol/order-link.ts";
import { checkOrderLink, isOrderLink, parseOrderLink } from "../../protocol/order-link.ts";

/** Bytes of the tag at the end of an Order. */
export const ORDER_TAG = 16;

/** The vault entry holding a merchant's order key (firmware/vault.ts names it so: "order.<merchantId>"). */
export function orderKeyName(merchantId: number): string {
  return "order." + merchantId;
}

export interface OrderInfo {
  orderRef: string;
  amountMinor: number;
  /** ISO 4217 numeric. */
  currency: number;
  /** Unix seconds. */
  expires: number;
}

/** Why an order code was not taken (shown as code and message). */
export interface OrderRefusal {
  code: string;
  message: string;
}

/** What each refusal of an order code says (a function: the table stays in flash until one is shown). */
export function orderRefusals(): { [code: string]: string } {
  return {
    O01: "Not an order code, or damaged",
    O02: "No order key on this terminal",
    O03: "Order code not from this store",
    O04: "Order is for another merchant",
    O05: "Order has expired",
    O06: "Order currency differs",
    O07: "Order amount is zero",
    O08: "Not an order link, or damaged",
    O09: "Link not from this store (altered?)",
    O10: "8 orders wait to be sent: sync first",
    O11: "Order flash full: order not kept",
    O12: "Order flash fault: technician",
  };
}

export function refuse(code: string): OrderRefusal {
  return { code: code, message: orderRefusals()[code] };
}

/** Whether a scanned text is an order code (its letter) or a pay-api link (its scheme), so idle routes it here. */
export function isOrderText(text: string): boolean {
  return (text.length > 2 && text.charAt(0) === "O" && text.charAt(1) === "1") || isOrderLink(text);
}

/**
 * The order a scanned text hands off, checked: its tag under the merchant's order key, merchant, expiry (against
 * `nowMs`, the terminal's trusted time) and currency; or the refusal.
 */
export function readOrder(c: CryptoBackend, text: string, orderKey: Uint8Array | null | undefined, merchantId: number, currency: number, nowMs: number): OrderInfo | OrderRefusal {
  const parsed = fromQrText(text);
  return "err" in parsed ? refuse("O01") : checkOrder(c, parsed.msg, orderKey, merchantId, currency, nowMs);
}

/**
 * The order of a scanned or typed pay-api link, checked: the link's tag (order and callback) under the order key
 * first, then the Order inside as readOrder checks it; with the link's parts (`link`) to keep for the upload.
 */
export function readOrderLink(c: CryptoBackend, text: string, orderKey: Uint8Array | null | undefined, merchantId: number, currency: number, nowMs: number): (OrderInfo & { link: OrderLink }) | OrderRefusal {
  const l = parseOrderLink(text);
  if (!l) return refuse("O08");
  if (!orderKey || !orderKey.length) return refuse("O02");
  if (!checkOrderLink(c, orderKey, l)) return refuse("O09");
  const o = checkOrder(c, l.order, orderKey, merchantId, currency, nowMs);
  return "code" in o ? o : { orderRef: o.orderRef, amountMinor: o.amountMinor, currency: o.currency, expires: o.expires, link: l };
}

/** An Order message's checks (readOrder's, after the QR text). */
function checkOrder(c: CryptoBackend, b: Uint8Array, orderKey: Uint8Array | null | undefined, merchantId: number, currency: number, nowMs: number): OrderInfo | OrderRefusal {
  if (b.length !== Len.Order || b[1] !== MsgType.Order) return refuse("O01");
  if (!orderKey || !orderKey.length) return refuse("O02");
  const body = b.subarray(0, Len.Order - ORDER_TAG);
  const want = hmacSha256(c, orderKey, body).subarray(0, ORDER_TAG);
  if (!equalConstantTime(want, b.subarray(Len.Order - ORDER_TAG))) return refuse("O03");
  const o = decodeOrder(b);
  if (!o) return refuse("O01");
  if (o.merchantId !== merchantId) return refuse("O04");
  if (o.expires * 1000 < nowMs) return refuse("O05");
  if (o.currency !== currency) return refuse("O06");
  if (o.amountMinor <= 0) return refuse("O07");
  return { orderRef: o.orderRef, amountMinor: o.amountMinor, currency: o.currency, expires: o.expires };
}
