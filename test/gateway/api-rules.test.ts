/**
 * The HTTP API's rules that are not about money: JSON only as application/json (415 otherwise), the `Bearer`
 * scheme in any case (RFC 7235 section 2.1: the auth-scheme is case-insensitive), a terminal identity key
 * registered once, and a refused request changes nothing.
 */
import assert from "node:assert/strict";
import type { GatewayRequest } from "../../gateway/gateway.ts";
import { SoftWallet } from "../helpers/soft-terminal.ts";
import { makeRig, merchantWithTerminals, nextWalletTime, storeDump } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function call(rig: Rig, method: string, path: string, headers: Record<string, string>, body = "") {
  const req: GatewayRequest = { method, path, headers, body };
  const r = await rig.gw.handle(req);
  return { status: r.status, body: r.body, json: (r.headers?.["content-type"] ?? "application/json").startsWith("application/json") ? JSON.parse(r.body) : undefined };
}

describe("gateway API: JSON only as application/json", () => {
  it("refuses a JSON body sent as text/plain, a form or multipart with 415 and changes nothing", async () => {
    const rig = makeRig();
    const before = storeDump(rig);
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/xml"]) {
      const r = await call(rig, "POST", "/v1/merchants", { authorization: "Bearer admin-test", "content-type": type }, JSON.stringify({ name: "Shop" }));
      assert.equal(r.status, 415, type + ": " + r.body);
      assert.equal(r.json.error, "UNSUPPORTED_MEDIA_TYPE", type);
    }
    assert.equal(storeDump(rig), before);
  });

  it("refuses it on the public and the wallet routes too (a page elsewhere cannot post a form to them)", async () => {
    const rig = makeRig();
    const w = new SoftWallet();
    rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 1000, balanceMinor: 2000 });
    const before = storeDump(rig);
    const path = "/v1/wallets/" + w.walletId + "/balance";
    const body = JSON.stringify({ time: nextWalletTime() });
    const signed = { "x-wallet-signature": w.signRequest("POST", path, body), "content-type": "text/plain" };
    const r = await call(rig, "POST", path, signed, body);
    assert.equal(r.status, 415, r.body);
    const inv = await call(rig, "POST", "/v1/invoices", { "content-type": "application/x-www-form-urlencoded" }, JSON.stringify({ invoice: "AAAA" }));
    assert.equal(inv.status, 415, inv.body);
    assert.equal(storeDump(rig), before);
  });

  it("takes application/json with parameters and in any case (RFC 9110 section 8.3.1), and a body without a type", async () => {
    const rig = makeRig();
    const names = ["A", "B", "C"];
    const types = ["application/json; charset=utf-8", "Application/JSON", undefined];
    for (let i = 0; i < types.length; i++) {
      const headers: Record<string, string> = { authorization: "Bearer admin-test", ...(types[i] ? { "content-type": types[i] as string } : {}) };
      const r = await call(rig, "POST", "/v1/merchants", headers, JSON.stringify({ name: names[i] }));
      assert.equal(r.status, 201, String(types[i]) + ": " + r.body);
    }
  });

  it("keeps the terminal link's text/plain bodies", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const hello = await terms[0].hello();
    assert.equal(typeof hello.time, "number");
  });
});

describe("gateway API: the Bearer scheme in any case", () => {
  it("takes bearer, BEARER and Bearer for the admin token and a merchant's key", async () => {
    const rig = makeRig();
    const m = rig.gw.registerMerchant({ name: "Shop" });
    for (const scheme of ["bearer", "BEARER", "Bearer", "bEaReR"]) {
      const admin = await call(rig, "GET", "/v1/admin/flags", { authorization: scheme + " admin-test" });
      assert.equal(admin.status, 200, scheme + " (admin): " + admin.body);
      const own = await call(rig, "GET", "/v1/merchants/" + m.merchantId + "/settings", { authorization: scheme + " " + m.apiKey });
      assert.equal(own.status, 200, scheme + " (merchant): " + own.body);
    }
  });

  it("still refuses another scheme, and a token with no scheme", async () => {
    const rig = makeRig();
    for (const h of ["Basic admin-test", "admin-test", "Bearer", "Bearer ", "Beareradmin-test"]) {
      const r = await call(rig, "GET", "/v1/admin/flags", { authorization: h });
      assert.equal(r.status, 401, JSON.stringify(h) + ": " + r.body);
    }
  });
});

describe("gateway API: a terminal identity key registers once", () => {
  it("refuses the same key for a second terminal of the same or another merchant (409 KEY_REGISTERED), also after its revocation, and changes nothing", async () => {
    const rig = makeRig();
    const { merchant: a, terms } = merchantWithTerminals(rig, "A", 1);
    const b = rig.gw.registerMerchant({ name: "B" });
    const key = hex(terms[0].publicKey);
    const tryAgain = async (m: { merchantId: number; apiKey: string }, publicKey: string) => {
      const before = storeDump(rig);
      const r = await call(rig, "POST", "/v1/merchants/" + m.merchantId + "/terminals", { authorization: "Bearer " + m.apiKey, "content-type": "application/json" }, JSON.stringify({ publicKey }));
      assert.equal(r.status, 409, r.body);
      assert.equal(r.json.error, "KEY_REGISTERED");
      if (m.merchantId !== a.merchantId) assert.doesNotMatch(r.body, new RegExp("terminal " + terms[0].terminalId), "another merchant learns no terminal ID");
      assert.equal(storeDump(rig), before);
    };
    await tryAgain(a, key);
    await tryAgain(b, key);
    await tryAgain(b, key.toUpperCase());
    const rev = await call(rig, "POST", "/v1/merchants/" + a.merchantId + "/terminals/" + terms[0].terminalId + "/revoke", { authorization: "Bearer " + a.apiKey }, "{}");
    assert.equal(rev.status, 200, rev.body);
    await tryAgain(a, key);
    await tryAgain(b, key);
  });
});

describe("gateway API: an admin top-up over HTTP", () => {
  it("reaches POST /v1/wallets/{walletId}/topups (the wallet's own routes do not take it), once per reference", async () => {
    const rig = makeRig();
    const w = new SoftWallet();
    rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 1000, balanceMinor: 1000 });
    const path = "/v1/wallets/" + w.walletId + "/topups";
    const headers = { authorization: "Bearer admin-test", "content-type": "application/json" };
    const r = await call(rig, "POST", path, headers, JSON.stringify({ amountMinor: 2500, reference: "bank-1" }));
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.available, 2500);
    const again = await call(rig, "POST", path, headers, JSON.stringify({ amountMinor: 2500, reference: "bank-1" }));
    assert.equal(again.status, 409, again.body);
    const noAdmin = await call(rig, "POST", path, { "content-type": "application/json" }, JSON.stringify({ amountMinor: 1, reference: "bank-2" }));
    assert.equal(noAdmin.status, 401, noAdmin.body);
  });
});
