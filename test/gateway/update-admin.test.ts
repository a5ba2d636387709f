/**
 * Security review, item 11 (updates), the gateway's side: POST /v1/admin/updates takes only a bundle signed offline
 * by a registered firmware key and signs nothing. Before firmware keys it took an unsigned bundle and signed it with
 * the online issuer key, the one that signs allowances.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteStore } from "../../gateway/sqlite-store.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import { Issuer, signBody } from "../../gateway/issuer.ts";
import { signUpdate } from "../../tools/sign-update.ts";
import type { Rig } from "./helpers.ts";
import { makeRig, merchantWithTerminals, ON_POSTGRES } from "./helpers.ts";

const admin = { authorization: "Bearer admin-test", "content-type": "application/json" };
const BUNDLE = new Uint8Array(Buffer.from('print("firmware 2.0.0");', "latin1"));

describe("gateway: firmware updates (admin updates, firmware keys, hello update)", () => {
  let rig: Rig;
  afterEach(() => rig.gw.close());

  async function post(path: string, b: Record<string, unknown>) {
    const r = await rig.gw.handle({ method: "POST", path, headers: admin, body: JSON.stringify(b) });
    return { status: r.status, json: JSON.parse(r.body) };
  }

  it("(d) refuses an unsigned bundle and signs nothing: no update stored, none offered at hello", async () => {
    rig = makeRig();
    const fw = Issuer.generate(1); // a firmware key pair (only its public half reaches the gateway)
    assert.equal((await post("/v1/admin/firmware-keys", { id: 1, pub: toHex(fw.publicKey) })).status, 201);
    const r = await post("/v1/admin/updates", { version: "2.0.0", board: "devkit", key: 1, bundle: Buffer.from(BUNDLE).toString("base64") });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "BAD_SIG");
    assert.equal(JSON.stringify(r.json).indexOf('"sig"'), -1, "no signature in the answer");
    assert.equal(rig.gw.store.latestUpdate(), undefined, "nothing stored");
    const { terms } = merchantWithTerminals(rig, "shop", 1);
    assert.equal((await terms[0].hello()).update, undefined, "nothing offered");
    assert.ok(!rig.gw.store.activity().some((a) => a.kind === "update-offered"));
  });

  it("refuses a bundle signed by the issuer key (old or new format) or by an unregistered firmware key", async () => {
    rig = makeRig();
    const fw = Issuer.generate(1);
    rig.gw.addFirmwareKey(1, fw.publicKey);
    const b64 = Buffer.from(BUNDLE).toString("base64");
    const oldSig = toHex(signBody(rig.issuer.privateKey, BUNDLE));
    assert.equal((await post("/v1/admin/updates", { version: "2.0.0", board: "devkit", key: 1, bundle: b64, sig: oldSig })).json.error, "BAD_SIGNATURE");
    const byIssuer = signUpdate(BUNDLE, rig.issuer.privateKey, "devkit", "2.0.0", 1);
    assert.equal((await post("/v1/admin/updates", { version: "2.0.0", board: "devkit", key: 1, bundle: b64, sig: byIssuer.sig })).json.error, "BAD_SIGNATURE");
    const stranger = signUpdate(BUNDLE, Issuer.generate(2).privateKey, "devkit", "2.0.0", 2);
    assert.equal((await post("/v1/admin/updates", { version: "2.0.0", board: "devkit", key: 2, bundle: b64, sig: stranger.sig })).json.error, "UNKNOWN_KEY");
    // a good signature for another board or version does not carry over
    const good = signUpdate(BUNDLE, fw.privateKey, "devkit", "2.0.0", 1);
    assert.equal((await post("/v1/admin/updates", { version: "2.0.1", board: "devkit", key: 1, bundle: b64, sig: good.sig })).json.error, "BAD_SIGNATURE");
    assert.equal((await post("/v1/admin/updates", { version: "2.0.0", board: "other", key: 1, bundle: b64, sig: good.sig })).json.error, "BAD_SIGNATURE");
    assert.equal(rig.gw.store.latestUpdate(), undefined);
    // the issuer key is never registered as a firmware key
    assert.equal((await post("/v1/admin/firmware-keys", { id: 3, pub: toHex(rig.issuer.publicKey) })).json.error, "ISSUER_KEY");
  });

  it("takes a bundle signed by a registered firmware key and offers it at hello with its board and key, unchanged", async () => {
    rig = makeRig();
    const fw = Issuer.generate(4);
    assert.equal((await post("/v1/admin/firmware-keys", { id: 4, pub: toHex(fw.publicKey) })).status, 201);
    const signed = signUpdate(BUNDLE, fw.privateKey, "devkit", "2.0.0", 4);
    const r = await post("/v1/admin/updates", { version: "2.0.0", board: "devkit", key: 4, bundle: Buffer.from(BUNDLE).toString("base64"), sig: signed.sig });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json, signed);
    const { terms } = merchantWithTerminals(rig, "shop", 1);
    assert.deepEqual((await terms[0].hello()).update, signed);
    assert.equal((await terms[0].hello({ fw: "2.0.0" })).update, undefined, "not offered to a terminal already on it");
  });

  it("never offers an update stored before firmware keys (schema 5, issuer-signed): it migrates without board or key", async function () {
    // a SQLite file's own migration from schema 5 (PostgreSQL databases start at schema 6: gateway/migrations.ts)
    if (ON_POSTGRES) this.skip();
    const dir = mkdtempSync(join(tmpdir(), "updates-migrate-"));
    try {
      const path = join(dir, "gw.db");
      openSqliteStore(path).close();
      const db = new Database(path);
      db.exec("ALTER TABLE updates DROP COLUMN board; ALTER TABLE updates DROP COLUMN keyId");
      db.prepare("INSERT INTO updates (version, size, sha256, sig, bundle, createdAt) VALUES (?,?,?,?,?,?)").run("9.0.0", 3, "00".repeat(32), "11".repeat(64), Buffer.from("abc"), 1);
      db.pragma("user_version = 5");
      db.close();
      rig = makeRig(path);
      assert.equal(rig.gw.store.latestUpdate()?.board, "");
      const { terms } = merchantWithTerminals(rig, "shop", 1);
      assert.equal((await terms[0].hello()).update, undefined);
    } finally {
      rig.gw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
