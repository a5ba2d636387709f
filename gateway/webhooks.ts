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

/**
 * POSTs with Node's fetch, 10 s timeout. Redirects are not followed (a 3xx is a failed delivery): a receiver cannot
 * bounce the signed event, or the gateway's requests, to another host.
 */
export const fetchTransport: WebhookTransport = {
  async post(url, headers, body) {
    const r = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(10000) });
    await r.body?.cancel();
    return { status: r.status };
  },
};

/**
 * A webhook URL the gateway will call: https, or http to this machine's loopback only (development). No
 * credentials in it, at most 2048 characters. Returns why not, or "".
 */
export function webhookUrlProblem(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "not a URL";
  }
  if (url.length > 2048) return "longer than 2048 characters";
  if (u.username || u.password) return "credentials are not allowed in it";
  if (u.protocol === "https:") return "";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (u.protocol === "http:" && (host === "localhost" || host === "::1" || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host))) return "";
  return "it must be https (http only to loopback, for development)";
}

/** What a merchant is told of a failed delivery: the receiver's HTTP status, or that it could not be reached. */
export function deliveryError(err: string): string {
  return /^HTTP [0-9]{3}$/.test(err) ? err : "unreachable (connection or timeout)";
}

export function webhookSignature(secretHex: string, t: number, body: string): string {
  return "t=" + t + ",v1=" + createHmac("sha256", Buffer.from(secretHex, "hex")).update(t + "." + body).digest("hex");
}

/** Delay before attempt `attempts + 1` (ms): 30 s, 1 min, 2 min … at most 1 h. */
export function retryDelay(attempts: number): number {
  return Math.min(30000 * 2 ** Math.max(0, attempts - 1), 3600000);
}

/** Attempts before a webhook is given up ("failed"; the merchant still reads it from its event feed). */
export const MAX_WEBHOOK_ATTEMPTS = 10;
