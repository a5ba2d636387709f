/**
 * Pending payments ride home with customers (devkit bundle in the simulator, docs/protocol.md "Relayed records"):
 * an offline terminal hands the phones that pay it over Bluetooth its oldest pending records, sealed to the
 * gateway; a phone's wallet uploads them at its sync; the gateway enters each once; the terminal, back online,
 * uploads them as usual and the gateway acknowledges them as held.
 */
import assert from "node:assert/strict";
import type { World } from "../../sim/world.ts";
import { loadReferenceGateway } from "../../sim/world.ts";
import { GatewayClient } from "../../sdk/gateway-client.ts";
import { relayTerminalId } from "../../protocol/relay.ts";
import { forEachEngine, useWorlds } from "./engines.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

forEachEngine("flow: pending records ride home with customers (devkit bundle in the simulator)", (engine) => {
  let w: World;
  const worlds = useWorlds(engine);
  const txIds: string[] = [];

  /** The wallet SDK's gateway client, its HTTP going to the world's in-process gateway (one: its times rise). */
  let gc: GatewayClient | null = null;
  const client = () =>
    gc ||
    (gc = new GatewayClient("http://gateway.sim", {
      now: () => w.now(),
      fetch: async (url, init) => {
        const r = await w.gateway!.handle({ method: init.method, path: url.slice("http://gateway.sim".length), headers: init.headers, body: init.body ?? "" });
        return { status: r.status, text: async () => r.body };
      },
    }));
  const ledgerCount = (id: string) => (w.gateway!.ledger() as unknown as { txId: string }[]).filter((l) => l.txId === id).length;

  async function payOverBle(name: string, amount: string): Promise<{ relayed: number; utr: string }> {
    // any key leaves the result screen (idle would come by itself 8 s later)
    if (!w.screenText().includes("Ready")) await w.type("C");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    await w.type(amount + "#");
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising && w.displayQr() !== null, 10000);
    const out = await w.payOverBluetooth(name);
    assert.equal(out.receiptVerified, true);
    await w.until("Paid", () => w.screenText().some((l) => l.indexOf("UTR " + out.utr) >= 0), 20000);
    const r = (await w.wallet(name)).state().payments;
    txIds.push(r[r.length - 1].receipt!.txId);
    return out;
  }

  before(async () => {
    w = worlds.open({ stateDir: null, wallClockMs: T0 });
    w.attachGateway((await loadReferenceGateway(w))!);
    await w.provision();
    w.setWifi(false);
    await w.run(500);
  });

  it("hands nothing while nothing is pending, then the oldest pending record to the next phone, sealed (the phone cannot read it)", async () => {
    assert.equal((await payOverBle("alice", "410")).relayed, 0, "nothing pending when alice's session opened");
    const bob = await payOverBle("bob", "520");
    assert.equal(bob.relayed, 1);
    const b = (await w.wallet("bob")).relayedBundles()[0];
    assert.ok(b.length > 300, "alice's wallet payment entry, sealed: " + b.length + " bytes");
    assert.equal(relayTerminalId(b), parseInt(txIds[0].slice(0, 8), 16), "the terminal ID in clear");
    const pay = (await w.wallet("alice")).state().payments[0];
    assert.ok(Buffer.from(b).indexOf(Buffer.from(pay.paymentHash, "hex")) < 0 && Buffer.from(b).indexOf(Buffer.from(txIds[0], "hex")) < 0, "nothing of alice's record in clear");
    assert.deepEqual(w.host.errors, []);
  });

  it("a phone that syncs, twice: the gateway enters the relayed payment once", async () => {
    const bob = await w.wallet("bob");
    const kept = bob.relayedBundles()[0];
    const first = await client().sync(bob);
    assert.equal(first.relayed.length, 1, JSON.stringify(first));
    assert.deepEqual(first.relayed[0].acked, [1]);
    assert.equal(ledgerCount(txIds[0]), 1);
    assert.equal(ledgerCount(txIds[1]), 0, "bob's own payment is not in the bundle: nothing pending before it");
    bob.keepRelayed(kept); // as if the first answer had been lost: the same bundle again
    const again = await client().sync(bob);
    assert.deepEqual(again.relayed[0].acked, [1]);
    assert.equal(ledgerCount(txIds[0]), 1, "entered once");
  });

  it("a phone that never syncs, and the terminal back online: it uploads everything as usual, each entered once, the relayed one acknowledged as held", async () => {
    const carol = await payOverBle("carol", "630");
    assert.equal(carol.relayed, 1, "alice's and bob's records, still pending, ride with carol (she never syncs)");
    w.setWifi(true);
    await w.until("the terminal uploaded everything", () => txIds.every((id) => ledgerCount(id) === 1) && w.screenText().some((l) => l.indexOf("ONLINE") === 0), 60000);
    await w.run(2000);
    for (const id of txIds) assert.equal(ledgerCount(id), 1, id);
    const up = (w.gateway!.activity!() as { kind: string; detail: unknown }[]).filter((a) => a.kind === "upload");
    const text = (d: unknown) => (typeof d === "string" ? d : JSON.stringify(d));
    assert.ok(up.some((a) => text(a.detail).includes('"duplicates":1')), "the relayed record came up again and was acknowledged as held: " + up.map((a) => text(a.detail)).join(" "));
    assert.deepEqual(w.host.errors, []);
  });
});
