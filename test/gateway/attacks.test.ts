/**
 * Attacks on the gateway a security review found (docs/gateway.md, "Threats"), each written as the attack itself:
 * against the code before the fix each of these tests failed because the attack worked (the payment was reversed,
 * the spending went unflagged, the same payment was booked twice, the order was marked paid, the redirect was
 * followed, the refund exceeded the original); now each shows the attack refused.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { PaidResult } from "../../gateway/gateway.ts";
import { fetchTransport } from "../../gateway/webhooks.ts";
import { HOLD_MS } from "../../protocol/rules.ts";
import { DAY, makeRig, merchantWithTerminals, newWallet, walletCall } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const CARD = { number: "4242424242424242", expiry: "12/30", cvc: "123" };

describe("attacks on the gateway (security review)", () => {
  describe("7. payers reverse genuine payments", () => {
    it("a payment the wallet confirmed cannot be reversed by disputing it first: the dispute waits for the issuer", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig);
      const e = t.walletPayment(w, 2000);
      t.record(e);
      await t.uploadAll();
      await walletCall(rig.gw, w, "sync", { spent: w.spent });
      assert.equal((await walletCall(rig.gw, w, "claims", { txId: hexOf(e.txId), action: "dispute" })).status, 200);
      const rev = await walletCall(rig.gw, w, "claims", { txId: hexOf(e.txId), action: "reverse" });
      assert.equal(rev.status, 409, rev.body);
      assert.equal(rev.json.error, "NOT_REVERSIBLE");
      assert.equal(rig.gw.walletBalances(w.walletId).disputed, 2000, "the money waits for the issuer's review");
      const review = await rig.gw.handle({ method: "GET", path: "/v1/admin/disputes", headers: { authorization: "Bearer admin-test" }, body: "" });
      const d = (JSON.parse(review.body).disputes as { ref: string; evidence: { walletSignature: boolean; request: string; payment: string } }[]).find((x) => x.ref === hexOf(e.txId))!;
      assert.equal(d.evidence.walletSignature, true, "the review sees the wallet's own signature on the payment");
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 0);
    });

    it("a payment left out of the sync and auto-approved cannot be reversed 60 days later", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig);
      const e = t.walletPayment(w, 2000);
      t.record(e);
      await t.uploadAll();
      await walletCall(rig.gw, w, "sync", { spent: [] });
      rig.clock.advance(HOLD_MS + 1000);
      rig.gw.tick();
      rig.clock.advance(60 * DAY);
      const rev = await walletCall(rig.gw, w, "claims", { txId: hexOf(e.txId), action: "reverse" });
      assert.equal(rev.status, 409, rev.body);
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 2000);
    });

    it("a held payment can still be reversed while it is held", async () => {
      const rig = makeRig();
      const { terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig, 10000, "+4915100000001", 0);
      const e = t.walletPayment(w, 2000);
      t.record(e);
      await t.uploadAll();
      const rev = await walletCall(rig.gw, w, "claims", { txId: hexOf(e.txId), action: "reverse" });
      assert.equal(rev.status, 200, rev.body);
    });
  });

  describe("8. a new full-cap allowance at every sync", () => {
    it("flags and denies spending under allowances replaced before the payment, and the excess is the wallet's own money or debt", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 4);
      const w = newWallet(rig, 10000, "+4915100000001", 0);
      const allowances = [w.allowance];
      // four daily syncs with nothing reported: four allowances of 100.00 each
      for (let i = 0; i < 3; i++) {
        rig.clock.advance(DAY);
        const s = await walletCall(rig.gw, w, "sync", { spent: [] });
        assert.equal(s.status, 200, s.body);
        allowances.push(Buffer.from(s.json.allowance as string, "base64"));
      }
      // then 100.00 under each, at four terminals
      for (let i = 0; i < 4; i++) {
        w.setAllowance(allowances[i]);
        const t = terms[i];
        t.record(t.walletPayment(w, 10000));
        await t.uploadAll();
      }
      const flags = rig.gw.flags().filter((f) => f.walletId === w.walletId).map((f) => f.kind);
      assert.ok(flags.includes("stale-allowance"), flags.join(","));
      assert.ok(rig.gw.denyList().includes(w.walletId), "the wallet is denied");
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 40000, "the merchant is paid for what terminals accepted");
      assert.equal(rig.gw.walletBalances(w.walletId).debt, -30000, "beyond the one live purse it is the wallet's debt");
    });
  });

  describe("9. one payment booked twice under a new txId", () => {
    it("takes the same request and payment re-journaled under another txId as a duplicate: one booking, the payer not denied", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig);
      const e = t.walletPayment(w, 2500);
      t.record(e);
      t.record({ ...e, txId: t.nextTxId() });
      await t.uploadAll();
      assert.equal(t.pending.length, 0, "both acknowledged");
      assert.equal(rig.gw.ledger().length, 1, "booked once");
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 2500);
      assert.ok(!rig.gw.denyList().includes(w.walletId), "the innocent payer is not a double spender");
      assert.ok(rig.gw.flags().some((f) => f.kind === "rejournaled"), "the terminal's re-journaling is flagged");
    });

    it("still calls the same counter signing two different requests a double spend", async () => {
      const rig = makeRig();
      const { terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig);
      t.record(t.walletPayment(w, 2500, { counter: 0 }));
      t.record(t.walletPayment(w, 2500, { counter: 0 }));
      await t.uploadAll();
      assert.equal(rig.gw.ledger().length, 2);
      assert.ok(rig.gw.denyList().includes(w.walletId));
    });
  });

  describe("10. the payer names the order", () => {
    it("ignores a client-supplied order reference: no order.paid is signed for another order", async () => {
      const rig = makeRig();
      const { terms } = merchantWithTerminals(rig, "Shop", 1);
      const r = await rig.gw.handle({ method: "POST", path: "/v1/invoices/pay", headers: {}, body: JSON.stringify({ invoice: Buffer.from(terms[0].invoice(1, 100)).toString("base64"), method: "card", card: CARD, orderRef: "ORD-999" }) });
      assert.equal(r.status, 200, r.body);
      await rig.gw.flush();
      assert.ok(!rig.hooks.events().includes("order.paid"), rig.hooks.events().join(","));
      assert.equal(rig.gw.ledger()[0].orderRef, "");
    });

    it("sends order.paid with the order the terminal recorded for the invoice", async () => {
      const rig = makeRig();
      const { terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const paid = (await rig.gw.payInvoice({ invoice: t.invoice(1, 100), method: "card", card: CARD })) as PaidResult;
      t.record(t.invoicePaid(paid.paid, 5, "ORD-1"));
      await t.uploadAll();
      await rig.gw.flush();
      const calls = rig.hooks.calls.filter((c) => JSON.parse(c.body).event === "order.paid");
      assert.equal(calls.length, 1);
      assert.equal(JSON.parse(calls[0].body).orderRef, "ORD-1");
    });
  });

  describe("12. hardening", () => {
    it("takes only https webhook URLs (http on loopback for development)", async () => {
      const rig = makeRig();
      assert.throws(() => rig.gw.registerMerchant({ name: "A", webhookUrl: "http://shop.example/hook" }), /https/);
      rig.gw.registerMerchant({ name: "B", webhookUrl: "http://127.0.0.1:9000/hook" });
      rig.gw.registerMerchant({ name: "C", webhookUrl: "https://shop.example/hook" });
      const m = rig.gw.registerMerchant({ name: "D" });
      const r = await rig.gw.handle({ method: "PUT", path: "/v1/merchants/" + m.merchantId + "/settings", headers: { authorization: "Bearer " + m.apiKey }, body: JSON.stringify({ webhookUrl: "http://10.0.0.5/hook" }) });
      assert.equal(r.status, 400);
    });

    it("does not follow a webhook's redirect", async () => {
      let hits = 0;
      const target = http.createServer((_q, s) => {
        hits++;
        s.end("ok");
      });
      const redirector = http.createServer((_q, s) => {
        s.writeHead(307, { location: "http://127.0.0.1:" + (target.address() as AddressInfo).port + "/steal" });
        s.end();
      });
      await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
      await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
      try {
        const res = await fetchTransport.post("http://127.0.0.1:" + (redirector.address() as AddressInfo).port + "/hook", { "content-type": "application/json" }, "{}");
        assert.equal(res.status, 307, "a redirect is a failed delivery");
        assert.equal(hits, 0, "the redirect's target was never called");
      } finally {
        target.close();
        redirector.close();
      }
    });

    it("tells the merchant a delivery failed without echoing the receiver's error text", async () => {
      const rig = makeRig();
      rig.hooks.post = async () => {
        throw new Error("connect ECONNREFUSED 10.1.2.3:443 internal-host.corp");
      };
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      await rig.gw.payInvoice({ invoice: terms[0].invoice(1, 100), method: "card", card: CARD });
      await rig.gw.flush();
      const r = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/events", headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
      assert.ok(!r.body.includes("internal-host") && !r.body.includes("10.1.2.3"), r.body);
      const act = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/activity", headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
      assert.ok(!act.body.includes("internal-host"), "nor in the merchant's activity");
    });

    it("caps refunds by what remains of the original, in total", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      const w = newWallet(rig);
      const e = t.walletPayment(w, 1000);
      t.record(e);
      await t.uploadAll();
      t.record(t.refund(e.txId, 600));
      t.record(t.refund(e.txId, 600));
      await t.uploadAll();
      assert.equal(rig.gw.ledger().filter((l) => l.kind === "refund").length, 1, "the second refund would pass the original");
      assert.equal(t.rejected[0]?.code, "E_REFUND_OVER");
      assert.equal(rig.gw.walletBalances(w.walletId).available, 100000 + 600);
      void merchant;
    });

    it("refuses a refund of a transaction the books do not hold", async () => {
      const rig = makeRig();
      const { terms } = merchantWithTerminals(rig, "Shop", 1);
      const t = terms[0];
      t.record(t.refund(new Uint8Array([0, 0, 0, 9, 0, 0, 0, 1]), 500));
      await t.uploadAll();
      assert.equal(rig.gw.ledger().length, 0);
      assert.equal(t.rejected[0]?.code, "E_REFUND_UNKNOWN");
    });

    it("registers a terminal key once, and a revoked terminal is refused on the link", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      assert.throws(() => rig.gw.registerTerminal({ merchantId: merchant.merchantId, publicKey: terms[0].publicKey }), (e: Error & { code?: string }) => e.code === "KEY_REGISTERED");
      const r = await rig.gw.handle({ method: "POST", path: "/v1/merchants/" + merchant.merchantId + "/terminals/" + terms[0].terminalId + "/revoke", headers: { authorization: "Bearer " + merchant.apiKey }, body: "{}" });
      assert.equal(r.status, 200, r.body);
      await assert.rejects(terms[0].hello(), (e: Error & { status?: number }) => e.status === 403);
    });
  });
});
