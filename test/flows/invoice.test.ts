import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import type { InvoiceContext, InvoiceOutcome, InvoicePaidInfo } from "../../firmware/app/invoice.ts";
import { acceptPaid, invoiceQrText, InvoiceSession } from "../../firmware/app/invoice.ts";
import { InvoiceBook } from "../../firmware/app/invoice-book.ts";
import { EntryMethod } from "../../protocol/entry.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, invoiceFromText, invoiceUrl, toQrText } from "../../protocol/qr.ts";
import { utr } from "../../protocol/ids.ts";
import { verifyMessage } from "../../gateway/issuer.ts";
import { EUR, USD } from "../protocol/helpers.ts";
import { flowRig, TERMINAL_ID } from "./rig.ts";
import type { FlowRig } from "./rig.ts";

const NOW_MS = Date.UTC(2026, 10, 23, 9, 0, 0);

interface Run {
  r: FlowRig;
  ctx: InvoiceContext;
  shown: { amount: number; qr: string }[];
  notices: string[];
  outcomes: InvoiceOutcome[];
  session: InvoiceSession;
}

function start(amount = 4999, orderRef = "", o: { printError?: string; gatewayUrl?: string } = {}): Run {
  const r = flowRig(o);
  const shown: { amount: number; qr: string }[] = [];
  const notices: string[] = [];
  const outcomes: InvoiceOutcome[] = [];
  const ctx: InvoiceContext = {
    device: r.device,
    terminalId: TERMINAL_ID,
    currencyNum: EUR,
    cert: new Uint8Array(0),
    journal: r.journal,
    now: () => NOW_MS + r.se.clock.uptime(),
    issuerKey: (id) => (id === r.issuer.keyId ? r.issuer.publicKey : null),
    book: new InvoiceBook(),
    view: {
      invoice: (amountMinor, qr) => shown.push({ amount: amountMinor, qr }),
      progress: () => {},
      notice: (x) => notices.push(x.code),
    },
    print: (p: InvoicePaidInfo, done) => r.device.printer.print(new Uint8Array(p.receipt), done),
  };
  const gw = o.gatewayUrl;
  if (gw) ctx.qrText = (inv) => invoiceUrl(gw, inv);
  const session = new InvoiceSession(ctx, amount, orderRef, (x) => outcomes.push(x));
  session.open();
  r.advance(1000);
  return { r, ctx, shown, notices, outcomes, session };
}

function invoiceOf(run: Run): M.Invoice {
  const p = fromQrText(run.shown[run.shown.length - 1].qr);
  assert.ok("msg" in p, "the shown QR is a protocol message");
  const inv = M.decodeInvoice(p.msg);
  assert.ok(inv, "the shown QR is an Invoice");
  return inv;
}

function paidFor(run: Run, t: Partial<M.PaidConfirmation> = {}): Uint8Array {
  const inv = invoiceOf(run);
  return run.r.issuer.signPaid({ terminalId: inv.terminalId, invoiceNo: inv.invoiceNo, amountMinor: inv.amountMinor, currency: inv.currency, paidAt: 1795000000, method: 1, paymentRef: new Uint8Array(8).fill(7), ...t });
}

describe("merchant-presented QR: invoice session", () => {
  it("shows an invoice QR signed by the terminal's identity key, numbered from the SE counter", () => {
    const run = start(4999);
    assert.equal(run.shown.length, 1);
    const p = fromQrText(run.shown[0].qr);
    assert.ok("msg" in p);
    assert.equal(verifyMessage(run.r.terminalPub, p.msg), true);
    const inv = invoiceOf(run);
    assert.equal(inv.amountMinor, 4999);
    assert.equal(inv.currency, EUR);
    assert.equal(inv.terminalId, TERMINAL_ID);
    assert.equal(inv.invoiceNo, run.session.invoiceNo);
    const validFor = inv.expires - Math.floor(NOW_MS / 1000);
    assert.ok(validFor >= 15 * 60 && validFor <= 15 * 60 + 1, "expires 15 min after it was made, got " + validFor + " s");
  });

  it("records a scanned paid confirmation: journal kind 2 by QR, settled receipt signed, printed", () => {
    const run = start(4999, "ORD-7");
    const paid = paidFor(run);
    run.session.code(toQrText(paid) + "\r\n");
    run.r.advance(1000);
    assert.equal(run.outcomes.length, 1);
    const o = run.outcomes[0];
    assert.ok("paid" in o, JSON.stringify(o));
    const e = run.r.entries();
    assert.equal(e.length, 1);
    assert.equal(e[0].kind, 2);
    if (e[0].kind !== 2) return;
    assert.equal(e[0].method, EntryMethod.PaidByQr);
    assert.equal(toHex(e[0].paid), toHex(paid));
    assert.equal(e[0].orderRef, "ORD-7");
    const inv = invoiceOf(run);
    assert.equal(toHex(e[0].txId), toHex(o.paid.txId));
    assert.equal(o.paid.utr, utr(TERMINAL_ID, inv.invoiceNo));
    const rc = M.decodeReceipt(o.paid.receipt)!;
    assert.equal(rc.status, 1, "settled");
    assert.equal(verifyMessage(run.r.terminalPub, o.paid.receipt), true);
    assert.equal(run.r.printed.length, 1);
  });

  it("records the gateway's online notice as method 5", () => {
    const run = start();
    assert.equal(run.session.paid(paidFor(run), EntryMethod.PaidOnline), true);
    run.r.advance(1000);
    const e = run.r.entries();
    assert.equal(e.length, 1);
    assert.equal(e[0].kind === 2 && e[0].method, EntryMethod.PaidOnline);
  });

  it("refuses a confirmation whose amount differs from the invoice (C05) and journals nothing", () => {
    const run = start(4999);
    run.session.code(toQrText(paidFor(run, { amountMinor: 499 })));
    run.r.advance(1000);
    assert.deepEqual(run.outcomes.map((o) => ("refused" in o ? o.refused.code : "?")), ["C05"]);
    assert.equal(run.r.entries().length, 0);
  });

  it("refuses a confirmation not signed by the issuer (C08)", () => {
    const run = start();
    const paid = paidFor(run);
    paid[paid.length - 1] ^= 1;
    run.session.code(toQrText(paid));
    run.r.advance(1000);
    assert.deepEqual(run.outcomes.map((o) => ("refused" in o ? o.refused.code : "?")), ["C08"]);
    assert.equal(run.r.entries().length, 0);
  });

  it("refuses a confirmation for another terminal (C03)", () => {
    const run = start();
    run.session.code(toQrText(paidFor(run, { terminalId: TERMINAL_ID + 1 })));
    run.r.advance(1000);
    assert.deepEqual(run.outcomes.map((o) => ("refused" in o ? o.refused.code : "?")), ["C03"]);
  });

  it("refuses a confirmation in another currency (C06)", () => {
    const run = start();
    run.session.code(toQrText(paidFor(run, { currency: USD })));
    run.r.advance(1000);
    assert.deepEqual(run.outcomes.map((o) => ("refused" in o ? o.refused.code : "?")), ["C06"]);
  });

  it("keeps the invoice open when the scan is not a confirmation (C01 notice)", () => {
    const run = start();
    run.session.code("HELLO");
    run.r.advance(100);
    assert.deepEqual(run.notices, ["C01"]);
    assert.equal(run.outcomes.length, 0);
    assert.equal(run.session.state, "waiting");
  });

  it("times out after 30 s without progress", () => {
    const run = start();
    run.r.advance(29000);
    assert.equal(run.outcomes.length, 0);
    run.r.advance(1500);
    assert.deepEqual(run.outcomes.map((o) => ("cancelled" in o ? "cancelled" : "?")), ["cancelled"]);
  });

  it("still records a notice that arrives after the session timed out, with its order reference", () => {
    const run = start(4999, "ORD-9");
    run.r.advance(31000);
    const late: InvoiceOutcome[] = [];
    acceptPaid(run.ctx, paidFor(run), EntryMethod.PaidOnline, (o) => late.push(o));
    run.r.advance(1000);
    assert.equal(late.length, 1);
    assert.ok("paid" in late[0]);
    const e = run.r.entries();
    assert.equal(e.length, 1);
    assert.equal(e[0].kind === 2 && e[0].orderRef, "ORD-9");
  });

  it("records one invoice once: the same confirmation again is refused (C10)", () => {
    const run = start();
    const paid = paidFor(run);
    run.session.code(toQrText(paid));
    run.r.advance(1000);
    const again: InvoiceOutcome[] = [];
    acceptPaid(run.ctx, paid, EntryMethod.PaidOnline, (o) => again.push(o));
    run.r.advance(1000);
    assert.deepEqual(again.map((o) => ("refused" in o ? o.refused.code : "?")), ["C10"]);
    assert.equal(run.r.entries().length, 1);
  });

  it("shows the context's QR text, the gateway's pay URL, whose fragment is the signed invoice; its confirmation is taken", () => {
    const run = start(2500, "", { gatewayUrl: "https://pay.example.com/" });
    const url = run.shown[0].qr;
    assert.equal(url.indexOf("https://pay.example.com/pay#"), 0, url);
    const m = invoiceFromText(url);
    assert.ok("msg" in m);
    assert.equal(verifyMessage(run.r.terminalPub, m.msg), true);
    const inv = M.decodeInvoice(m.msg)!;
    assert.equal(inv.amountMinor, 2500);
    assert.equal(inv.invoiceNo, run.session.invoiceNo);
    run.session.code(toQrText(run.r.issuer.signPaid({ terminalId: inv.terminalId, invoiceNo: inv.invoiceNo, amountMinor: 2500, currency: inv.currency, paidAt: 1795000000, method: 3, paymentRef: new Uint8Array(8).fill(2) })));
    run.r.advance(1000);
    assert.ok("paid" in run.outcomes[0], JSON.stringify(run.outcomes[0]));
  });

  it("makes the terminal's invoice QR text the pay URL, or the I1 text without a gateway URL or with one too long for the panel", () => {
    const p = fromQrText(start(100).shown[0].qr);
    assert.ok("msg" in p);
    const inv = p.msg;
    const url = invoiceQrText("http://gateway.sim:8080", inv);
    assert.equal(url, invoiceUrl("http://gateway.sim:8080", inv));
    assert.equal(url.length, 28 + 112, "a typical invoice URL: 140 characters, QR version 7 at level L");
    assert.equal(invoiceQrText("https://g.example/" + "x".repeat(57), inv).length, 192, "a 75-character gateway URL still fits (version 8)");
    assert.equal(invoiceQrText("https://g.example/" + "x".repeat(58), inv), toQrText(inv), "76 characters: the I1 text");
    assert.equal(invoiceQrText("", inv), toQrText(inv), "no gateway configured: the I1 text");
    assert.equal(invoiceQrText("gateway.sim", inv), toQrText(inv), "not an http(s) URL: the I1 text");
    assert.equal(invoiceQrText("https://g\u00e9.example", inv), toQrText(inv), "not ASCII: the I1 text");
  });

  it("cancels on C while waiting", () => {
    const run = start();
    run.session.key("C");
    assert.deepEqual(run.outcomes, [{ cancelled: "Cancelled" }]);
  });
});
