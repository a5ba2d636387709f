/**
 * The HTTP API (docs/gateway-api.yaml): routing, authentication (admin, merchant, wallet) and error responses.
 * Every synchronous request is one store transaction (handleSync).
 */
import * as tokens from "./tokens.ts";
import { relayBundle } from "./relay.ts";
import { PAY_PAGE } from "./pay-page.ts";
import { fromHex } from "../protocol/codec/hex.ts";
import { toHex } from "./hex.ts";
import { toQrText } from "../protocol/qr.ts";
import { toBase64 } from "../protocol/sync.ts";
import { isMovable } from "./clock.ts";
import type { CardDetails } from "./cards.ts";
import { statementCsv } from "./books.ts";
import {  } from "./payouts.ts";
import type { Gateway, GatewayRequest, GatewayResponse, MerchantSpec, PayOnline, WalletReport } from "./gateway.ts";
import {
  GatewayError,
  bad,
  body,
  bytesField,
  header,
  hexField,
  invoiceJson,
  json,
  limitParam,
  merchantJson,
  optString,
  paidJson,
  qrcodeLibrary,
  terminalJson,
  toPosInt,
  walletRequestBytes,
} from "./fields.ts";

/** The whole HTTP API (docs/gateway-api.yaml). Never throws: refusals are 4xx JSON `{error, message}`. */
export async function handle(g: Gateway, req: GatewayRequest): Promise<GatewayResponse> {
  if (!g.needsAsync(req)) return g.handleSync(req);
  try {
    return await g.payByCard(req);
  } catch (e) {
    return g.errorResponse(e, req);
  } finally {
    g.kick();
  }
}

/**
 * Requests that wait on something outside the database (the card processor): served by handle(), each of its
 * database steps one transaction, not in one turn as the others (handleSync).
 */
export function needsAsync(_g: Gateway, req: { method: string; path: string; body: string }): boolean {
  if ((req.method || "").toUpperCase() !== "POST") return false;
  const path = (req.path || "").split("?")[0];
  if (path === "/v1/invoices/pay/3ds") return true;
  if (path !== "/v1/invoices/pay") return false;
  try {
    const m = (JSON.parse(req.body) as { method?: unknown }).method;
    return m === "card" || m === "debit";
  } catch {
    return false;
  }
}

export async function payByCard(g: Gateway, req: GatewayRequest): Promise<GatewayResponse> {
  const b = body(req);
  const path = (req.path || "").split("?")[0];
  const r =
    path === "/v1/invoices/pay/3ds"
      ? await g.completeCardChallenge(typeof b.challengeId === "string" ? b.challengeId : "", { code: typeof b.code === "string" ? b.code : undefined, abandon: b.abandon === true })
      : await g.payInvoice({ invoice: bytesField(b.invoice, "invoice"), method: b.method as PayOnline["method"], card: b.card as CardDetails | undefined });
  if ("challenge" in r) return json(202, { status: "challenge", challengeId: r.challengeId, brand: r.brand, last4: r.last4 });
  return json(200, paidJson(r));
}

export function handleSync(g: Gateway, req: GatewayRequest): GatewayResponse {
  let res: GatewayResponse;
  g.noteLink(req);
  try {
    res = g.store.transaction(() => g.route(req));
  } catch (e) {
    res = g.errorResponse(e, req);
  }
  if (g.outboxQueued) g.kick();
  return res;
}

export function errorResponse(g: Gateway, e: unknown, req: GatewayRequest): GatewayResponse {
  if (e instanceof GatewayError) {
    const x = e.extra ?? {};
    if (typeof x.terminalId === "number" && typeof x.merchantId === "number") {
      // a link request refused (authentication, replay, format): logged on its own, the request changed nothing
      try {
        g.store.transaction(() => g.log(x.merchantId as number, x.terminalId as number, "link-refused", { code: e.code, message: e.message, remote: req.remote ?? null }));
      } catch {
        // the log is best effort
      }
      return json(e.status, { error: e.code, message: e.message });
    }
    return json(e.status, { error: e.code, message: e.message, ...x });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return json(500, { error: "INTERNAL", message: "the gateway failed: " + msg.slice(0, 200) });
}

export function route(g: Gateway, req: GatewayRequest): GatewayResponse {
  const method = (req.method || "GET").toUpperCase();
  const path = (req.path || "/").split("?")[0];
  const parts = path.split("/").filter((x) => x);
  // the hosted pay page (what the invoice QR's URL opens) and the QR code library it draws the confirmation with
  if (parts[0] === "pay" && parts.length === 1) {
    if (method !== "GET") throw new GatewayError(405, "METHOD", path + " takes GET");
    return { status: 200, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; style-src 'unsafe-inline'", "referrer-policy": "no-referrer" }, body: PAY_PAGE };
  }
  if (parts[0] === "pay" && parts[1] === "qrcode.js" && parts.length === 2) {
    if (method !== "GET") throw new GatewayError(405, "METHOD", path + " takes GET");
    return { status: 200, headers: { "content-type": "text/javascript; charset=utf-8" }, body: qrcodeLibrary() };
  }
  if (parts[0] !== "v1") throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
  const p = parts.slice(1);
  const need = (m: string) => {
    if (method !== m) throw new GatewayError(405, "METHOD", path + " takes " + m);
  };
  // the terminal link
  if (p[0] === "t" && p.length === 3) {
    need("POST");
    const tid = /^[0-9]{1,10}$/.test(p[1]) ? Number(p[1]) : -1;
    if (tid < 0) throw new GatewayError(404, "UNKNOWN_TERMINAL", "terminal IDs are decimal");
    return g.linkOp(req, tid, p[2]);
  }
  // the SMS gateway's delivery report (dlr-url): the message's own secret token authenticates it
  if (p[0] === "sms" && p.length === 3 && p[2] === "dlr") {
    if (method !== "GET" && method !== "POST") throw new GatewayError(405, "METHOD", path + " takes GET");
    const q = new URLSearchParams((req.path || "").split("?")[1] || "");
    const id = /^[0-9]{1,15}$/.test(p[1]) ? Number(p[1]) : -1;
    const type = /^[0-9]{1,3}$/.test(q.get("type") || "") ? Number(q.get("type")) : -1;
    if (type < 0) throw bad("BAD_DLR", "type: the delivery report type (Kannel's %d)");
    const r = g.smsDeliveryReport(id, q.get("token") || "", type);
    return json(200, { id: r.id, dlr: r.dlr, dlrAt: r.dlrAt });
  }
  if (p[0] === "health" && p.length === 1) {
    need("GET");
    return json(200, { ok: true, time: g.now() });
  }
  if (p[0] === "info" && p.length === 1) {
    need("GET");
    return json(200, { time: g.now(), issuerKeyId: g.issuer.keyId, issuerPublicKey: toHex(g.issuer.publicKey), linkPublicKey: toHex(g.linkPublicKey), denyVersion: g.denyVersion() });
  }
  // invoices: the pay page (anyone holding the invoice)
  if (p[0] === "invoices" && p.length === 1) {
    need("POST");
    const b = body(req);
    const row = g.submitInvoice(bytesField(b.invoice, "invoice"));
    const m = g.store.getMerchant(row.merchantId);
    return json(200, { ...invoiceJson(row), merchantName: m ? m.name : "", qr: row.paid ? toQrText(row.paid) : undefined });
  }
  if (p[0] === "invoices" && p[1] === "pay" && p.length === 2) {
    need("POST");
    const b = body(req);
    // card and debit card go to the processor, outside one database turn: handle() serves them (needsAsync)
    if (b.method !== "wallet") throw bad("BAD_METHOD", "method: card, debit or wallet");
    const walletId = typeof b.walletId === "string" ? b.walletId : "";
    g.walletAuth(req, walletId, b);
    return json(200, paidJson(g.recordOnlinePayment(bytesField(b.invoice, "invoice"), 3, { walletId })));
  }
  // wallets: the payer's own calls, signed by the wallet key
  if (p[0] === "wallets" && p.length === 3 && p[2] !== "topups") {
    need("POST");
    const walletId = p[1];
    const b = body(req);
    g.walletAuth(req, walletId, b);
    if (p[2] === "sync") {
      const r = g.syncWallet(walletId, { spent: b.spent as WalletReport["spent"], capMinor: b.capMinor as number | undefined });
      return json(200, { walletId, allowance: r.allowance ? toBase64(r.allowance) : null, allowanceError: r.allowanceError || undefined, denied: r.denied, matched: r.matched, unreported: r.unreported, evidenced: r.evidenced, balances: r.balances, time: g.now() });
    }
    // records of a terminal the phone carried (docs/protocol.md, "Relayed records")
    if (p[2] === "relay") return json(200, relayBundle(g, walletId, b));
    if (p[2] === "balance") return json(200, g.walletBalances(walletId));
    if (p[2] === "allowance") {
      const r = g.loadAllowance(walletId, b.capMinor as number | undefined);
      return json(200, { allowance: toBase64(r.allowance), balances: r.balances });
    }
    if (p[2] === "claims") {
      const l = g.claimFraud(walletId, b.txId as string, b.action as "dispute", (b.reason as string) ?? "");
      return json(200, { txId: l.txId, status: l.status });
    }
    if (p[2] === "transactions") {
      return json(200, { transactions: g.store.ledgerOfWallet(walletId).map((l) => ({ ...g.eventBody(l), txTime: l.txTime, holdUntil: l.holdUntil })) });
    }
    throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
  }
  // admin
  if (p[0] === "wallets" && p.length === 3 && p[2] === "topups") {
    need("POST");
    g.adminAuth(req);
    const b = body(req);
    return json(201, g.topUp(p[1], b.amountMinor as number, b.reference as string));
  }
  if (p[0] === "admin" && p[1] === "payouts" && p.length === 4 && p[3] === "pain001") {
    need("GET");
    g.adminAuth(req);
    const id = /^[0-9]{1,10}$/.test(p[2]) ? Number(p[2]) : -1;
    return { status: 200, headers: { "content-type": "application/xml" }, body: g.payoutFile(id) };
  }
  if (p[0] === "wallets" && p.length === 1) {
    need("POST");
    g.adminAuth(req);
    const b = body(req);
    const r = g.registerWallet({
      publicKey: hexField(b.publicKey, "publicKey", 64),
      phone: optString(b.phone, "phone"),
      capMinor: b.capMinor as number,
      currency: b.currency as number | undefined,
      balanceMinor: b.balanceMinor as number | undefined,
    });
    return json(201, { walletId: r.walletId, allowance: toBase64(r.allowance) });
  }
  if (p[0] === "merchants" && p.length === 1) {
    need("POST");
    g.adminAuth(req);
    const b = body(req);
    const r = g.registerMerchant({ name: b.name as string, currency: b.currency as number | undefined, webhookUrl: b.webhookUrl as string | undefined, limits: b.limits as MerchantSpec["limits"], merchantId: b.merchantId as number | undefined, iban: b.iban as string | undefined, bic: b.bic as string | undefined, phone: b.phone as string | undefined });
    return json(201, r);
  }
  if (p[0] === "admin" && p.length === 2) {
    g.adminAuth(req);
    if (p[1] === "token") {
      need("POST");
      return json(200, tokens.rotateAdminToken(g, body(req)));
    }
    if (p[1] === "tick") {
      need("POST");
      return json(200, g.tick());
    }
    if (p[1] === "clock") {
      need("POST");
      const b = body(req);
      if (!isMovable(g.clock)) throw new GatewayError(409, "CLOCK_FIXED", "g gateway runs on the system clock");
      if (!toPosInt(b.advanceMs)) throw bad("BAD_ADVANCE", "advanceMs: a non-negative integer");
      g.clock.advance(b.advanceMs);
      g.log(0, 0, "clock-advanced", { advanceMs: b.advanceMs, time: g.now() });
      // the 3-day rule runs at once on the new time (the service's timer runs it every minute anyway)
      return json(200, { time: g.now(), approved: g.tick().approved });
    }
    if (p[1] === "updates") {
      need("POST");
      const b = body(req);
      if (typeof b.key !== "number") throw bad("UNKNOWN_KEY", "key: the ID of the firmware key that signed it (tools/sign-update.ts)");
      return json(201, g.offerUpdate({ version: b.version as string, board: b.board as string, keyId: b.key, bundle: bytesField(b.bundle, "bundle"), sig: hexField(b.sig, "sig", 64) }));
    }
    if (p[1] === "firmware-keys") {
      need("POST");
      const b = body(req);
      return json(201, g.addFirmwareKey(b.id as number, hexField(b.pub, "pub", 64)));
    }
    if (p[1] === "payouts" && method === "POST") {
      const b = req.body ? body(req) : {};
      const r = g.runPayouts(b.period === undefined ? undefined : (b.period as string));
      return json(200, { run: { ...r.run, file: undefined }, payouts: r.payouts, skipped: r.skipped });
    }
    if (p[1] === "payout-account" && method === "PUT") {
      const b = body(req);
      return json(200, g.setPayoutAccount({ name: b.name as string, iban: b.iban as string, bic: (b.bic as string) ?? "" }));
    }
    if (p[1] === "disputes" && method === "GET") return json(200, { disputes: g.disputes() });
    if (p[1] === "disputes" && method === "POST") {
      const b = body(req);
      const l = g.resolveDispute(b.merchantId as number, b.ref as string, b.decision as "payer");
      return json(200, { ref: l.ref, status: l.status });
    }
    if (p[1] === "issuer-key-revocations" && method === "POST") {
      return json(201, g.revokeIssuerKey(body(req).keyId as number));
    }
    if (p[1] === "issuer-keys" && method === "POST") {
      const b = body(req);
      const sig = b.sig === undefined ? undefined : hexField(b.sig, "sig", 64);
      return json(201, g.addIssuerKey({ keyId: b.keyId as number, publicKey: hexField(b.publicKey, "publicKey", 64), sig }));
    }
    need("GET");
    if (p[1] === "issuer-keys") return json(200, { issuerKeyId: g.issuer.keyId, keys: g.issuerKeys(), revoked: g.issuerKeyRevocations() });
    if (p[1] === "sms") return json(200, { sms: g.store.sms().map((x) => ({ ...x, dlrToken: undefined })) });
    if (p[1] === "deny") return json(200, { denyVersion: g.denyVersion(), deny: g.store.denyList() });
    if (p[1] === "flags") return json(200, { flags: g.store.flags() });
    if (p[1] === "activity") return json(200, { activity: g.store.activity(undefined, limitParam(req)) });
    if (p[1] === "connections") return json(200, { connections: g.store.connections() });
    if (p[1] === "ledger") return json(200, { ledger: g.store.ledger() });
    if (p[1] === "books") return json(200, g.books());
    if (p[1] === "payouts") return json(200, { runs: g.store.payoutRuns().map((r) => ({ ...r, file: undefined })) });
    if (p[1] === "payout-account") return json(200, g.payoutAccount() ?? {});
    throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
  }
  // a merchant's own books and terminals
  if (p[0] === "merchants" && p.length >= 3) {
    const mid = /^[0-9]{1,10}$/.test(p[1]) ? Number(p[1]) : -1;
    g.merchantAuth(req, mid);
    const what = p[2];
    if (what === "api-key" && p.length === 3) {
      need("POST");
      return json(200, tokens.rotateMerchantKey(g, mid, body(req)));
    }
    if (what === "terminals" && p.length === 3 && method === "POST") {
      const b = body(req);
      const r = g.registerTerminal({ merchantId: mid, publicKey: hexField(b.publicKey, "publicKey", 64), terminalId: b.terminalId as number | undefined, expiryDay: b.expiryDay as number | undefined });
      return json(201, { terminalId: r.terminalId, merchantId: r.merchantId, cert: toHex(r.cert), linkPublicKey: toHex(r.linkPublicKey), issuerKeyId: r.issuerKeyId, issuerPublicKey: toHex(r.issuerPublicKey) });
    }
    if (what === "terminals" && p.length === 5 && p[4] === "revoke") {
      need("POST");
      const tid = /^[0-9]{1,10}$/.test(p[3]) ? Number(p[3]) : -1;
      return json(200, terminalJson(g.revokeTerminal(mid, tid)));
    }
    if (what === "settings" && p.length === 3 && method === "PUT") {
      const b = body(req);
      const m = g.updateMerchant(mid, { webhookUrl: b.webhookUrl as string | undefined, limits: b.limits as Record<string, unknown> | undefined, iban: b.iban as string | undefined, bic: b.bic as string | undefined, phone: b.phone as string | undefined });
      return json(200, merchantJson(m));
    }
    need("GET");
    if (p.length !== 3) throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
    if (what === "ledger") return json(200, { ledger: g.store.ledger(mid) });
    if (what === "holds") return json(200, { holds: g.store.held(mid) });
    if (what === "flags") return json(200, { flags: g.store.flags(mid) });
    if (what === "activity") return json(200, { activity: g.store.activity(mid, limitParam(req)) });
    if (what === "connections") return json(200, { connections: g.store.connections(mid) });
    if (what === "invoices") return json(200, { invoices: g.store.listInvoices(mid).map(invoiceJson) });
    if (what === "events") return json(200, { events: g.store.webhooks(mid).map((w) => ({ id: w.id, event: w.event, payload: JSON.parse(w.payload), status: w.status, attempts: w.attempts })) });
    if (what === "terminals") return json(200, { terminals: g.store.listTerminals(mid).map(terminalJson) });
    if (what === "records") return json(200, { records: g.store.records(mid).map((r) => ({ ...r, entry: toBase64(r.entry) })) });
    if (what === "settings") return json(200, merchantJson(g.merchant(mid)));
    if (what === "balances") return json(200, g.merchantBalances(mid));
    if (what === "payouts") return json(200, { payouts: g.store.payouts(mid) });
    if (what === "statement") {
      const q = new URLSearchParams((req.path || "").split("?")[1] || "");
      const num = (k: string, d: number) => (q.has(k) ? (/^[0-9]{1,15}$/.test(q.get(k) as string) ? Number(q.get(k)) : -1) : d);
      const st = g.statement(mid, num("from", 0), num("to", g.now() + 1));
      if (q.get("format") === "csv") return { status: 200, headers: { "content-type": "text/csv" }, body: statementCsv(st) };
      return json(200, st);
    }
    throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
  }
  throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
}

export function bearer(_g: Gateway, req: GatewayRequest): string {
  const h = header(req, "authorization");
  // the auth-scheme is case-insensitive (RFC 7235 section 2.1)
  const m = /^bearer[ \t]+(\S.*)$/i.exec(h);
  return m ? m[1].trim() : "";
}

export function adminAuth(g: Gateway, req: GatewayRequest): void {
  const tok = g.bearer(req);
  if (!tok) throw new GatewayError(401, "UNAUTHENTICATED", "an admin bearer token is required");
  const st = tokens.adminTokenState(g, tok);
  if (st === "expired") throw tokens.expired("admin token");
  if (st !== "ok") throw new GatewayError(403, "FORBIDDEN", "not the admin token");
}

/** The admin, or the merchant's own API key; another merchant's key gets 404 (it learns nothing). */
export function merchantAuth(g: Gateway, req: GatewayRequest, merchantId: number): void {
  const tok = g.bearer(req);
  if (!tok) throw new GatewayError(401, "UNAUTHENTICATED", "a bearer token (merchant API key) is required");
  const admin = tokens.adminTokenState(g, tok);
  if (admin === "ok") {
    g.merchant(merchantId);
    return;
  }
  if (admin === "expired") throw tokens.expired("admin token");
  const k = tokens.merchantKeyState(g, tok);
  if (!k) throw new GatewayError(401, "UNAUTHENTICATED", "unknown API key");
  if (k.m.id !== merchantId) throw new GatewayError(404, "UNKNOWN_MERCHANT", "no merchant " + merchantId);
  if (k.state === "expired") throw tokens.expired("API key");
}

/**
 * A wallet's request: header `x-wallet-signature` = R||S (hex) by the wallet key over SHA-256 of
 * walletRequestBytes(method, path, body); the body's `time` (ms) must be above the last one accepted (no replay).
 */
export function walletAuth(g: Gateway, req: GatewayRequest, walletId: string, b: Record<string, unknown>): void {
  const w = /^[0-9a-f]{16}$/.test(walletId) ? g.store.getWallet(walletId) : undefined;
  if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
  const sigHex = header(req, "x-wallet-signature");
  const sig = /^[0-9a-f]{128}$/.test(sigHex) ? fromHex(sigHex) : undefined;
  if (!sig) throw new GatewayError(401, "UNAUTHENTICATED", "x-wallet-signature: 128 hex digits");
  const path = (req.path || "/").split("?")[0];
  if (!g.verifier.body(w.pub, walletRequestBytes(req.method, path, req.body), sig)) throw new GatewayError(401, "BAD_SIGNATURE", "the wallet signature does not verify");
  if (!toPosInt(b.time) && !(typeof b.time === "number" && Number.isSafeInteger(b.time) && b.time > 0)) throw bad("BAD_TIME", "time: the wallet's clock, Unix ms");
  if ((b.time as number) <= w.lastReqTime) throw new GatewayError(409, "REPLAY", "time " + b.time + " is not above the last request's");
  g.store.updateWallet(w.id, { lastReqTime: b.time as number });
}
