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
 *   O07 amount zero
 * The tag is HMAC-SHA256(order key, the 28 bytes before it)[0..16], compared in constant time; nothing of the order
 * is trusted before the tag matches.
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { equalConstantTime } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import { decodeOrder, Len, MsgType } from "../../protocol/messages.ts";
import { fromQrText } from "../../protocol/qr.ts";

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
  };
}

function refuse(code: string): OrderRefusal {
  return { code: code, message: orderRefusals()[code] };
}

/** Whether a scanned text is an order code at all (its letter), so the idle screen can route it here. */
export function isOrderText(text: string): boolean {
  return text.length > 2 && text.charAt(0) === "O" && text.charAt(1) === "1";
}

/**
 * The order a scanned text hands off, checked: its tag under the merchant's order key, merchant, expiry (against
 * `nowMs`, the terminal's trusted time) and currency; or the refusal.
 */
export function readOrder(c: CryptoBackend, text: string, orderKey: Uint8Array | null | undefined, merchantId: number, currency: number, nowMs: number): OrderInfo | OrderRefusal {
  const parsed = fromQrText(text);
  if ("err" in parsed) return refuse("O01");
  const b = parsed.msg;
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
