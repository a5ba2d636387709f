/**
 * Card and debit-card payments through the CardProcessor (the sandbox's documented test cards, gateway/cards.ts):
 * approved, declined, insufficient funds, expired, 3-D Secure completed, failed and abandoned; the card number is
 * never stored or logged.
 */
import assert from "node:assert/strict";
import type { SqlStore } from "../../gateway/sql-store.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { makeRig, merchantWithTerminals, ON_POSTGRES } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const exp = "12/39";
async function pay(rig: Rig, body: Record<string, unknown>, path = "/v1/invoices/pay") {
  const r = await rig.gw.handle({ method: "POST", path, headers: {}, body: JSON.stringify(body) });
  return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
}

/** Every text in every table of the gateway's database. */
function dump(rig: Rig): string {
  const db = rig.gw.store as SqlStore;
  const tables = ON_POSTGRES
    ? db.select<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema='public'")
    : db.select<{ name: string }>("SELECT name FROM sqlite_master WHERE type='table'");
  return tables.map((t) => JSON.stringify(db.select("SELECT * FROM " + t.name), (_k, v) => (v instanceof Uint8Array || (v && v.type === "Buffer") ? Buffer.from(v instanceof Uint8Array ? v : v.data).toString("latin1") : v))).join("\n");
}

describe("gateway: card payments through the card processor", () => {
  it("takes the approving test cards (credit and debit), keeps brand, last four and the processor's reference, never the number", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const a = await pay(rig, { invoice: toBase64(t.invoice(1, 1000)), method: "card", card: { number: "4242 4242 4242 4242", expiry: exp, cvc: "123" } });
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const d = await pay(rig, { invoice: toBase64(t.invoice(2, 500)), method: "debit", card: { number: "4000056655665556", expiry: exp, cvc: "123" } });
    assert.equal(d.status, 200);
    const inv = rig.gw.invoices(merchant.merchantId);
    assert.match(inv[0].card, /^visa 4242 sbx_[0-9a-f]{20}$/);
    const byAmount = (amount: number) => rig.gw.ledger().find((l) => l.amountMinor === amount)!.method;
    assert.deepEqual([byAmount(1000), byAmount(500)], [11, 12], "a card, and a debit card (as the card says)");
    const all = dump(rig);
    assert.ok(!all.includes("4242424242424242") && !all.includes("4000056655665556"), "no card number anywhere in the database");
  });

  for (const [number, code] of [
    ["4000000000000002", "CARD_DECLINED"],
    ["4000000000009995", "INSUFFICIENT_FUNDS"],
    ["4000000000000069", "CARD_EXPIRED"],
  ]) {
    it("answers 402 " + code + " for test card " + number + " and records nothing", async () => {
      const rig = makeRig();
      const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
      const r = await pay(rig, { invoice: toBase64(terms[0].invoice(1, 1000)), method: "card", card: { number, expiry: exp, cvc: "123" } });
      assert.equal(r.status, 402);
      assert.equal(r.json.error, code);
      assert.equal(rig.gw.invoices(merchant.merchantId).length, 0);
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 0);
      assert.ok(!dump(rig).includes(number));
    });
  }

  it("refuses an expiry date in the past (402 CARD_EXPIRED) and a bad check digit (400 CARD_INVALID)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const past = await pay(rig, { invoice: toBase64(terms[0].invoice(1, 1000)), method: "card", card: { number: "4242424242424242", expiry: "01/20", cvc: "123" } });
    assert.equal(past.json.error, "CARD_EXPIRED");
    const luhn = await pay(rig, { invoice: toBase64(terms[0].invoice(1, 1000)), method: "card", card: { number: "4242424242424241", expiry: exp, cvc: "123" } });
    assert.equal(luhn.status, 400);
    assert.equal(luhn.json.error, "CARD_INVALID");
  });

  it("asks for 3-D Secure (202), takes a wrong code once (402, still open), then the right one: paid", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const r = await pay(rig, { invoice: toBase64(terms[0].invoice(1, 1000)), method: "card", card: { number: "4000000000003220", expiry: exp, cvc: "123" } });
    assert.equal(r.status, 202);
    assert.equal(r.json.status, "challenge");
    assert.equal(rig.gw.invoices(merchant.merchantId).length, 0, "nothing recorded while the customer is challenged");
    const wrong = await pay(rig, { challengeId: r.json.challengeId, code: "0000" }, "/v1/invoices/pay/3ds");
    assert.equal(wrong.status, 402);
    assert.equal(wrong.json.error, "AUTHENTICATION_FAILED");
    const ok = await pay(rig, { challengeId: r.json.challengeId, code: "1234" }, "/v1/invoices/pay/3ds");
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.match(ok.json.qr as string, /^C1/);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 1000);
    const again = await pay(rig, { challengeId: r.json.challengeId, code: "1234" }, "/v1/invoices/pay/3ds");
    assert.equal(again.status, 404, "a challenge is answered once");
  });

  it("records nothing when the customer abandons 3-D Secure, and the invoice can be paid again", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const invoice = toBase64(terms[0].invoice(1, 1000));
    const r = await pay(rig, { invoice, method: "card", card: { number: "4000000000003220", expiry: exp, cvc: "123" } });
    const gone = await pay(rig, { challengeId: r.json.challengeId, abandon: true }, "/v1/invoices/pay/3ds");
    assert.equal(gone.status, 402);
    assert.equal(rig.gw.invoices(merchant.merchantId).length, 0);
    const ok = await pay(rig, { invoice, method: "card", card: { number: "5555555555554444", expiry: exp, cvc: "123" } });
    assert.equal(ok.status, 200);
  });
});
