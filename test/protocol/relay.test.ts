import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import { openRelay, relayKeys, relayTerminalId, RELAY_AUTH, RELAY_CONTENT, RELAY_FORMAT, sealRelay } from "../../protocol/relay.ts";
import { linkKeys, openRequest, sealRequest, toBase64 } from "../../protocol/sync.ts";
import { seal } from "../../protocol/seal.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";

const c = nodeCrypto();
const V = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "docs", "protocol-vectors.json"), "utf8"));
const h = (s: string) => fromHex(s) as Uint8Array;
const R = V.relay;
const keys = { ...linkKeys(c, h(R.z)), relay: relayKeys(c, h(R.z)) };
const records = R.records.map((r: { seq: number; prev: string | null; entry: string }) => ({ seq: r.seq, prev: r.prev ? h(r.prev) : null, payload: h(r.entry) }));

describe("protocol: relay bundles", () => {
  it("seal the published vector byte for byte under relayKeys(Z) (keyId 5), and open back to its records", () => {
    assert.equal(keys.relay.keyId, 5);
    assert.equal(toHex(keys.relay.enc), R.enc);
    assert.equal(toHex(keys.relay.mac), R.mac);
    const b = sealRelay(c, keys.relay, R.terminalId, records);
    assert.equal(toHex(b), R.bundle);
    assert.equal(relayTerminalId(b), 4242);
    const o = openRelay(c, keys.relay, b);
    assert.ok(!("code" in o), JSON.stringify(o));
    assert.equal(o.seq, R.seq, "sealed under the first record's txId counter");
    assert.deepEqual(
      o.records.map((r) => ({ seq: r.seq, prev: r.prev ? toHex(r.prev) : null, entry: toHex(r.entry) })),
      R.records,
    );
  });

  it("refuse a bundle with any one byte changed after the clear head (RELAY_AUTH), so the phone cannot alter a record", () => {
    const b = h(R.bundle);
    for (let i = 6; i < b.length; i += 7) {
      const t = new Uint8Array(b);
      t[i] ^= 0x01;
      const o = openRelay(c, keys.relay, t);
      assert.ok("code" in o && o.code === RELAY_AUTH, "byte " + i + ": " + JSON.stringify(o));
    }
  });

  it("refuse a bundle whose clear terminal ID was changed, even under the right keys (RELAY_AUTH)", () => {
    const t = h(R.bundle);
    t[5] ^= 1;
    const o = openRelay(c, keys.relay, t);
    assert.ok("code" in o && o.code === RELAY_AUTH);
    assert.match((o as { message: string }).message, /sealed for another/);
  });

  it("open only under the sealing terminal's keys: another terminal's Z does not open it", () => {
    const other = { relay: relayKeys(c, new Uint8Array(32).fill(7)) };
    const o = openRelay(c, other.relay, h(R.bundle));
    assert.ok("code" in o && o.code === RELAY_AUTH);
  });

  it("keep the phone from reading the records: the entries' bytes appear nowhere in the bundle", () => {
    const hex = R.bundle as string;
    for (const r of R.records) for (let i = 0; i + 32 <= r.entry.length; i += 32) assert.ok(!hex.includes(r.entry.slice(i, i + 32)));
  });

  it("are a domain of their own: a link request does not open as a bundle, nor a bundle's envelope as a link request", () => {
    const req = sealRequest(c, keys, 9, { op: "upload", tid: 4242, nonce: "0011223344556677", records: [] });
    const fake = new Uint8Array(6 + (fromHex(Buffer.from(req, "base64").toString("hex")) as Uint8Array).length);
    fake.set([1, 0x50, 0, 0, 0x10, 0x92]);
    fake.set(h(Buffer.from(req, "base64").toString("hex")), 6);
    assert.equal((openRelay(c, keys.relay, fake) as { code: string }).code, RELAY_AUTH);
    const env = h(R.bundle).subarray(6);
    const asLink = openRequest(c, keys, toBase64(env), { lastSeq: 0 });
    assert.equal((asLink as { code: string }).code, "REQ_AUTH");
  });

  it("say RELAY_FORMAT for bytes that are no bundle, and RELAY_CONTENT for an authentic bundle with bad contents", () => {
    assert.equal((openRelay(c, keys.relay, new Uint8Array(10)) as { code: string }).code, RELAY_FORMAT);
    const wrongType = h(R.bundle);
    wrongType[1] = 0x51;
    assert.equal((openRelay(c, keys.relay, wrongType) as { code: string }).code, RELAY_FORMAT);
    // sealed by the terminal, but five records
    const pt = new Uint8Array(5);
    pt.set([0, 0, 0x10, 0x92, 5]);
    const env = seal(c, keys.relay, 1, pt);
    const b = new Uint8Array(6 + env.length);
    b.set([1, 0x50, 0, 0, 0x10, 0x92]);
    b.set(env, 6);
    assert.equal((openRelay(c, keys.relay, b) as { code: string }).code, RELAY_CONTENT);
  });

  it("take at most 4 records", () => {
    const five = [1, 2, 3, 4, 5].map((s) => ({ seq: s, payload: records[1].payload }));
    const o = openRelay(c, keys.relay, sealRelay(c, keys.relay, 4242, five));
    assert.ok(!("code" in o));
    assert.deepEqual(o.records.map((r) => r.seq), [1, 2, 3, 4]);
  });
});
