/**
 * Webhook delivery to merchants. Events are first written to the `webhooks` outbox inside the transaction that made
 * them; Gateway.flush() then POSTs each pending one with this transport, retrying with backoff.
 *
 * Every POST carries `x-gateway-event`, `x-gateway-delivery` (the outbox row's ID: receivers deduplicate by it,
 * since a delivery whose answer was lost is sent again) and `x-gateway-signature: t=<ms>,v1=<hex>`, the
 * HMAC-SHA256 of `<t>.<body>` under the merchant's webhook secret.
 */
import { createHmac } from "node:crypto";

export interface WebhookTransport {
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }>;
}

/** POSTs with Node's fetch, 10 s timeout. */
export const fetchTransport: WebhookTransport = {
  async post(url, headers, body) {
    const r = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10000) });
    return { status: r.status };
  },
};

export function webhookSignature(secretHex: string, t: number, body: string): string {
  return "t=" + t + ",v1=" + createHmac("sha256", Buffer.from(secretHex, "hex")).update(t + "." + body).digest("hex");
}

/** Delay before attempt `attempts + 1` (ms): 30 s, 1 min, 2 min … at most 1 h. */
export function retryDelay(attempts: number): number {
  return Math.min(30000 * 2 ** Math.max(0, attempts - 1), 3600000);
}

/** Attempts before a webhook is given up ("failed"; the merchant still reads it from its event feed). */
export const MAX_WEBHOOK_ATTEMPTS = 10;
