/**
 * A firmware update the gateway offers at sync, in the simulator (devkit bundle, reference gateway): never installed
 * while a payment is open, installed from idle with its progress on the panel, then the terminal restarts into it.
 */
import assert from "node:assert/strict";
import { Gateway } from "../../gateway/gateway.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import type { GatewayLike } from "../../sim/world.ts";
import { signUpdate } from "../../tools/sign-update.ts";
import { forEachEngine, useWorlds } from "./engines.ts";
import { bundle } from "../update/helpers.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

forEachEngine("flow: a signed update offered at sync (devkit bundle, reference gateway)", (engine) => {
  const worlds = useWorlds(engine);

  it("waits for the open payment to end, then installs from idle showing progress, and restarts into the new bundle", async () => {
    const printed: string[] = [];
    const w = worlds.open({ stateDir: null, wallClockMs: T0, onPrint: (l) => printed.push(l) });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    w.setWifi(false);
    await w.provision();
    const body = new Uint8Array(Buffer.from(bundle('print("bundle v99 booted");'), "latin1"));
    // signed offline with the world's firmware key (provisioning gave the terminal its public key)
    const fk = w.firmwareKey;
    g.addFirmwareKey(fk.keyId, fk.publicKey);
    const signed = signUpdate(body, fk.privateKey, "devkit", "99.0.0", fk.keyId);
    g.offerUpdate({ version: "99.0.0", board: "devkit", keyId: fk.keyId, bundle: body, sig: new Uint8Array(Buffer.from(signed.sig, "hex")) });

    // a payment is open when the terminal comes online and hears of the update
    await w.type("500#");
    await w.until("the request", () => w.displayQr() !== null, 10000);
    w.setWifi(true);
    const seen: string[] = [];
    for (let t = 0; t < 8000; t += 250) {
      await w.run(250);
      seen.push(w.screenText().join(" | "));
    }
    assert.ok(/ONLINE/.test(seen[seen.length - 1]), "the sync came online: " + seen[seen.length - 1]);
    assert.ok(!seen.some((s) => /Updating firmware/.test(s)), "no update while the payment is open");
    assert.ok(w.displayQr() !== null, "the request is still on the panel");

    // the payment ends; back at idle the update installs
    await w.type("C");
    await w.until("the update's progress", () => /Updating firmware/.test(w.screenText().join(" | ")), 20000);
    assert.match(w.screenText().join("\n"), /Version 99\.0\.0/);
    assert.match(w.screenText().join("\n"), /\d+ %/);
    assert.match(w.screenText().join("\n"), /Payments resume when done/);
    await w.type("5#"); // keys do nothing while it installs
    assert.doesNotMatch(w.screenText().join("\n"), /Amount|EUR 0\.05/);
    await w.until("the restart into the new bundle", () => printed.some((l) => l.indexOf("bundle v99 booted") >= 0), 60000);
  });
});
