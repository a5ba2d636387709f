/**
 * Merchant isolation, over every merchant route docs/gateway-api.yaml describes (the table is read from it, so a
 * new route is in it the day it is described): merchant B's key on merchant A's routes gets 404 UNKNOWN_MERCHANT,
 * word for word what an ID no merchant has gets, and changes nothing in the database. A's own key on the same
 * request succeeds, so the 404 is the isolation and not a malformed request.
 */
import assert from "node:assert/strict";
import { SoftWallet } from "../helpers/soft-terminal.ts";
import { apiContract } from "../helpers/api-contract.ts";
import { makeRig, merchantWithTerminals, newWallet, storeDump } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** A's books with something in each: a held wallet payment uploaded, an invoice opened, a webhook, a flag. */
async function twoMerchants() {
  const rig = makeRig();
  const { merchant: a, terms } = merchantWithTerminals(rig, "A", 2);
  const b = rig.gw.registerMerchant({ name: "B", webhookUrl: "https://b.example/hook" });
  const w = newWallet(rig);
  const t = terms[0];
  t.record(t.walletPayment(w, 250));
  await t.uploadAll();
  const inv = await rig.gw.handle({ method: "POST", path: "/v1/invoices", headers: { "content-type": "application/json" }, body: JSON.stringify({ invoice: Buffer.from(t.invoice(1, 700)).toString("base64") }) });
  assert.equal(inv.status, 200, inv.body);
  return { rig, a, b, terms };
}

/** A concrete request for each described merchant operation on merchant `mid`. */
function requests(mid: number, terminalId: number) {
  const ops = apiContract()
    .operations()
    .filter((o) => o.path.startsWith("/v1/merchants/{merchantId}/"));
  return ops.map((o) => {
    const path = o.path.replace("{merchantId}", String(mid)).replace("{terminalId}", String(terminalId));
    let body = "";
    if (o.method === "POST" && o.path.endsWith("/terminals")) body = JSON.stringify({ publicKey: hex(new SoftWallet().publicKey) });
    else if (o.method === "PUT" && o.path.endsWith("/settings")) body = JSON.stringify({ webhookUrl: "https://evil.example/steal", limits: { perTxMinor: 1 } });
    else if (o.body) body = "{}";
    return { name: o.method + " " + o.path, method: o.method, path, body };
  });
}

describe("gateway: merchant isolation", () => {
  it("covers the merchant routes the issue names (the table comes from the description)", () => {
    const names = requests(1, 1).map((r) => r.name);
    for (const want of ["ledger", "holds", "activity", "events", "records", "flags", "settings", "terminals", "statement", "payouts", "balances", "invoices", "connections"]) {
      assert.ok(names.some((n) => n.includes("/" + want)), want + " is a described merchant route");
    }
    for (const m of ["GET", "POST", "PUT"]) assert.ok(names.some((n) => n.startsWith(m + " ")), m);
  });

  it("answers another merchant's key with 404 UNKNOWN_MERCHANT on every merchant route, as for no merchant at all, and changes nothing", async () => {
    const { rig, a, b, terms } = await twoMerchants();
    const table = requests(a.merchantId, terms[1].terminalId);
    assert.ok(table.length >= 15, "merchant routes: " + table.length);
    const nobody = 999;
    for (const r of table) {
      const before = storeDump(rig);
      const res = await rig.gw.handle({ method: r.method, path: r.path, headers: { authorization: "Bearer " + b.apiKey, "content-type": "application/json" }, body: r.body });
      assert.equal(res.status, 404, r.name + ": " + res.body);
      assert.deepEqual(JSON.parse(res.body), { error: "UNKNOWN_MERCHANT", message: "no merchant " + a.merchantId }, r.name);
      assert.equal(storeDump(rig), before, r.name + " changed the database");
      // the same request for an ID no merchant has: the same answer, nothing learnt from the difference
      const none = await rig.gw.handle({ method: r.method, path: r.path.replace("/merchants/" + a.merchantId + "/", "/merchants/" + nobody + "/"), headers: { authorization: "Bearer " + b.apiKey, "content-type": "application/json" }, body: r.body });
      assert.equal(none.status, 404, r.name);
      assert.equal(JSON.parse(none.body).error, "UNKNOWN_MERCHANT", r.name);
    }
    // B's own books are untouched and A's settings are A's
    assert.equal(rig.gw.ledger(b.merchantId).length, 0);
    const settings = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + a.merchantId + "/settings", headers: { authorization: "Bearer " + a.apiKey }, body: "" });
    assert.notEqual(JSON.parse(settings.body).webhookUrl, "https://evil.example/steal");
  });

  it("serves the same requests with the merchant's own key (the 404 above is the isolation, not a bad request)", async () => {
    const { rig, a, terms } = await twoMerchants();
    // the revocation last: it changes what the other routes show, not whether they answer
    const table = requests(a.merchantId, terms[1].terminalId).sort((x, y) => Number(x.name.includes("revoke")) - Number(y.name.includes("revoke")));
    for (const r of table) {
      const res = await rig.gw.handle({ method: r.method, path: r.path, headers: { authorization: "Bearer " + a.apiKey, "content-type": "application/json" }, body: r.body });
      assert.ok(res.status >= 200 && res.status < 300, r.name + " -> " + res.status + " " + res.body.slice(0, 200));
    }
  });

  it("shows a merchant none of another's rows (A's books hold something, B's list nothing)", async () => {
    const { rig, a, b } = await twoMerchants();
    for (const book of ["ledger", "holds", "records", "events", "activity", "connections", "invoices", "terminals"]) {
      const get = async (m: { merchantId: number; apiKey: string }) => {
        const r = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + m.merchantId + "/" + book, headers: { authorization: "Bearer " + m.apiKey }, body: "" });
        assert.equal(r.status, 200, book + ": " + r.body);
        return JSON.parse(r.body)[book] as { merchantId?: number }[];
      };
      const mine = await get(a);
      assert.ok(mine.length > 0, "A's " + book + " holds something");
      for (const row of mine) if (row.merchantId !== undefined) assert.equal(row.merchantId, a.merchantId, book);
      const theirs = await get(b);
      for (const row of theirs) if (row.merchantId !== undefined) assert.equal(row.merchantId, b.merchantId, book);
      if (book !== "activity" && book !== "events") assert.equal(theirs.length, 0, "B's " + book + ": " + JSON.stringify(theirs).slice(0, 200));
    }
  });
});
