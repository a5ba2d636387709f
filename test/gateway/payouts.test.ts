/**
 * Payouts: the daily settlement run moves each merchant's available balance to paid out and writes a pain.001 file
 * that a bank takes (read back here with an XML parser: the group header's count and control sum equal the
 * payouts); statements reconcile: opening balance + postings = closing balance.
 */
import assert from "node:assert/strict";
import { XMLParser } from "fast-xml-parser";
import { validIban } from "../../gateway/payouts.ts";
import { DAY, makeRig, merchantWithTerminals, newWallet, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const ISSUER = { name: "Offline Pay Issuer", iban: "DE89370400440532013000", bic: "COBADEFFXXX" };
const IBAN_A = "FR1420041010050500013M02606";
const IBAN_B = "GB29NWBK60161331926819";
const CARD = { number: "4242424242424242", expiry: "12/30", cvc: "123" };

function admin(rig: Rig, method: string, path: string, body?: unknown) {
  return rig.gw.handle({ method, path, headers: { authorization: "Bearer admin-test" }, body: body === undefined ? "" : JSON.stringify(body) });
}

/** Two merchants with money available (card payments) and one without an IBAN. */
async function shops(rig: Rig) {
  const a = merchantWithTerminals(rig, "Cafe Blue", 1);
  const b = merchantWithTerminals(rig, "Books & Co", 1);
  const c = merchantWithTerminals(rig, "No Bank", 1);
  rig.gw.updateMerchant(a.merchant.merchantId, { iban: IBAN_A });
  rig.gw.updateMerchant(b.merchant.merchantId, { iban: IBAN_B, bic: "NWBKGB2L" });
  await rig.gw.payInvoice({ invoice: a.terms[0].invoice(1, 1234), method: "card", card: CARD });
  await rig.gw.payInvoice({ invoice: a.terms[0].invoice(2, 66), method: "debit", card: CARD });
  await rig.gw.payInvoice({ invoice: b.terms[0].invoice(1, 5000), method: "card", card: CARD });
  await rig.gw.payInvoice({ invoice: c.terms[0].invoice(1, 700), method: "card", card: CARD });
  return { a: a.merchant.merchantId, b: b.merchant.merchantId, c: c.merchant.merchantId, terms: { a: a.terms[0] } };
}

describe("gateway payouts", () => {
  it("checks IBANs by their mod-97 check digits", () => {
    assert.ok(validIban(IBAN_A) && validIban(IBAN_B) && validIban(ISSUER.iban));
    assert.ok(!validIban("DE89370400440532013001"));
    assert.ok(!validIban("de89370400440532013000"));
  });

  it("refuses a merchant IBAN with wrong check digits (400) and changes nothing", async () => {
    const rig = makeRig();
    const { merchant } = merchantWithTerminals(rig, "Shop", 0);
    const r = await admin(rig, "PUT", "/v1/merchants/" + merchant.merchantId + "/settings", { iban: "DE89370400440532013001" });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error, "BAD_IBAN");
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 0);
  });

  it("refuses to run without the issuer's payout account (409), moving nothing", async () => {
    const rig = makeRig();
    const s = await shops(rig);
    const r = await admin(rig, "POST", "/v1/admin/payouts", { period: "2026-11-23" });
    assert.equal(r.status, 409);
    assert.equal(JSON.parse(r.body).error, "NO_PAYOUT_ACCOUNT");
    assert.equal(rig.gw.merchantBalances(s.a).available, 1300);
  });

  it("moves every merchant's available balance to paid out once per day and writes a pain.001 whose header counts and sums the payouts", async () => {
    const rig = makeRig();
    const s = await shops(rig);
    assert.equal((await admin(rig, "PUT", "/v1/admin/payout-account", ISSUER)).status, 200);
    const r = await admin(rig, "POST", "/v1/admin/payouts", { period: "2026-11-23" });
    assert.equal(r.status, 200, r.body);
    const run = JSON.parse(r.body);
    assert.equal(run.payouts.length, 2);
    assert.deepEqual(run.skipped, [{ merchantId: s.c, reason: "no IBAN on file" }]);
    assert.deepEqual(rig.gw.merchantBalances(s.a), { merchantId: s.a, currency: 978, pending: 0, available: 0, paidOut: 1300 });
    assert.deepEqual(rig.gw.merchantBalances(s.b), { merchantId: s.b, currency: 978, pending: 0, available: 0, paidOut: 5000 });
    assert.equal(rig.gw.merchantBalances(s.c).available, 700, "no IBAN: the money stays available");

    const file = await admin(rig, "GET", "/v1/admin/payouts/" + run.run.id + "/pain001");
    assert.equal(file.status, 200);
    assert.equal(file.headers?.["content-type"], "application/xml");
    const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === "CdtTrfTxInf" || name === "PmtInf" }).parse(file.body);
    assert.equal(doc.Document["@_xmlns"], "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09");
    const root = doc.Document.CstmrCdtTrfInitn;
    const txs = root.PmtInf.flatMap((p: { CdtTrfTxInf: unknown[] }) => p.CdtTrfTxInf) as { Amt: { InstdAmt: { "#text": string; "@_Ccy": string } }; CdtrAcct: { Id: { IBAN: string } } }[];
    assert.equal(Number(root.GrpHdr.NbOfTxs), txs.length);
    const cents = (x: string) => Math.round(Number(x) * 100);
    assert.equal(cents(root.GrpHdr.CtrlSum), txs.reduce((a, t) => a + cents(t.Amt.InstdAmt["#text"]), 0));
    assert.equal(cents(root.GrpHdr.CtrlSum), 6300);
    assert.deepEqual(txs.map((t) => [t.CdtrAcct.Id.IBAN, t.Amt.InstdAmt["#text"], t.Amt.InstdAmt["@_Ccy"]]).sort(), [[IBAN_A, "13.00", "EUR"], [IBAN_B, "50.00", "EUR"]].sort());
    assert.equal(root.PmtInf[0].DbtrAcct.Id.IBAN, ISSUER.iban);
    assert.equal(root.PmtInf[0].Dbtr.Nm, "Offline Pay Issuer");

    // the same period again changes nothing and answers the same run
    const again = await admin(rig, "POST", "/v1/admin/payouts", { period: "2026-11-23" });
    assert.equal(JSON.parse(again.body).run.id, run.run.id);
    assert.equal(rig.gw.merchantBalances(s.a).paidOut, 1300);
  });

  it("runs the daily settlement from tick() once the day is over, once", async () => {
    const rig = makeRig(":memory:", { dailyPayouts: true, payoutAccount: ISSUER });
    const s = await shops(rig);
    rig.gw.tick();
    assert.equal(rig.gw.merchantBalances(s.a).paidOut, 1300, "yesterday's run, on the first tick");
    await rig.gw.payInvoice({ invoice: s.terms.a.invoice(3, 200), method: "card", card: CARD });
    rig.gw.tick();
    assert.equal(rig.gw.merchantBalances(s.a).available, 200, "one run per day");
    rig.clock.advance(DAY);
    rig.gw.tick();
    assert.deepEqual(rig.gw.merchantBalances(s.a), { merchantId: s.a, currency: 978, pending: 0, available: 0, paidOut: 1500 });
  });

  it("gives a statement where opening balance + postings = closing balance, as JSON and CSV, to the merchant only", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Cafe", 1);
    rig.gw.updateMerchant(merchant.merchantId, { iban: IBAN_A });
    rig.gw.setPayoutAccount(ISSUER);
    const t = terms[0];
    const w = newWallet(rig);
    await rig.gw.payInvoice({ invoice: t.invoice(1, 1000), method: "card", card: CARD });
    const from = rig.clock.now() + 1;
    rig.clock.advance(1000);
    t.record(t.walletPayment(w, 300));
    await t.uploadAll();
    await walletCall(rig.gw, w, "sync", { spent: w.spent });
    rig.gw.runPayouts("2026-11-23");
    rig.clock.advance(1000);
    const to = rig.clock.now();
    const other = rig.gw.registerMerchant({ name: "Other" });
    const denied = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/statement", headers: { authorization: "Bearer " + other.apiKey }, body: "" });
    assert.equal(denied.status, 404);
    const r = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/statement?from=" + from + "&to=" + to, headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
    assert.equal(r.status, 200, r.body);
    const st = JSON.parse(r.body) as { accounts: { account: string; opening: number; closing: number; postings: { debit: number; credit: number }[] }[] };
    for (const a of st.accounts) assert.equal(a.opening + a.postings.reduce((x, p) => x + p.credit - p.debit, 0), a.closing, a.account);
    const avail = st.accounts.find((a) => a.account.endsWith(":available"))!;
    assert.deepEqual([avail.opening, avail.closing], [1000, 0], "opened with the card payment; paid out to 0");
    assert.equal(avail.postings.length, 2, "approve 300 in, payout 1300 out");
    const csv = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/statement?format=csv&from=" + from + "&to=" + to, headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
    assert.equal(csv.headers?.["content-type"], "text/csv");
    const lines = csv.body.trim().split("\r\n");
    assert.equal(lines[0], "account,time,kind,ref,memo,debit,credit,balance");
    const rows = lines.slice(1).map((l) => l.split(",")).filter((c) => c[0].endsWith(":available"));
    const opening = Number(rows[0][7]);
    const closing = Number(rows[rows.length - 1][7]);
    const sum = rows.slice(1, -1).reduce((x, c) => x + Number(c[6] || 0) - Number(c[5] || 0), 0);
    assert.equal(opening + sum, closing);
  });
});
