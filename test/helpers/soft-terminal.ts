/**
 * A terminal and a wallet in software, for the gateway's tests and benchmark: the terminal's identity key is a
 * plain P-256 scalar (no secure element, no bundle), the link is the real codec (protocol/sync.ts), and
 * journal entries are the real layouts (protocol/entry.ts), signed as the devices sign them.
 *
 *   const term = new SoftTerminal({ terminalId, linkPublicKey: gw.linkPublicKey, send: inProcess(gw) });
 *   gw.registerTerminal({ merchantId, publicKey: term.publicKey, terminalId });
 *   const wallet = new SoftWallet(); wallet.allowance = gw.registerWallet({ publicKey: wallet.publicKey, capMinor: 5000, balanceMinor: 5000 }).allowance;
 *   term.record(term.walletPayment(wallet, 250));
 *   await term.hello(); await term.uploadAll();
 */
import { createECDH, createHash, randomBytes } from "node:crypto";
import { concat, toHex } from "../../protocol/codec/hex.ts";
import { encodeEntry } from "../../protocol/entry.ts";
import type { Entry } from "../../protocol/entry.ts";
import { txId } from "../../protocol/ids.ts";
import { decodeAllowance, encodeInvoice, encodePayment, encodeReceipt, encodeRefund, encodeRequest, signedPart } from "../../protocol/messages.ts";
import type { LinkKeys, LinkReply } from "../../protocol/sync.ts";
import { isLinkError, linkKeys, linkPath, openReply, sealRequest, toBase64 } from "../../protocol/sync.ts";
import { relayKeys } from "../../protocol/relay.ts";
import type { SealKeys } from "../../protocol/seal.ts";
import type { GatewayRequest, GatewayResponse } from "../../gateway/gateway.ts";
import { publicKeyOf, signBody, signMessage } from "../../gateway/issuer.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";

const crypto = nodeCrypto();
const ZERO64 = new Uint8Array(64);

/** How a request reaches the gateway: in-process, over HTTP, or through a test's faulty wire. */
export type LinkSend = (req: { path: string; body: string }) => Promise<{ status: number; body: string }>;

/** The gateway's handle() as a LinkSend. */
export function inProcess(gw: { handle(r: GatewayRequest): Promise<GatewayResponse> }, remote = { address: "10.0.0.9", port: 40000 }): LinkSend {
  return (r) => gw.handle({ method: "POST", path: r.path, headers: { "content-type": "text/plain" }, body: r.body, remote });
}

/** A gateway URL reached with fetch (keep-alive, Node's global agent). */
export function overHttp(url: string): LinkSend {
  return async (r) => {
    const res = await fetch(url + r.path, { method: "POST", headers: { "content-type": "text/plain" }, body: r.body });
    return { status: res.status, body: await res.text() };
  };
}

export class LinkFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

export class SoftWallet {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The issuer-signed allowance (140 bytes), from registration or the last sync. */
  allowance: Uint8Array = new Uint8Array(0);
  /** Next counter to use. */
  counter = 0;
  /** What it paid offline: what it reports at its next sync. */
  spent: { counter: number; terminalId: number; amountMinor: number }[] = [];

  constructor(privateKey?: Uint8Array) {
    this.privateKey = privateKey ?? new Uint8Array(randomBytes(32));
    this.publicKey = publicKeyOf(this.privateKey);
  }

  get walletId(): string {
    return toHex(crypto.sha256(this.publicKey).subarray(0, 8));
  }

  /** A new allowance: counters continue from its start. */
  setAllowance(a: Uint8Array): void {
    this.allowance = a;
    const d = decodeAllowance(a);
    if (!d) throw new Error("SoftWallet: not an allowance");
    this.counter = Math.max(this.counter, d.startCounter);
  }

  /** The Payment (206 bytes) answering a request, with the next counter (or the one given: a double spend). */
  pay(request: Uint8Array, terminalId: number, amountMinor: number, counter?: number): Uint8Array {
    const a = decodeAllowance(this.allowance);
    if (!a) throw new Error("SoftWallet: no allowance");
    const c = counter ?? this.counter++;
    const unsigned = encodePayment({ allowance: a, counter: c, walletSig: ZERO64 });
    const sig = signBody(this.privateKey, concat([signedPart(unsigned), request]));
    const out = new Uint8Array(unsigned);
    out.set(sig, out.length - 64);
    this.spent.push({ counter: c, terminalId, amountMinor });
    return out;
  }

  /** Signs a wallet API request (docs/gateway.md): the x-wallet-signature header. */
  signRequest(method: string, path: string, body: string): string {
    const label = "offline-pay wallet-api v1";
    return toHex(signBody(this.privateKey, new Uint8Array(Buffer.from(label + "\n" + method.toUpperCase() + "\n" + path + "\n" + body, "utf8"))));
  }
}

export interface SoftTerminalOptions {
  terminalId: number;
  linkPublicKey: Uint8Array;
  send: LinkSend;
  privateKey?: Uint8Array;
  currency?: number;
  /** Unix seconds for requests (default: now). */
  now?: () => number;
}

export interface JournalRecord {
  seq: number;
  prev: string;
  entry: Uint8Array;
  acked: boolean;
}

export class SoftTerminal {
  readonly terminalId: number;
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keys: LinkKeys;
  /** The relay bundles' keys (protocol/relay.ts), from the same ECDH secret. */
  readonly relayKeys: SealKeys;
  send: LinkSend;
  /** The link seq (the SE's monotonic counter 0 on a device, shared with transactions). */
  linkSeq = 0;
  /** The transaction counter (the SE's counter 0). */
  txSeq = 0;
  journal: JournalRecord[] = [];
  private headHash = "00000000000000000000000000000000";
  readonly currency: number;
  private readonly now: () => number;
  /** Last replies, for tests. */
  lastHello: LinkReply | null = null;
  rejected: { seq: number; code: string; message: string }[] = [];

  constructor(o: SoftTerminalOptions) {
    this.terminalId = o.terminalId;
    this.privateKey = o.privateKey ?? new Uint8Array(randomBytes(32));
    this.publicKey = publicKeyOf(this.privateKey);
    this.send = o.send;
    this.currency = o.currency ?? 978;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(this.privateKey));
    const z = new Uint8Array(ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(o.linkPublicKey)])));
    this.keys = linkKeys(crypto, z);
    this.relayKeys = relayKeys(crypto, z);
  }

  nextTxId(): Uint8Array {
    return txId(this.terminalId, ++this.txSeq);
  }

  /** A signed payment Request (88 bytes). */
  request(amountMinor: number, time = this.now()): Uint8Array {
    return signMessage(this.privateKey, encodeRequest({ terminalId: this.terminalId, amountMinor, currency: this.currency, nonce: new Uint8Array(randomBytes(8)), time, terminalSig: ZERO64 }));
  }

  /** A WalletPayment entry: the wallet pays a fresh request. */
  walletPayment(w: SoftWallet, amountMinor: number, o: { orderRef?: string; counter?: number; time?: number } = {}): Entry {
    const request = this.request(amountMinor, o.time);
    const payment = w.pay(request, this.terminalId, amountMinor, o.counter);
    return { kind: 1, txId: this.nextTxId(), method: 1, request, payment, orderRef: o.orderRef ?? "" };
  }

  /** The signed Receipt (87 bytes) the terminal gives the wallet for a wallet payment entry. */
  receipt(e: Entry, status = 0): Uint8Array {
    if (e.kind !== 1) throw new Error("SoftTerminal: a receipt is for a wallet payment");
    const paymentHash = new Uint8Array(createHash("sha256").update(e.payment).digest().subarray(0, 8));
    return signMessage(this.privateKey, encodeReceipt({ txId: e.txId, status, time: this.now(), paymentHash, terminalSig: ZERO64 }));
  }

  /** An InvoicePaid entry for a paid confirmation. */
  invoicePaid(paid: Uint8Array, method = 5, orderRef = ""): Entry {
    return { kind: 2, txId: this.nextTxId(), method, paid, orderRef };
  }

  /** A Refund entry (reason 1 void, 2 refund) of an earlier transaction. */
  refund(original: Uint8Array, amountMinor: number, reason = 2): Entry {
    const refund = signMessage(this.privateKey, encodeRefund({ txId: original, amountMinor, currency: this.currency, time: this.now(), reason, terminalSig: ZERO64 }));
    return { kind: 3, txId: this.nextTxId(), refund };
  }

  /** A signed Invoice (84 bytes). */
  invoice(invoiceNo: number, amountMinor: number, expires = this.now() + 3600): Uint8Array {
    return signMessage(this.privateKey, encodeInvoice({ terminalId: this.terminalId, invoiceNo, amountMinor, currency: this.currency, expires, terminalSig: ZERO64 }));
  }

  /** Appends an entry to the journal (seq, chain hash as a device would keep them). */
  record(e: Entry): JournalRecord {
    const entry = encodeEntry(e);
    const seq = this.journal.length ? this.journal[this.journal.length - 1].seq + 1 : 1;
    const r = { seq, prev: this.headHash, entry, acked: false };
    this.headHash = createHash("sha256").update(this.headHash).update(entry).digest("hex").slice(0, 32);
    this.journal.push(r);
    return r;
  }

  get pending(): JournalRecord[] {
    return this.journal.filter((r) => !r.acked);
  }

  /** One link request; throws LinkFailure on anything but an authentic reply to it. */
  async call(op: string, fields: Record<string, unknown>): Promise<LinkReply> {
    const seq = ++this.linkSeq;
    const nonce = randomBytes(8).toString("hex");
    const body = sealRequest(crypto, this.keys, seq, { op, tid: this.terminalId, nonce, ...fields });
    const res = await this.send({ path: linkPath(this.terminalId, op), body });
    if (res.status !== 200) {
      let code = "HTTP";
      let message = "HTTP " + res.status;
      try {
        const j = JSON.parse(res.body);
        code = j.error ?? code;
        message = j.message ?? message;
      } catch {
        // not JSON
      }
      throw new LinkFailure(code, message, res.status);
    }
    const r = openReply(crypto, this.keys, res.body, { seq, nonce });
    if (isLinkError(r)) throw new LinkFailure(r.code, r.message);
    return r.msg;
  }

  async hello(extra: Record<string, unknown> = {}): Promise<LinkReply> {
    const last = this.journal[this.journal.length - 1];
    const reply = await this.call("hello", {
      fw: "1.0.0",
      time: this.now() * 1000,
      head: { seq: last ? last.seq : 0, hash: this.headHash },
      pending: this.pending.length,
      denyVersion: 0,
      anomalies: [],
      ...extra,
    });
    this.lastHello = reply;
    return reply;
  }

  /** Uploads one batch of pending records; marks acked and rejected ones; returns the reply. */
  async uploadBatch(n = 8): Promise<{ acked: number[]; rejected: { seq: number; code: string; message: string }[] }> {
    const batch = this.pending.slice(0, n);
    const reply = await this.call("upload", { records: batch.map((r) => ({ seq: r.seq, prev: r.prev, entry: toBase64(r.entry) })) });
    const acked = reply.acked as number[];
    const rejected = reply.rejected as { seq: number; code: string; message: string }[];
    for (const r of batch) if (acked.includes(r.seq) || rejected.some((x) => x.seq === r.seq)) r.acked = true;
    this.rejected.push(...rejected);
    return { acked, rejected };
  }

  /** Uploads until nothing is pending. */
  async uploadAll(n = 8): Promise<void> {
    while (this.pending.length) {
      const r = await this.uploadBatch(n);
      if (!r.acked.length && !r.rejected.length) throw new Error("gateway took none of a batch");
    }
  }
}
