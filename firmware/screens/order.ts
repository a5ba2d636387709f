/**
 * Flow 4: an order QR scanned at idle, checked (firmware/app/order.ts), then its screen: # the customer pays (request
 * QR or Bluetooth), 3 an invoice QR for the order, * cancel.
 *
 *   scanOrder(kit, text);
 */
import { Ink } from "../../hal/display.ts";
import { formatMoney } from "../money.ts";
import { orderKeyName, readOrder } from "../app/order.ts";
import type { Kit } from "./kit.ts";

/** ISO 4217 codes and numbers of the currencies a terminal is provisioned with, 6 characters each. */
const CURRENCIES = "EUR978USD840GBP826CHF756JPY392SEK752NOK578DKK208PLN985CZK203";

/** The ISO 4217 number of a currency code ("EUR" -> 978), 0 for one not listed. */
export function currencyNumber(code: string): number {
  const i = code.length === 3 ? CURRENCIES.indexOf(code) : -1;
  return i >= 0 && i % 6 === 0 ? parseInt(CURRENCIES.substr(i + 3, 3), 10) : 0;
}

export function scanOrder(k: Kit, text: string): void {
  const c = k.cfg;
  k.withVault((err, v) => {
    if (k.mode() !== "idle") return;
    const o = readOrder(k.d.crypto, text, err || !v ? null : v.value(orderKeyName(c.merchantId)), c.merchantId, currencyNumber(c.currency), k.now());
    if ("code" in o) return k.result("Order refused", Ink.Alert, [o.code, o.message, "Any key: back"]);
    k.go("order", {
      show() {
        k.arm();
        k.message("Order " + o.orderRef, Ink.Accent, [formatMoney(o.amountMinor, c.currency), "", "# customer pays (QR or Bluetooth)", "3 show invoice QR", "* cancel"]);
      },
      key(key: string) {
        if (key === "#") return k.pay(o.amountMinor, o.orderRef);
        if (key === "3") return k.invoice(o.amountMinor, o.orderRef);
        if (key === "*" || key === "C") return k.toIdle();
        k.arm();
      },
    });
  });
}
