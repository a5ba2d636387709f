/** Issuer key rotation at the gateway: the admin route announces a key signed by the current issuer key; hello offers it to terminals that lack it. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../protocol/codec/hex.ts";
import { issuerKeyBody, revokeBody } from "../../protocol/keys.ts";
import { Issuer, signBody, verifyBody } from "../../gateway/issuer.ts";
import type { Rig } from "./helpers.ts";
import { makeRig, merchantWithTerminals } from "./helpers.ts";

const admin = { authorization: "Bearer admin-test", "content-type": "application/json" };

describe("gateway: issuer key rotation (admin issuer-keys, hello keys)", () => {
  let rig: Rig;
  afterEach(() => rig.gw.close());

  async function post(b: Record<string, unknown>, headers: Record<string, string> = admin) {
    const r = await rig.gw.handle({ method: "POST", path: "/v1/admin/issuer-keys", headers, body: JSON.stringify(b) });
    return { status: r.status, json: JSON.parse(r.body) };
  }

  it("signs a new key with the current issuer key, lists it, and offers it in hello only to terminals that lack it", async () => {
    rig = makeRig();
    const next = Issuer.generate(2);
    const r = await post({ keyId: 2, publicKey: toHex(next.publicKey) });
    assert.equal(r.status, 201);
    assert.deepEqual({ id: r.json.id, pub: r.json.pub, by: r.json.by }, { id: 2, pub: toHex(next.publicKey), by: 1 });
    assert.ok(verifyBody(rig.issuer.publicKey, issuerKeyBody(2, next.publicKey), Buffer.from(r.json.sig, "hex")), "signed by issuer key 1 over the domain-separated key");
    assert.ok(!verifyBody(rig.issuer.publicKey, issuerKeyBody(3, next.publicKey), Buffer.from(r.json.sig, "hex")), "the id is part of what is signed");

    const list = await rig.gw.handle({ method: "GET", path: "/v1/admin/issuer-keys", headers: admin, body: "" });
    assert.deepEqual(JSON.parse(list.body), { issuerKeyId: 1, keys: [r.json], revoked: [] });

    const { terms } = merchantWithTerminals(rig, "shop", 1);
    assert.deepEqual((await terms[0].hello({ keys: [1] })).keys, [r.json]);
    assert.equal((await terms[0].hello({ keys: [1, 2] })).keys, undefined, "held already");
    assert.equal((await terms[0].hello()).keys, undefined, "a terminal that does not say which keys it holds is offered none");
    assert.ok(rig.gw.store.activity().some((a) => a.kind === "issuer-key-added"));
  });

  it("survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-keys-"));
    rig = makeRig(join(dir, "gw.db"));
    const k = rig.gw.addIssuerKey({ keyId: 7, publicKey: Issuer.generate(7).publicKey });
    rig.restart();
    assert.deepEqual(rig.gw.issuerKeys(), [k]);
    rig.gw.close();
    rmSync(dir, { recursive: true, force: true });
    rig = makeRig();
  });

  it("takes a signature made offline by the current issuer key, and refuses one that is not", async () => {
    rig = makeRig();
    const next = Issuer.generate(2);
    const good = signBody(rig.issuer.privateKey, issuerKeyBody(2, next.publicKey));
    const other = signBody(next.privateKey, issuerKeyBody(2, next.publicKey));
    const bad = await post({ keyId: 2, publicKey: toHex(next.publicKey), sig: toHex(other) });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, "BAD_SIGNATURE");
    assert.deepEqual(rig.gw.issuerKeys(), []);
    const ok = await post({ keyId: 2, publicKey: toHex(next.publicKey), sig: toHex(good) });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.sig, toHex(good));
  });

  for (const [what, b, status, code] of [
    ["a key id over 255", { keyId: 256 }, 400, "BAD_KEYID"],
    ["a fractional key id", { keyId: 2.5 }, 400, "BAD_KEYID"],
    ["the current issuer key's id", { keyId: 1 }, 409, "KEY_EXISTS"],
    ["a public key off the curve", { keyId: 2, publicKey: "01".repeat(64) }, 400, "BAD_PUBLICKEY"],
    ["a public key of the wrong length", { keyId: 2, publicKey: "01".repeat(33) }, 400, "BAD_PUBLICKEY"],
  ] as [string, Record<string, unknown>, number, string][]) {
    it(`refuses ${what} (${status} ${code}), announcing nothing`, async () => {
      rig = makeRig();
      const r = await post({ publicKey: toHex(Issuer.generate(2).publicKey), ...b });
      assert.equal(r.status, status);
      assert.equal(r.json.error, code);
      assert.deepEqual(rig.gw.issuerKeys(), []);
    });
  }

  it("never reuses an announced key id, and needs the admin token", async () => {
    rig = makeRig();
    assert.equal((await post({ keyId: 2, publicKey: toHex(Issuer.generate(2).publicKey) })).status, 201);
    const again = await post({ keyId: 2, publicKey: toHex(Issuer.generate(2).publicKey) });
    assert.equal(again.status, 409);
    assert.equal(rig.gw.issuerKeys().length, 1);
    const anon = await post({ keyId: 3, publicKey: toHex(Issuer.generate(3).publicKey) }, { "content-type": "application/json" });
    assert.equal(anon.status, 401);
    assert.equal(rig.gw.issuerKeys().length, 1);
  });

  it("offers at most 4 keys per hello, oldest first, the rest at later hellos", async () => {
    rig = makeRig();
    for (let id = 2; id <= 7; id++) rig.gw.addIssuerKey({ keyId: id, publicKey: Issuer.generate(id).publicKey });
    const { terms } = merchantWithTerminals(rig, "shop", 1);
    const first = (await terms[0].hello({ keys: [1] })).keys as { id: number }[];
    assert.deepEqual(first.map((k) => k.id), [2, 3, 4, 5]);
    const then = (await terms[0].hello({ keys: [1, 2, 3, 4, 5] })).keys as { id: number }[];
    assert.deepEqual(then.map((k) => k.id), [6, 7]);
  });

  it("revokes a key on the terminals that hold it, signed by the current key; never the current key, and no longer offers it", async () => {
    rig = makeRig();
    rig.gw.addIssuerKey({ keyId: 2, publicKey: Issuer.generate(2).publicKey });
    rig.gw.addIssuerKey({ keyId: 3, publicKey: Issuer.generate(3).publicKey });
    const r = await rig.gw.handle({ method: "POST", path: "/v1/admin/issuer-key-revocations", headers: admin, body: JSON.stringify({ keyId: 2 }) });
    assert.equal(r.status, 201);
    const rv = JSON.parse(r.body);
    assert.equal(rv.id, 2);
    assert.equal(rv.by, 1);
    assert.ok(verifyBody(rig.issuer.publicKey, revokeBody(2), Buffer.from(rv.sig, "hex")));
    assert.ok(!verifyBody(rig.issuer.publicKey, revokeBody(3), Buffer.from(rv.sig, "hex")), "the id is part of what is signed");

    const cur = await rig.gw.handle({ method: "POST", path: "/v1/admin/issuer-key-revocations", headers: admin, body: JSON.stringify({ keyId: 1 }) });
    assert.equal(cur.status, 409);
    assert.equal(JSON.parse(cur.body).error, "KEY_IN_USE");
    assert.equal((await post({ keyId: 2, publicKey: toHex(Issuer.generate(2).publicKey) })).status, 409, "a revoked id is not reused");

    const { terms } = merchantWithTerminals(rig, "shop", 1);
    const fresh = await terms[0].hello({ keys: [1] });
    assert.deepEqual((fresh.keys as { id: number }[]).map((k) => k.id), [3], "key 2 is no longer offered");
    assert.equal(fresh.revoke, undefined, "a terminal without key 2 gets no revocation");
    const holder = await terms[0].hello({ keys: [1, 2, 3] });
    assert.deepEqual(holder.revoke, [rv]);
    assert.equal(holder.keys, undefined);
    assert.ok(rig.gw.store.activity().some((a) => a.kind === "issuer-key-revoked"));
  });
});
