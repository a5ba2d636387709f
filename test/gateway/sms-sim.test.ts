/**
 * The SMS rules in the simulator: its wallets and its merchant are registered at the reference gateway with phone
 * numbers, so a wallet payment the terminal took offline and uploaded once online texts the payer, and the page's
 * gateway panel (the world's summary) shows that SMS in the outbox.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { loadReferenceGateway, simPhone, World } from "../../sim/world.ts";
import { testStore } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");

describe("gateway SMS in the simulator (devkit bundle, reference gateway)", function () {
  this.timeout(180000);

  it("texts the payer of an offline payment once the terminal uploads it, and the panel's outbox shows it", async () => {
    assert.ok(existsSync("dist/devkit.board.json"), "dist/ is missing: npm run build first (npm test does)");
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    // its gateway on the suite's database (SQLite, or PostgreSQL under GATEWAY_TEST_DB=postgres)
    const g = await loadReferenceGateway(w, { store: testStore() });
    assert.ok(g, "the reference gateway is in the tree");
    w.attachGateway(g);
    await w.provision();
    w.setWifi(false);
    await w.run(500);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);

    await w.wallet("sms-payer");
    w.keys("1250#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && !(req && req.charAt(0) === "R"); t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    assert.ok(req && req.charAt(0) === "R", "the request QR; screen: " + screen(w));
    const jobs = w.receiptPngs().length;
    w.scanText(await w.pay("sms-payer", req));
    await w.until("the receipt printed", () => w.receiptPngs().length > jobs, 60000);

    w.setWifi(true);
    await w.until("the upload", () => /pending 0/.test(screen(w)), 30000);
    await w.run(500);
    const sms = (w.summary().gateway as { sms: { to: string; kind: string; status: string; text: string }[] }).sms;
    const mine = sms.filter((s) => s.kind === "offline-received");
    assert.equal(mine.length, 1, JSON.stringify(sms));
    assert.match(mine[0].to, /^\+447700900[0-9]{3}$/);
    assert.notEqual(mine[0].to, simPhone(0), "the payer's number, not the merchant's");
    assert.match(mine[0].text, /^Offline payment 12\.50 EUR to .* received by the issuer, ref /);
    assert.equal(mine[0].status, "sent", "the simulator's outbox took it");
  });
});
