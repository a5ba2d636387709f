/**
 * Relayed records (docs/protocol.md, "Relayed records"): a terminal's pending records that a customer's phone
 * carried to the gateway sealed, POST /v1/wallets/{id}/relay. Each is entered once, whoever brings it first.
 */
import assert from "node:assert/strict";
import { fromHex } from "../../protocol/codec/hex.ts";
import { sealRelay } from "../../protocol/relay.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import type { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import { countByTx, makeRig, merchantWithTerminals, newWallet, storeDump, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const c = nodeCrypto();
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The bundle a terminal hands a phone: its `n` oldest pending records, sealed under its relay keys. */
function bundleOf(t: SoftTerminal, n = 4): Uint8Array {
  const recs = t.pending.slice(0, n).map((r) => ({ seq: r.seq, prev: /^0+$/.test(r.prev) ? null : (fromHex(r.prev) as Uint8Array), payload: r.entry }));
  return sealRelay(c, t.relayKeys, t.terminalId, recs);
}

function relay(rig: Rig, carrier: SoftWallet, bundle: Uint8Array) {
  return walletCall(rig.gw, carrier, "relay", { bundle: toBase64(bundle) });
}

/** A terminal with three pending wallet payments (of `payer`), and a phone (another wallet) to carry them. */
function scene() {
  const rig = makeRig();
  const { terms } = merchantWithTerminals(rig, "A", 2);
  const payer = newWallet(rig);
  const carrier = newWallet(rig, 10000, "+4915100000002");
  const t = terms[0];
  const ids = [120, 340, 560].map((a) => hexOf(t.record(t.walletPayment(payer, a)).entry.subarray(1, 9)));
  return { rig, t, other: terms[1], payer, carrier, ids };
}

function exactlyOnce(rig: Rig, ids: string[]): void {
  const n = countByTx(rig.gw);
  for (const id of ids) assert.equal(n.get(id), 1, id + " in the ledger " + (n.get(id) ?? 0) + " times");
  assert.equal(rig.gw.ledger().length, ids.length);
}

describe("gateway: relayed records", () => {
  it("enters each record of a bundle a phone carried once, and answers which it holds", async () => {
    const { rig, t, carrier, ids } = scene();
    const r = await relay(rig, carrier, bundleOf(t));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { terminalId: t.terminalId, acked: [1, 2, 3], rejected: [] });
    exactlyOnce(rig, ids);
    assert.deepEqual(rig.gw.holds().map((h) => h.amountMinor), [120, 340, 560]);
    assert.ok(rig.gw.store.activity(undefined, 50).some((a) => a.kind === "relay"), "the relay is in the activity log");
  });

  it("acknowledges the terminal's own later upload of the relayed records as held, entering nothing twice (how the terminal learns)", async () => {
    const { rig, t, carrier, ids } = scene();
    assert.equal((await relay(rig, carrier, bundleOf(t))).status, 200);
    const before = rig.gw.ledger().length;
    await t.hello();
    const up = await t.uploadBatch(8);
    assert.deepEqual(up.acked, [1, 2, 3], "every relayed record acknowledged to the terminal");
    assert.deepEqual(up.rejected, []);
    assert.equal(rig.gw.ledger().length, before);
    exactlyOnce(rig, ids);
    assert.equal(t.pending.length, 0);
  });

  it("takes the same bundle again (a phone that syncs twice) as held, entering nothing twice", async () => {
    const { rig, t, carrier, ids } = scene();
    const b = bundleOf(t);
    assert.equal((await relay(rig, carrier, b)).status, 200);
    const again = await relay(rig, carrier, b);
    assert.equal(again.status, 200, again.body);
    assert.deepEqual(again.json.acked, [1, 2, 3]);
    exactlyOnce(rig, ids);
  });

  it("takes a bundle the terminal uploaded itself before the phone synced as held: the phone's late sync enters nothing", async () => {
    const { rig, t, carrier, ids } = scene();
    const b = bundleOf(t);
    await t.hello();
    await t.uploadAll();
    exactlyOnce(rig, ids);
    const late = await relay(rig, carrier, b);
    assert.equal(late.status, 200, late.body);
    assert.deepEqual(late.json.acked, [1, 2, 3]);
    exactlyOnce(rig, ids);
  });

  it("refuses a tampered bundle with 400 RELAY_AUTH and changes nothing at all", async () => {
    const { rig, t, carrier } = scene();
    const b = bundleOf(t);
    const before = storeDump(rig);
    for (const at of [6, 30, 100, b.length - 200, b.length - 1]) {
      const x = new Uint8Array(b);
      x[at] ^= 0x40;
      const r = await relay(rig, carrier, x);
      assert.equal(r.status, 400, "byte " + at + ": " + r.body);
      assert.equal(r.json.error, "RELAY_AUTH");
      assert.match(String(r.json.message), /failed authentication|sealed for another/);
    }
    assert.equal(storeDump(rig), before, "nothing entered, nothing logged, the wallet's time not taken");
    // the genuine bundle still goes in afterwards
    assert.equal((await relay(rig, carrier, b)).status, 200);
  });

  it("refuses a bundle whose clear terminal ID names another terminal (RELAY_AUTH under that terminal's keys)", async () => {
    const { rig, t, other, carrier } = scene();
    const b = bundleOf(t);
    b[2] = (other.terminalId >>> 24) & 255;
    b[3] = (other.terminalId >>> 16) & 255;
    b[4] = (other.terminalId >>> 8) & 255;
    b[5] = other.terminalId & 255;
    const before = storeDump(rig);
    const r = await relay(rig, carrier, b);
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error, "RELAY_AUTH");
    assert.equal(storeDump(rig), before);
  });

  it("enters a relayed record through the upload's checks: a record whose wallet signature fails is rejected and kept as evidence", async () => {
    const { rig, t, carrier, ids } = scene();
    t.pending[1].entry[10 + 88 + 150] ^= 1; // a byte of the wallet's signature, before the terminal seals
    const r = await relay(rig, carrier, bundleOf(t));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.acked, [1, 3]);
    assert.equal((r.json.rejected as { seq: number; code: string }[])[0].code, "E_SIG");
    exactlyOnce(rig, [ids[0], ids[2]]);
    assert.ok(rig.gw.flags().some((f) => f.kind === "rejected"));
  });

  it("does not touch the link's replay window: the terminal's next link request is taken as before", async () => {
    const { rig, t, carrier } = scene();
    await t.hello();
    const seq = rig.gw.terminal(t.terminalId)!.linkSeq;
    assert.equal((await relay(rig, carrier, bundleOf(t))).status, 200);
    assert.equal(rig.gw.terminal(t.terminalId)!.linkSeq, seq);
    await t.hello();
  });

  it("answers what is not a bundle 400 RELAY_FORMAT, an unknown terminal 404 and a revoked one 403, changing nothing", async () => {
    const { rig, t, carrier } = scene();
    const b = bundleOf(t);
    const before = storeDump(rig);
    const notB64 = await walletCall(rig.gw, carrier, "relay", { bundle: "not base64!" });
    assert.equal(notB64.status, 400);
    assert.equal(notB64.json.error, "RELAY_FORMAT");
    const short = await relay(rig, carrier, b.subarray(0, 20));
    assert.equal(short.json.error, "RELAY_FORMAT");
    const unknown = new Uint8Array(b);
    unknown[2] = 0x7f;
    const u = await relay(rig, carrier, unknown);
    assert.equal(u.status, 404, u.body);
    assert.equal(u.json.error, "UNKNOWN_TERMINAL");
    assert.equal(storeDump(rig), before);
    const term = rig.gw.terminal(t.terminalId)!;
    rig.gw.revokeTerminal(term.merchantId, t.terminalId);
    const rv = await relay(rig, carrier, b);
    assert.equal(rv.status, 403, rv.body);
    assert.equal(rv.json.error, "TERMINAL_REVOKED");
    assert.equal(rig.gw.ledger().length, 0);
  });
});
