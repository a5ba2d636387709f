/**
 * A tour of docs/gateway-api.yaml: the operations are read from the description and each is called, so that the
 * response check (test/helpers/api-contract.ts, installed by ./helpers.ts) sees every success body and the
 * refusals every operation of a kind shares: no or a wrong admin token (401, 403), no or an unknown merchant key
 * (401), no wallet signature (401), a JSON body under another Content-Type (415).
 */
import assert from "node:assert/strict";
import type { GatewayResponse } from "../../gateway/gateway.ts";
import { apiContract } from "../helpers/api-contract.ts";
import type { ApiOperation } from "../helpers/api-contract.ts";
import { makeRig, merchantWithTerminals, newWallet, nextWalletTime, storeDump } from "./helpers.ts";

/** A gateway whose books hold one of everything the routes list. */
async function touredRig() {
  const rig = makeRig();
  const { merchant: a, terms } = merchantWithTerminals(rig, "A", 2);
  rig.gw.updateMerchant(a.merchantId, { iban: "DE89370400440532013000" });
  const w = newWallet(rig);
  const t = terms[0];
  t.record(t.walletPayment(w, 250));
  await t.uploadAll();
  const admin = { authorization: "Bearer admin-test", "content-type": "application/json" };
  const call = (method: string, path: string, body = "", headers: Record<string, string> = admin) => rig.gw.handle({ method, path, headers, body });
  const inv = await call("POST", "/v1/invoices", JSON.stringify({ invoice: Buffer.from(t.invoice(1, 700)).toString("base64") }), { "content-type": "application/json" });
  assert.equal(inv.status, 200, inv.body);
  return { rig, a, w, terms, admin, call };
}

/** The path of an operation with its parameters filled in. */
function fill(op: ApiOperation, p: { merchantId: number; walletId: string; terminalId: number }): string {
  return op.path
    .replace("{merchantId}", String(p.merchantId))
    .replace("{walletId}", p.walletId)
    .replace("{terminalId}", String(p.terminalId))
    .replace("{runId}", "1")
    .replace("{id}", "1")
    .replace("{op}", "hello");
}

describe("gateway API: a tour of every described operation", () => {
  const ops = apiContract().operations();

  it("answers every admin operation without a token 401 and with another token 403, changing nothing", async () => {
    const { rig, a, w, terms } = await touredRig();
    const adminOnly = ops.filter((o) => o.security.length === 1 && o.security[0] === "admin");
    assert.ok(adminOnly.length >= 20, "admin operations: " + adminOnly.length);
    const before = storeDump(rig);
    for (const o of adminOnly) {
      const path = fill(o, { merchantId: a.merchantId, walletId: w.walletId, terminalId: terms[0].terminalId });
      const none = await rig.gw.handle({ method: o.method, path, headers: { "content-type": "application/json" }, body: o.body ? "{}" : "" });
      assert.equal(none.status, 401, o.method + " " + o.path + ": " + none.body);
      const other = await rig.gw.handle({ method: o.method, path, headers: { authorization: "Bearer not-the-admin", "content-type": "application/json" }, body: o.body ? "{}" : "" });
      assert.equal(other.status, 403, o.method + " " + o.path + ": " + other.body);
    }
    assert.equal(storeDump(rig), before);
  });

  it("answers every merchant operation without a key or with an unknown key 401, changing nothing", async () => {
    const { rig, a, w, terms } = await touredRig();
    const merchantOps = ops.filter((o) => o.security.includes("merchant"));
    assert.ok(merchantOps.length >= 15, "merchant operations: " + merchantOps.length);
    const before = storeDump(rig);
    for (const o of merchantOps) {
      const path = fill(o, { merchantId: a.merchantId, walletId: w.walletId, terminalId: terms[1].terminalId });
      for (const headers of [{}, { authorization: "Bearer mk_unknown" }, { authorization: "Basic " + Buffer.from("a:b").toString("base64") }]) {
        const r = await rig.gw.handle({ method: o.method, path, headers: { ...headers, "content-type": "application/json" }, body: o.body ? "{}" : "" });
        assert.equal(r.status, 401, o.method + " " + o.path + " " + JSON.stringify(headers) + ": " + r.body);
      }
    }
    assert.equal(storeDump(rig), before);
  });

  it("answers every wallet operation without a signature 401, changing nothing", async () => {
    const { rig, a, w, terms } = await touredRig();
    const walletOps = ops.filter((o) => o.security.length === 1 && o.security[0] === "wallet");
    assert.ok(walletOps.length >= 5, "wallet operations: " + walletOps.length);
    const before = storeDump(rig);
    for (const o of walletOps) {
      const path = fill(o, { merchantId: a.merchantId, walletId: w.walletId, terminalId: terms[0].terminalId });
      const r = await rig.gw.handle({ method: o.method, path, headers: { "content-type": "application/json" }, body: JSON.stringify({ time: nextWalletTime(), spent: [] }) });
      assert.equal(r.status, 401, o.method + " " + o.path + ": " + r.body);
      assert.equal(JSON.parse(r.body).error, "UNAUTHENTICATED");
    }
    assert.equal(storeDump(rig), before);
  });

  it("refuses a JSON body as text/plain with 415 on every operation that takes JSON, changing nothing", async () => {
    const { rig, a, w, terms } = await touredRig();
    const jsonOps = ops.filter((o) => o.json);
    assert.ok(jsonOps.length >= 20, "operations with a JSON body: " + jsonOps.length);
    const before = storeDump(rig);
    for (const o of jsonOps) {
      const path = fill(o, { merchantId: a.merchantId, walletId: w.walletId, terminalId: terms[0].terminalId });
      // authenticated where the route asks for it first, so that the body is what is refused
      const body = JSON.stringify({ time: nextWalletTime(), invoice: "AAAA", method: o.path === "/v1/invoices/pay" ? "card" : undefined });
      const headers: Record<string, string> = { "content-type": "text/plain;charset=UTF-8", authorization: "Bearer admin-test" };
      if (o.security.includes("wallet")) headers["x-wallet-signature"] = w.signRequest(o.method, path, body);
      const r = await rig.gw.handle({ method: o.method, path, headers, body });
      assert.equal(r.status, 415, o.method + " " + o.path + ": " + r.body);
      assert.equal(JSON.parse(r.body).error, "UNSUPPORTED_MEDIA_TYPE");
    }
    assert.equal(storeDump(rig), before);
  });

  it("answers the success of the operations the other suites do not reach, each as described", async () => {
    const { rig, a, w, call } = await touredRig();
    const walletCall = (op: string, fields: Record<string, unknown> = {}) => {
      const path = "/v1/wallets/" + w.walletId + "/" + op;
      const body = JSON.stringify({ time: nextWalletTime(), ...fields });
      return rig.gw.handle({ method: "POST", path, headers: { "content-type": "application/json", "x-wallet-signature": w.signRequest("POST", path, body) }, body });
    };
    const sms = rig.gw.store.sms()[0];
    assert.ok(sms, "an SMS to the payer was queued");
    const steps: [string, () => Promise<GatewayResponse>, number][] = [
      ["GET /pay", () => call("GET", "/pay"), 200],
      ["GET /pay/qrcode.js", () => call("GET", "/pay/qrcode.js"), 200],
      ["POST /v1/sms/{id}/dlr", () => call("POST", "/v1/sms/" + sms.id + "/dlr?type=1&token=" + sms.dlrToken, "", {}), 200],
      ["wallet balance", () => walletCall("balance"), 200],
      ["wallet transactions", () => walletCall("transactions"), 200],
      ["wallet allowance", () => walletCall("allowance"), 200],
      ["POST /v1/admin/tick", () => call("POST", "/v1/admin/tick"), 200],
      ["GET /v1/admin/payout-account (not set)", () => call("GET", "/v1/admin/payout-account"), 200],
      ["PUT /v1/admin/payout-account", () => call("PUT", "/v1/admin/payout-account", JSON.stringify({ name: "Issuer", iban: "DE02120300000000202051" })), 200],
      ["GET /v1/admin/payout-account", () => call("GET", "/v1/admin/payout-account"), 200],
      ["POST /v1/admin/payouts", () => call("POST", "/v1/admin/payouts", JSON.stringify({ period: "2026-11-22" })), 200],
      ["GET /v1/admin/payouts", () => call("GET", "/v1/admin/payouts"), 200],
      ["GET /v1/admin/deny", () => call("GET", "/v1/admin/deny"), 200],
      ["GET /v1/admin/ledger", () => call("GET", "/v1/admin/ledger"), 200],
      ["GET /v1/admin/books", () => call("GET", "/v1/admin/books"), 200],
      ["GET /v1/admin/sms", () => call("GET", "/v1/admin/sms"), 200],
      ["GET /v1/admin/disputes", () => call("GET", "/v1/admin/disputes"), 200],
      ["GET /v1/admin/issuer-keys", () => call("GET", "/v1/admin/issuer-keys"), 200],
      ["GET statement as CSV", () => call("GET", "/v1/merchants/" + a.merchantId + "/statement?format=csv"), 200],
    ];
    for (const [name, step, status] of steps) {
      const r = await step();
      assert.equal(r.status, status, name + ": " + r.body.slice(0, 200));
    }
  });

  it("checks the tour's answers against the description (the hook saw each of them)", () => {
    const seen = apiContract().seen;
    for (const want of ["GET /pay 200", "POST /v1/sms/{id}/dlr 200", "POST /v1/wallets/{walletId}/balance 200", "GET /v1/admin/books 200", "POST /v1/admin/tick 403", "GET /v1/merchants/{merchantId}/ledger 401", "POST /v1/wallets/{walletId}/claims 415"]) {
      assert.ok(seen.has(want), want);
    }
  });
});

