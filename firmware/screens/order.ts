/**
 * Flow 4: an order QR ("O1...") or a store's pay-api link (docs/orders.md) scanned at idle or typed at the
 * technician console, checked (firmware/app/order.ts), then its screen: # the customer pays (request QR or
 * Bluetooth), 3 an invoice QR for the order, * cancel. A link's order is kept on flash (firmware/app/kept-orders.ts)
 * as # or 3 opens the flow, so the gateway hears of its callback at the next sync.
 *
 *   scanOrder(kit, text);
 */
import { Ink } from "../../hal/display.ts";
import { currencyNumber, formatMoney } from "../money.ts";
import type { OrderInfo, OrderRefusal } from "../app/order.ts";
import { orderKeyName, orderRefusals, readOrder, readOrderLink, refuse } from "../app/order.ts";
import { keptOrders } from "../app/kept-orders.ts";
import type { OrderLink } from "../../protocol/order-link.ts";
import { isOrderLink } from "../../protocol/order-link.ts";
import type { Kit } from "./kit.ts";

/** ISO 4217 codes and numbers of the currencies a terminal is provisioned with, 6 characters each. */
/**
 * The order a scanned or typed text hands off ("O1..." code or pay-api link), checked with the merchant's order
 * key from the vault (firmware/app/order.ts); a link's order must also fit among the kept ones (O10).
 */
export function checkScanned(k: Kit, text: string, done: (o: OrderInfo | OrderRefusal, link?: OrderLink) => void): void {
  const c = k.cfg;
  k.withVault((err, v) => {
    const key = err || !v ? null : v.value(orderKeyName(c.merchantId));
    if (!isOrderLink(text)) return done(readOrder(k.d.crypto, text, key, c.merchantId, currencyNumber(c.currency), k.now()));
    const o = readOrderLink(k.d.crypto, text, key, c.merchantId, currencyNumber(c.currency), k.now());
    if ("code" in o) return done(o);
    done(keptOrders(k.d).room(o.orderRef) ? o : refuse("O10"), o.link);
  });
}

/** The order screen, for an order checked by checkScanned: a link's order is kept on flash before a flow opens. */
export function orderScreen(k: Kit, o: OrderInfo, link?: OrderLink): void {
  const c = k.cfg;
  const take = (fn: (amountMinor: number, orderRef: string) => void) => {
    // no journal (its flash place refused, or not provisioned): the flow refuses, and no order is kept either
    if (link && !k.ready()) return k.noJournal();
    const e = link ? keptOrders(k.d).keep(link.order, link.callback) : "";
    if (e) return k.result("Order refused", Ink.Alert, [e, orderRefusals()[e], "Any key: back"]);
    fn(o.amountMinor, o.orderRef);
  };
  k.go("order", {
    show() {
      k.arm();
      k.message("Order " + o.orderRef, Ink.Accent, [formatMoney(o.amountMinor, c.currency), link ? "Store told at: " + link.callback.slice(0, 24) : "", "# customer pays (QR or Bluetooth)", "3 show invoice QR", "* cancel"]);
    },
    key(key: string) {
      if (key === "#") return take(k.pay);
      if (key === "3") return take(k.invoice);
      if (key === "*" || key === "C") return k.toIdle();
      k.arm();
    },
  });
}

export function scanOrder(k: Kit, text: string): void {
  checkScanned(k, text, (o, link) => {
    if (k.mode() !== "idle") return;
    if ("code" in o) return k.result("Order refused", Ink.Alert, [o.code, o.message, "Any key: back"]);
    orderScreen(k, o, link);
  });
}
