/**
 * The outboxes: webhook events and SMS are written in the request's transaction and sent after it (flush()).
 */
import { SEND_LEASE_MS } from "./sms.ts";
import { paidWhileOfflineText, TERMINAL_OFFLINE_MS } from "./sms.ts";
import type { InvoiceRow } from "./store.ts";
import { deliveryError, MAX_WEBHOOK_ATTEMPTS, retryDelay, webhookSignature } from "./webhooks.ts";
import type { Gateway } from "./gateway.ts";
import {  money } from "./fields.ts";

export function kick(g: Gateway): void {
  if (!g.autoFlush) return;
  g.outboxQueued = false;
  void g.flush().catch(() => undefined);
}

/** Sends queued SMS and due webhooks (one pass; concurrent calls join it and run once more after). */
export function flush(g: Gateway): Promise<void> {
  if (g.flushing) {
    g.flushAgain = true;
    return g.flushing;
  }
  g.flushing = (async () => {
    try {
      do {
        g.flushAgain = false;
        await g.flushOnce();
      } while (g.flushAgain);
    } finally {
      g.flushing = null;
    }
  })();
  return g.flushing;
}

export async function flushOnce(g: Gateway): Promise<void> {
  if (!g.storeOpen()) return;
  if (!(await g.smsOut.flush())) return;
  // one row at a time, claimed first: another process on the same database never sends the same row meanwhile
  for (;;) {
    if (!g.storeOpen()) return;
    const claimed = g.store.claimWebhooks(g.now(), g.now() + SEND_LEASE_MS, 1);
    if (!claimed.length) return;
    const w = claimed[0];
    const m = g.store.getMerchant(w.merchantId);
    const t = g.now();
    const headers = {
      "content-type": "application/json",
      "x-gateway-event": w.event,
      "x-gateway-delivery": String(w.id),
      "x-gateway-signature": webhookSignature(m ? m.webhookSecret : "", t, w.payload),
    };
    let err = "";
    try {
      const r = await g.webhookTransport.post(w.url, headers, w.payload);
      if (r.status < 200 || r.status > 299) err = "HTTP " + r.status;
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
    }
    if (!g.storeOpen()) return;
    const attempts = w.attempts + 1;
    g.store.transaction(() => {
      if (!err) g.store.updateWebhook(w.id as number, { status: "delivered", attempts, deliveredAt: g.now(), lastError: "" });
      else g.store.updateWebhook(w.id as number, { attempts, lastError: deliveryError(err), status: attempts >= MAX_WEBHOOK_ATTEMPTS ? "failed" : "pending", nextAt: g.now() + retryDelay(attempts) });
      const kind = !err ? "webhook-delivered" : attempts >= MAX_WEBHOOK_ATTEMPTS ? "webhook-failed" : "webhook-retry";
      // the merchant sees its receiver's status or "unreachable"; the network's own words (hosts, addresses of
      // whatever the URL resolved to) stay in the issuer's log for its operators
      g.log(w.merchantId, 0, kind, { id: w.id, event: w.event, attempts, error: err ? deliveryError(err) : undefined });
      if (err && deliveryError(err) !== err) g.log(0, 0, "webhook-error", { merchantId: w.merchantId, id: w.id, error: err.slice(0, 200) });
    });
  }
}

/** Queues an event to the merchant's webhook, or to `url` (an order's own callback, gateway/orders.ts). */
export function event(g: Gateway, merchantId: number, event: string, payload: Record<string, unknown>, url?: string): void {
  const m = g.store.getMerchant(merchantId);
  if (!m) return;
  const to = url ?? m.webhookUrl;
  if (to) g.outboxQueued = true;
  g.store.insertWebhook({
    merchantId,
    event,
    payload: JSON.stringify({ event, merchantId, at: g.now(), ...payload }),
    url: to,
    status: to ? "pending" : "none",
    attempts: 0,
    nextAt: g.now(),
    lastError: "",
    createdAt: g.now(),
    deliveredAt: 0,
  });
}

export function queueSms(g: Gateway, walletId: string, ref: string, text: string, kind: string): void {
  const w = g.store.getWallet(walletId);
  if (!w || !w.phone) return;
  g.outboxQueued = true;
  g.smsOut.queue({ to: w.phone, text, kind, walletId, ref });
}

/** The merchant's SMS for an invoice paid online while its terminal is offline (TERMINAL_OFFLINE_MS, gateway/sms.ts). */
export function smsIfTerminalOffline(g: Gateway, inv: InvoiceRow, method: string, ref: string): void {
  const m = g.store.getMerchant(inv.merchantId);
  const t = g.store.getTerminal(inv.terminalId);
  if (!m || !m.phone || !t || g.now() - t.lastHelloAt <= TERMINAL_OFFLINE_MS) return;
  const text = paidWhileOfflineText({ merchant: m.name, amount: money(inv.amountMinor, inv.currency), invoiceNo: inv.invoiceNo, terminalId: t.id, method: method === "debit" ? "debit card" : method });
  g.outboxQueued = true;
  g.smsOut.queue({ to: m.phone, text, kind: "paid-while-offline", merchantId: m.id, ref });
}
