/**
 * A firmware update goes to terminals in chunks of at most 4 KB (op update-chunk, docs/sync.md), and every hello
 * says whether one is on offer. Neither reads the whole bundle from the database: a 170 KB bundle read for each of
 * its 42 chunks is 7 MB a terminal, and a fleet updating at once pulled it through PostgreSQL's connection for every
 * chunk of every terminal, and for every hello of every terminal while an update was stored. Runs on the suite's
 * database (SQLite, or PostgreSQL under npm run test:gateway-pg).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Issuer } from "../../gateway/issuer.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import { fromBase64, MAX_CHUNK } from "../../protocol/sync.ts";
import { signUpdate } from "../../tools/sign-update.ts";
import { makeRig, merchantWithTerminals, watchReads } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const admin = { authorization: "Bearer admin-test", "content-type": "application/json" };

/** Every value the store hands back from now on that holds bytes: their largest length. */
function largestBytesRead(rig: Rig): { max(): number; stop(): void } {
  let max = 0;
  const stop = watchReads(rig, (_sql, _args, v) => {
    for (const r of Array.isArray(v) ? v : [v]) {
      if (!r || typeof r !== "object") continue;
      for (const x of Object.values(r as Record<string, unknown>)) if (x instanceof Uint8Array) max = Math.max(max, x.length);
    }
  });
  return { max: () => max, stop };
}

describe("gateway: firmware update chunks", () => {
  let rig: Rig;
  afterEach(() => rig.gw.close());

  it("hands each chunk from the bundle exactly, and reads neither for a chunk nor for a hello the whole bundle", async () => {
    rig = makeRig();
    const fw = Issuer.generate(1);
    rig.gw.addFirmwareKey(1, fw.publicKey);
    // 10.5 chunks: the last one short
    const bundle = new Uint8Array(randomBytes(MAX_CHUNK * 10 + MAX_CHUNK / 2));
    const offer = signUpdate(bundle, fw.privateKey, "devkit", "2.0.0", 1);
    const stored = await rig.gw.handle({
      method: "POST",
      path: "/v1/admin/updates",
      headers: admin,
      body: JSON.stringify({ version: "2.0.0", board: "devkit", key: 1, bundle: Buffer.from(bundle).toString("base64"), sig: offer.sig }),
    });
    assert.equal(stored.status, 201, stored.body);
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const reads = largestBytesRead(rig);
    try {
      const hello = await t.hello({ fw: "1.0.0" });
      assert.equal((hello.update as { version: string; size: number }).version, "2.0.0");
      assert.equal((hello.update as { size: number }).size, bundle.length);
      const got: Uint8Array[] = [];
      for (let off = 0; off < bundle.length; off += MAX_CHUNK) {
        const r = await t.call("update-chunk", { version: "2.0.0", offset: off, length: MAX_CHUNK });
        got.push(fromBase64(r.data as string) as Uint8Array);
      }
      assert.deepEqual(got.map((c) => c.length), [...Array(10).fill(MAX_CHUNK), MAX_CHUNK / 2]);
      assert.equal(toHex(Buffer.concat(got)), toHex(bundle), "the chunks make the bundle");
      // a chunk from inside, across no boundary of the ones above, and one past the end
      const mid = await t.call("update-chunk", { version: "2.0.0", offset: 1000, length: 3 });
      assert.equal(toHex(fromBase64(mid.data as string) as Uint8Array), toHex(bundle.subarray(1000, 1003)));
      const past = await t.call("update-chunk", { version: "2.0.0", offset: bundle.length + 10, length: 16 });
      assert.equal(past.data, "", "nothing past the end");
      assert.ok(reads.max() <= MAX_CHUNK, "the largest bytes the store read were " + reads.max() + " long (the bundle is " + bundle.length + ")");
    } finally {
      reads.stop();
    }
  });
});
