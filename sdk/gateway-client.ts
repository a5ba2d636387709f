/**
 * The wallet's side of the gateway's wallet API (docs/gateway-api.yaml, tag "wallet"), over fetch:
 *
 *   const gw = new GatewayClient("https://gateway.example");
 *   await gw.loadAllowance(wallet);                 // reserves the cap from the balance, a fresh allowance
 *   const r = await gw.sync(wallet);                // uploads relay bundles it carries, reports what the wallet paid
 *                                                   // offline, takes the next allowance
 *   await gw.claim(wallet, txId, "dispute", "I was not there");
 *   const paid = await gw.payInvoice(wallet, scannedInvoiceText);   // show paid.qr to an offline terminal
 *
 * Every call is signed by the wallet key (protocol/wallet-api.ts) with a `time` that rises from call to call, so a
 * recorded request cannot be replayed. Errors are GatewayApiError with the gateway's code and HTTP status.
 */
import { toHex } from "../protocol/codec/hex.ts";
import { invoiceFromText } from "../protocol/qr.ts";
import { fromBase64, toBase64 } from "../protocol/sync.ts";
import { walletRequestBytes } from "../protocol/wallet-api.ts";
import type { Wallet } from "./wallet.ts";

export class GatewayApiError extends Error {
  constructor(
    /** The gateway's error code (UNKNOWN_WALLET, INSUFFICIENT_FUNDS, REPLAY …), or NETWORK / BAD_ANSWER. */
    readonly code: string,
    /** HTTP status, 0 when no answer came. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "GatewayApiError";
  }
}

export interface WalletBalances {
  [k: string]: unknown;
}

export interface SyncResult {
  walletId: string;
  /** True when the wallet is on the deny list: no new allowance. */
  denied: boolean;
  /** A new allowance was taken into the wallet. */
  renewed: boolean;
  allowanceError?: string;
  /** Ledger refs this report approved. */
  matched: string[];
  /** Held payments of this wallet the report did not mention: candidates for a fraud claim. */
  unreported: string[];
  balances?: WalletBalances;
  /** Relay bundles the gateway took at this sync (then let go by the wallet): each terminal's upload answer. */
  relayed: RelayOutcome[];
  /** Relay bundles the gateway will never take (tampered, unknown or revoked terminal): let go too. */
  relayRefused: { code: string; message: string }[];
  /** Relay bundles kept for the next sync because the upload failed for now (network, gateway trouble). */
  relayPending: number;
}

/** The gateway's answer to one relay bundle (docs/gateway-api.yaml, walletRelay). */
export interface RelayOutcome {
  terminalId: number;
  acked: number[];
  rejected: { seq: number; code: string; message: string }[];
}

/** Refusals after which a relay bundle is never offered again: the gateway will not take it whatever happens. */
const RELAY_FINAL = ["RELAY_AUTH", "RELAY_FORMAT", "RELAY_CONTENT", "REQ_FORMAT", "UNKNOWN_TERMINAL", "TERMINAL_REVOKED"];

export interface PaidOnline {
  /** The issuer-signed PaidConfirmation (94 bytes). */
  paid: Uint8Array;
  /** Its QR text ("C1…"): show it to a terminal that is offline. */
  qr: string;
  paymentRef: string;
  amountMinor: number;
  currency: number;
}

type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface GatewayClientOptions {
  /** fetch (default: the global one). */
  fetch?: Fetch;
  /** The wallet's clock, Unix ms (default Date.now). */
  now?: () => number;
  /** Milliseconds before a call gives up (default 15000). */
  timeoutMs?: number;
}

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await (globalThis as unknown as { crypto: { subtle: { digest(a: string, d: Uint8Array): Promise<ArrayBuffer> } } }).crypto.subtle.digest("SHA-256", b));
}

/** The wallet ID: SHA-256 of the wallet public key X||Y, first 8 bytes, hex (docs/protocol.md section 1). */
export async function walletIdOfKey(pub: Uint8Array): Promise<string> {
  return toHex((await sha256(pub)).subarray(0, 8));
}

export class GatewayClient {
  private readonly base: string;
  private readonly fetch: Fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private last = 0;

  constructor(baseUrl: string, o: GatewayClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.fetch = o.fetch ?? (globalThis as unknown as { fetch: Fetch }).fetch;
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 15000;
  }

  /** The gateway's clock and issuer key (GET /v1/info): what a wallet checks terminal certificates against. */
  async info(): Promise<{ time: number; issuerKeyId: number; issuerPublicKey: string }> {
    return (await this.call("GET", "/v1/info", undefined, {})) as { time: number; issuerKeyId: number; issuerPublicKey: string };
  }

  /** Asks for a fresh allowance (reserving `capMinor`, default the wallet's cap) and gives it to the wallet. */
  async loadAllowance(wallet: Wallet, capMinor?: number): Promise<{ balances?: WalletBalances }> {
    const r = (await this.walletCall(wallet, "allowance", capMinor === undefined ? {} : { capMinor })) as { allowance: string; balances?: WalletBalances };
    wallet.setAllowance(this.bytes(r.allowance, "allowance"));
    return { balances: r.balances };
  }

  /**
   * Reports every payment the wallet made under its allowance (counter, terminal, amount) and takes the new
   * allowance the gateway answers. Call it whenever the phone is online.
   */
  async sync(wallet: Wallet, o: { capMinor?: number } = {}): Promise<SyncResult> {
    const relay = await this.relayAll(wallet);
    const spent = wallet.state().payments.map((p) => ({ counter: p.counter, terminalId: p.terminalId, amountMinor: p.amountMinor }));
    const body: Record<string, unknown> = { spent };
    if (o.capMinor !== undefined) body.capMinor = o.capMinor;
    const r = (await this.walletCall(wallet, "sync", body)) as { walletId: string; allowance: string | null; denied?: boolean; allowanceError?: string; matched?: string[]; unreported?: string[]; balances?: WalletBalances };
    let renewed = false;
    if (r.allowance) {
      wallet.setAllowance(this.bytes(r.allowance, "allowance"));
      renewed = true;
    }
    return { walletId: r.walletId, denied: !!r.denied, renewed, allowanceError: r.allowanceError, matched: r.matched ?? [], unreported: r.unreported ?? [], balances: r.balances, ...relay };
  }

  /**
   * Uploads the relay bundles the wallet carries (POST /v1/wallets/{id}/relay, one each), oldest first. A bundle
   * the gateway took, or refused for good (RELAY_FINAL), is let go; one whose upload failed otherwise stays for the
   * next sync. Never throws for a bundle: sync() goes on with the wallet's own report.
   */
  async relayAll(wallet: Wallet): Promise<Pick<SyncResult, "relayed" | "relayRefused" | "relayPending">> {
    const out: Pick<SyncResult, "relayed" | "relayRefused" | "relayPending"> = { relayed: [], relayRefused: [], relayPending: 0 };
    for (const b of wallet.relayedBundles()) {
      try {
        const r = (await this.walletCall(wallet, "relay", { bundle: toBase64(b) })) as Partial<RelayOutcome>;
        out.relayed.push({ terminalId: Number(r.terminalId), acked: Array.isArray(r.acked) ? r.acked : [], rejected: Array.isArray(r.rejected) ? r.rejected : [] });
        wallet.dropRelayed(b);
      } catch (e) {
        if (e instanceof GatewayApiError && e.status >= 400 && e.status < 500 && RELAY_FINAL.indexOf(e.code) >= 0) {
          out.relayRefused.push({ code: e.code, message: e.message });
          wallet.dropRelayed(b);
        } else out.relayPending++;
      }
    }
    return out;
  }

  /** Claims fraud on one of the wallet's payments: "dispute" (the issuer reviews) or "reverse" (while held). */
  async claim(wallet: Wallet, txId: string, action: "dispute" | "reverse", reason = ""): Promise<{ txId: string; status: string }> {
    return (await this.walletCall(wallet, "claims", { txId, action, reason })) as { txId: string; status: string };
  }

  async balance(wallet: Wallet): Promise<WalletBalances> {
    return (await this.walletCall(wallet, "balance", {})) as WalletBalances;
  }

  async transactions(wallet: Wallet): Promise<unknown[]> {
    return ((await this.walletCall(wallet, "transactions", {})) as { transactions: unknown[] }).transactions;
  }

  /** Pays a terminal's invoice (its QR text: the pay URL or "I1…") from the wallet's available balance. */
  async payInvoice(wallet: Wallet, invoiceText: string): Promise<PaidOnline> {
    const inv = invoiceFromText(invoiceText);
    if ("err" in inv) throw new GatewayApiError("BAD_INVOICE", 0, "not an invoice code, or damaged");
    const walletId = await walletIdOfKey(await wallet.publicKeyRaw());
    const body = JSON.stringify({ invoice: toBase64(inv.msg), method: "wallet", walletId, time: this.time() });
    const r = (await this.call("POST", "/v1/invoices/pay", body, await this.signed(wallet, "POST", "/v1/invoices/pay", body))) as { paid: string; qr: string; paymentRef: string; amountMinor: number; currency: number };
    return { paid: this.bytes(r.paid, "paid"), qr: r.qr, paymentRef: r.paymentRef, amountMinor: r.amountMinor, currency: r.currency };
  }

  // ---------------------------------------------------------------- plumbing

  /** A time above every one this client used, so two calls in one millisecond are not replays. */
  private time(): number {
    this.last = Math.max(this.now(), this.last + 1);
    return this.last;
  }

  private async signed(wallet: Wallet, method: string, path: string, body: string): Promise<Record<string, string>> {
    const sig = await wallet.signApiRequest(walletRequestBytes(method, path, body));
    return { "x-wallet-signature": toHex(sig) };
  }

  private async walletCall(wallet: Wallet, op: string, fields: Record<string, unknown>): Promise<unknown> {
    const path = "/v1/wallets/" + (await walletIdOfKey(await wallet.publicKeyRaw())) + "/" + op;
    const body = JSON.stringify({ ...fields, time: this.time() });
    return this.call("POST", path, body, await this.signed(wallet, "POST", path, body));
  }

  private async call(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<unknown> {
    let res: { status: number; text(): Promise<string> };
    let text: string;
    try {
      res = await this.fetch(this.base + path, {
        method,
        headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new GatewayApiError("NETWORK", 0, "the gateway did not answer: " + ((e as Error).message || String(e)));
    }
    let v: { error?: string; message?: string } & Record<string, unknown>;
    try {
      v = JSON.parse(text);
    } catch {
      throw new GatewayApiError("BAD_ANSWER", res.status, "the gateway's answer is not JSON (HTTP " + res.status + ")");
    }
    if (res.status >= 400) throw new GatewayApiError(String(v.error ?? "HTTP_" + res.status), res.status, String(v.message ?? "HTTP " + res.status));
    return v;
  }

  private bytes(b64: unknown, what: string): Uint8Array {
    const b = typeof b64 === "string" ? fromBase64(b64) : undefined;
    if (!b) throw new GatewayApiError("BAD_ANSWER", 200, "the gateway's " + what + " is not base64");
    return b;
  }
}
