/**
 * Sync: a payment taken offline reaches the gateway once Wi-Fi and the gateway are back. Needs a gateway attached
 * to the world (the reference gateway, gateway/gateway.ts).
 */
import type { World } from "../world.ts";
import type { Scenario } from "./index.ts";
import { qrPayment } from "./payment.ts";

/** How many rows a book of the gateway holds (an array, or an object with one array field). */
export function rows(book: unknown): number {
  if (Array.isArray(book)) return book.length;
  if (book && typeof book === "object") for (const v of Object.values(book)) if (Array.isArray(v)) return v.length;
  return 0;
}

export async function syncAfterOfflinePayment(w: World): Promise<Record<string, unknown>> {
  if (!w.gateway) throw new Error("no gateway attached to the world (the reference gateway, gateway/gateway.ts, runs with --gateway-server or on the page)");
  const ledgerBefore = rows(w.gatewayBooks()?.ledger);
  w.setWifi(false);
  const payment = await qrPayment(w);
  w.setWifi(true);
  w.setGatewayReachable(true);
  await w.until("the payment in the gateway's ledger", () => rows(w.gatewayBooks()?.ledger) > ledgerBefore, 120000);
  return { payment, gateway: w.gatewayBooks(), screen: w.screenText() };
}

export const sync: Scenario = {
  describe: "an offline QR payment, then Wi-Fi and gateway back: the payment reaches the gateway's ledger",
  run: syncAfterOfflinePayment,
};
