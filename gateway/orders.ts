/**
 * Orders a store hands to a terminal with a callback URL of their own (the pay-api link, docs/orders.md). The
 * terminal checked the link's tag with the merchant's order key before taking the order; it sends each order it
 * took, with its callback, in its uploads (`orders`, docs/sync.md), sealed by its link. Once the order is paid (a
 * wallet payment or an invoice carrying its reference, whichever arrives first), `order.paid` is queued to the
 * order's callback URL, signed like every webhook (gateway/webhooks.ts), once.
 */
import { decodeOrder, Len } from "../protocol/messages.ts";
import { callbackOk } from "../protocol/order-link.ts";
import { fromBase64 } from "../protocol/sync.ts";
import type { Gateway } from "./gateway.ts";
import { GatewayError } from "./fields.ts";
import type { LedgerRow, TerminalRow } from "./store.ts";
import { webhookUrlProblem } from "./webhooks.ts";

/** Most orders one upload may carry. */
export const MAX_UPLOAD_ORDERS = 8;

export interface OrdersReply {
  acked: string[];
  refused: { orderRef: string; code: string; message: string }[];
}

/** Queues order.paid to the order's own callback, once, if it has one and it has not gone out yet. */
export function orderPaid(g: Gateway, merchantId: number, orderRef: string, row: LedgerRow): void {
  if (!orderRef) return;
  const cb = g.store.orderCallback(merchantId, orderRef);
  if (!cb || cb.firedAt) return;
  g.event(merchantId, "order.paid", { orderRef, ...g.eventBody(row) }, cb.url);
  g.store.updateOrderCallback(merchantId, orderRef, { firedAt: g.now() });
  g.log(merchantId, cb.terminalId, "order-callback-queued", { orderRef, url: cb.url, ref: row.ref });
}

/**
 * The `orders` of an upload: each `{order (base64 of the 44-byte Order), callback}` is kept (once per merchant and
 * reference) when the order is this terminal's merchant's and the callback a URL the gateway may call; refused
 * otherwise, with a reason the terminal logs. An order already paid fires at once.
 */
export function takeOrders(g: Gateway, t: TerminalRow, list: unknown): OrdersReply {
  const out: OrdersReply = { acked: [], refused: [] };
  if (list === undefined) return out;
  if (!Array.isArray(list) || list.length > MAX_UPLOAD_ORDERS) throw new GatewayError(400, "REQ_FORMAT", "upload: orders is an array of at most " + MAX_UPLOAD_ORDERS);
  for (const x of list as { order?: unknown; callback?: unknown }[]) {
    const b = x && typeof x.order === "string" ? fromBase64(x.order) : undefined;
    const o = b && b.length === Len.Order ? decodeOrder(b) : null;
    if (!o || typeof x.callback !== "string") throw new GatewayError(400, "REQ_FORMAT", "upload: each order is {order (base64 of an Order), callback}");
    const refuse = (code: string, message: string) => {
      out.refused.push({ orderRef: o.orderRef, code, message });
      g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "order-callback", detail: o.orderRef + ": " + message });
    };
    if (o.merchantId !== t.merchantId) {
      refuse("E_ORDER_MERCHANT", "the order is for merchant " + o.merchantId + ", not this terminal's");
      continue;
    }
    const problem = callbackOk(x.callback) ? webhookUrlProblem(x.callback) : "not an http(s) URL of printable ASCII up to 200 characters";
    if (problem) {
      refuse("E_ORDER_CALLBACK", "callback " + problem);
      continue;
    }
    const had = g.store.orderCallback(t.merchantId, o.orderRef);
    if (had && had.url !== x.callback) {
      refuse("E_ORDER_CALLBACK", "order " + o.orderRef + " already has another callback");
      continue;
    }
    if (!had) {
      g.store.insertOrderCallback({ merchantId: t.merchantId, orderRef: o.orderRef, url: x.callback, terminalId: t.id, amountMinor: o.amountMinor, currency: o.currency, createdAt: g.now(), firedAt: 0 });
      g.log(t.merchantId, t.id, "order-callback", { orderRef: o.orderRef, url: x.callback });
      const paid = g.store.ledgerOfOrder(t.merchantId, o.orderRef);
      if (paid.length) orderPaid(g, t.merchantId, o.orderRef, paid[0]);
    }
    out.acked.push(o.orderRef);
  }
  return out;
}
