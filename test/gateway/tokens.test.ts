/**
 * Admin and merchant tokens rotate and expire (gateway/tokens.ts): the new one works at once, the previous one for
 * its grace period only, an expired one answers 401 TOKEN_EXPIRED, and another merchant's key rotates nothing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DAY, makeRig } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

async function call(rig: Rig, method: string, path: string, token: string, body?: unknown) {
  const r = await rig.gw.handle({ method, path, headers: { authorization: "Bearer " + token, "content-type": "application/json" }, body: body === undefined ? "" : JSON.stringify(body) });
  return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
}

describe("gateway: tokens rotate and expire", () => {
  it("rotates the admin token: the new one works, the old one until its grace ends, then 401 TOKEN_EXPIRED", async () => {
    const rig = makeRig();
    const r = await call(rig, "POST", "/v1/admin/token", "admin-test", { graceSeconds: 600 });
    assert.equal(r.status, 200);
    const fresh = r.json.adminToken as string;
    assert.match(fresh, /^adm_[0-9a-f]{36}$/);
    assert.equal(rig.gw.adminToken, fresh);
    assert.equal((await call(rig, "GET", "/v1/admin/ledger", fresh)).status, 200);
    assert.equal((await call(rig, "GET", "/v1/admin/ledger", "admin-test")).status, 200, "the previous token in its grace period");
    rig.clock.advance(601000);
    const old = await call(rig, "GET", "/v1/admin/ledger", "admin-test");
    assert.deepEqual([old.status, old.json.error], [401, "TOKEN_EXPIRED"]);
    assert.equal((await call(rig, "GET", "/v1/admin/ledger", fresh)).status, 200);
    assert.equal((await call(rig, "GET", "/v1/admin/ledger", "adm_never")).status, 403);
  });

  it("an admin token given a lifetime stops working when it ends, and the rotation survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-tokens-"));
    try {
      // no --admin-token at the restart: the stored (rotated) one stays
      const rig = makeRig(join(dir, "gw.db"), { adminToken: undefined });
      const first = rig.gw.adminToken;
      const fresh = (await call(rig, "POST", "/v1/admin/token", first, { graceSeconds: 0, expiresInDays: 2 })).json.adminToken as string;
      rig.restart();
      assert.equal(rig.gw.adminToken, fresh);
      assert.equal((await call(rig, "GET", "/v1/admin/ledger", fresh)).status, 200);
      assert.equal((await call(rig, "GET", "/v1/admin/ledger", first)).json.error, "TOKEN_EXPIRED", "no grace: the old token ended at once");
      rig.clock.advance(2 * DAY);
      const late = await call(rig, "GET", "/v1/admin/ledger", fresh);
      assert.deepEqual([late.status, late.json.error], [401, "TOKEN_EXPIRED"]);
      rig.gw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rotates a merchant's API key by its own key: the old key works for the grace period, an expiring key ends", async () => {
    const rig = makeRig();
    const a = rig.gw.registerMerchant({ name: "A" });
    const b = rig.gw.registerMerchant({ name: "B" });
    const path = "/v1/merchants/" + a.merchantId + "/ledger";
    const other = await call(rig, "POST", "/v1/merchants/" + a.merchantId + "/api-key", b.apiKey, {});
    assert.equal(other.status, 404, "another merchant's key rotates nothing");
    assert.equal((await call(rig, "GET", path, a.apiKey)).status, 200);
    const r = await call(rig, "POST", "/v1/merchants/" + a.merchantId + "/api-key", a.apiKey, { graceSeconds: 60, expiresInDays: 30 });
    assert.equal(r.status, 200);
    const key = r.json.apiKey as string;
    assert.equal(r.json.expiresAt, rig.clock.now() + 30 * DAY);
    assert.equal((await call(rig, "GET", path, key)).status, 200);
    assert.equal((await call(rig, "GET", path, a.apiKey)).status, 200, "the previous key in its grace period");
    assert.equal((await call(rig, "GET", "/v1/merchants/" + b.merchantId + "/ledger", a.apiKey)).status, 404, "still only its own merchant");
    rig.clock.advance(61000);
    const old = await call(rig, "GET", path, a.apiKey);
    assert.deepEqual([old.status, old.json.error], [401, "TOKEN_EXPIRED"]);
    assert.equal((await call(rig, "GET", path, key)).status, 200);
    rig.clock.advance(30 * DAY);
    const late = await call(rig, "GET", path, key);
    assert.deepEqual([late.status, late.json.error], [401, "TOKEN_EXPIRED"]);
    // the admin rotates it again for the merchant
    const again = await call(rig, "POST", "/v1/merchants/" + a.merchantId + "/api-key", "admin-test", { graceSeconds: 0 });
    assert.equal((await call(rig, "GET", path, again.json.apiKey as string)).status, 200);
    assert.equal((await call(rig, "POST", "/v1/merchants/" + a.merchantId + "/api-key", "admin-test", { graceSeconds: 999999999 })).status, 400);
  });
});
