/** Shared by the gateway's modules: constants, the error type, field checks and the HTTP layer's JSON shapes. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fromHex } from "../protocol/codec/hex.ts";
import { toHex } from "./hex.ts";
import { HOLD_MS } from "../protocol/rules.ts";
import { toBase64 } from "../protocol/sync.ts";
import { isE164 } from "./sms.ts";
import type { InvoiceRow, MerchantRow, TerminalRow } from "./store.ts";
import { validBic, validIban } from "./payouts.ts";
import { isJsonMediaType } from "./media-type.ts";
import type { GatewayRequest, GatewayResponse, PaidResult } from "./gateway.ts";

export const DAY_MS = 86400000;
export { HOLD_MS };
/** How long after a payment its payer may dispute it (as card schemes allow about 120 days). */
export const DISPUTE_WINDOW_MS = 120 * DAY_MS;
export const DEFAULT_LIMITS = { perTxMinor: 5000, unsyncedMinor: 50000, maxDaysOffline: 3, perWalletMinor: 10000 };
/** Label of the wallet request signature (starts with "o", never a protocol message's version byte). */
export { WALLET_API_LABEL, walletRequestBytes } from "../protocol/wallet-api.ts";


/** A refusal: HTTP status, a stable code and a message; the request's transaction is rolled back. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const bad = (code: string, message: string) => new GatewayError(400, code, message);

export type Verdict = { ok: true } | { ok: false; code: string; message: string };

export function toPosInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

export function isHex(v: unknown, bytes: number): v is string {
  return typeof v === "string" && v.length === bytes * 2 && /^[0-9a-f]*$/.test(v);
}

export function header(req: GatewayRequest, name: string): string {
  const v = req.headers[name] ?? req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] || "" : v || "";
}

/**
 * Standard base64 in its one canonical form (padding, zero bits under it), else null: what the link codec's
 * fromBase64 accepts, at Node's speed (that one is written for the device).
 */
export function strictBase64(s: string): Uint8Array | null {
  if (typeof s !== "string" || s.length % 4) return null;
  // Node's decoder skips what is not base64 (and reads base64url's - and _), but the canonical text of what it
  // decoded has only the alphabet and at most two "=" at the end: equal to it, the text was strict base64 (no
  // pattern test first: on a 13 KB upload it was a fifth of the time opening the upload took)
  const b = Buffer.from(s, "base64");
  if (b.toString("base64") !== s) return null;
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** "YYYY-MM-DD" of a Unix ms time, UTC. */
export function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** An IBAN as stored: upper case, no spaces; "" for none; 400 when its check digits are wrong. */
export function checkIban(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  const s = typeof v === "string" ? v.replace(/\s+/g, "").toUpperCase() : "";
  if (!validIban(s)) throw bad("BAD_IBAN", "iban: an IBAN (ISO 13616) with valid check digits");
  return s;
}

/** A phone number as stored: E.164, "" for none; 400 otherwise. */
export function checkPhone(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  if (!isE164(v)) throw bad("BAD_PHONE", "phone: E.164, e.g. +4915112345678");
  return v;
}

export function checkBic(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  const s = typeof v === "string" ? v.trim().toUpperCase() : "";
  if (!validBic(s)) throw bad("BAD_BIC", "bic: 8 or 11 characters (ISO 9362)");
  return s;
}

export function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

export function versionNewer(a: string, b: string): boolean {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "0";
    const y = pb[i] ?? "0";
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) return nx > ny;
    } else if (x !== y) return x > y;
  }
  return false;
}

export const CURRENCY: Record<number, string> = { 978: "EUR", 840: "USD", 826: "GBP", 756: "CHF", 752: "SEK", 985: "PLN" };

export function money(minor: number, currency: number): string {
  const sign = minor < 0 ? "-" : "";
  const a = Math.abs(minor);
  return sign + Math.floor(a / 100) + "." + String(a % 100).padStart(2, "0") + " " + (CURRENCY[currency] ?? String(currency));
}




// ---------------------------------------------------------------- helpers for the HTTP layer

export function json(status: number, v: unknown): GatewayResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? toHex(x) : x)) };
}

export function body(req: GatewayRequest): Record<string, unknown> {
  const type = header(req, "content-type");
  if (type && !isJsonMediaType(type)) throw new GatewayError(415, "UNSUPPORTED_MEDIA_TYPE", "the body is JSON: send it as application/json");
  let v: unknown;
  try {
    v = JSON.parse(req.body || "");
  } catch {
    throw bad("BAD_JSON", "the body must be a JSON object");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad("BAD_JSON", "the body must be a JSON object");
  return v as Record<string, unknown>;
}

export function hexField(v: unknown, name: string, bytes: number): Uint8Array {
  const b = typeof v === "string" && v.length === bytes * 2 ? fromHex(v.toLowerCase()) : undefined;
  if (!b) throw bad("BAD_" + name.toUpperCase(), name + ": " + bytes * 2 + " hex digits");
  return b;
}

/** Bytes given as standard base64, base64url or hex. */
export function bytesField(v: unknown, name: string): Uint8Array {
  if (typeof v === "string" && v) {
    if (/^[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0) {
      const h = fromHex(v.toLowerCase());
      if (h) return h;
    }
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) return new Uint8Array(Buffer.from(v.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
  }
  throw bad("BAD_" + name.toUpperCase(), name + ": bytes as base64, base64url or hex");
}

export function optString(v: unknown, name: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw bad("BAD_" + name.toUpperCase(), name + ": a string");
  return v;
}

export function limitParam(req: GatewayRequest): number {
  const q = (req.path || "").split("?")[1] || "";
  const m = /(?:^|&)limit=([0-9]{1,6})(?:&|$)/.exec(q);
  return m ? Math.max(1, Number(m[1])) : 1000;
}

export let qrcodeJs = "";
/** qrcode-generator's browser build (a dependency of the project), read once. */
export function qrcodeLibrary(): string {
  if (!qrcodeJs) qrcodeJs = readFileSync(createRequire(import.meta.url).resolve("qrcode-generator"), "utf8");
  return qrcodeJs;
}

export function paidJson(r: PaidResult): Record<string, unknown> {
  return { paid: toBase64(r.paid), qr: r.qr, paymentRef: r.paymentRef, terminalId: r.terminalId, invoiceNo: r.invoiceNo, amountMinor: r.amountMinor, currency: r.currency };
}

export function invoiceJson(i: InvoiceRow): Record<string, unknown> {
  return {
    terminalId: i.terminalId,
    invoiceNo: i.invoiceNo,
    amountMinor: i.amountMinor,
    currency: i.currency,
    expires: i.expires,
    orderRef: i.orderRef,
    status: i.status,
    paidAt: i.paidAt,
    method: i.method,
    paymentRef: i.paymentRef,
    card: i.card || undefined,
    paid: i.paid ? toBase64(i.paid) : null,
    recorded: !!i.recorded,
  };
}

export function terminalJson(t: TerminalRow): Record<string, unknown> {
  return { terminalId: t.id, merchantId: t.merchantId, publicKey: toHex(t.pub), cert: toHex(t.cert), fw: t.fw, headSeq: t.headSeq, lastHelloAt: t.lastHelloAt, drift: t.drift, revokedAt: t.revokedAt };
}

export function merchantJson(m: MerchantRow): Record<string, unknown> {
  return { merchantId: m.id, name: m.name, currency: m.currency, webhookUrl: m.webhookUrl, limits: JSON.parse(m.limits), iban: m.iban, bic: m.bic, phone: m.phone };
}

