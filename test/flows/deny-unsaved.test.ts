/**
 * A new deny list applies at once even when Storage has no room to save it (the flashed bundle in the simulator,
 * reference gateway): the denied wallet's payment is refused straight after the sync, the failure is logged, and
 * after a reboot with room the list is asked for again and saved in place.
 */
import assert from "node:assert/strict";
import { ACTIVITY_FILES } from "../../firmware/activity.ts";
import { Gateway } from "../../gateway/gateway.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import { walletIdOf } from "../../protocol/rules.ts";
import { World } from "../../sim/world.ts";
import type { GatewayLike } from "../../sim/world.ts";
import { DENY_LOG_BYTES, denyListHasHex, loadDenyList } from "../../firmware/app/limits.ts";
import { flashStore } from "../update/helpers.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

function activity(w: World): string {
  let s = "";
  for (const f of ACTIVITY_FILES) s += w.host.storage.read(f) ?? "";
  return s;
}

describe("flow: a deny list Storage cannot save still applies at once", function () {
  this.timeout(180000);

  it("refuses the denied wallet right after the sync, logs the failed save, and saves the list after a reboot with room", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    w.setWifi(false);
    await w.provision();
    await w.wallet("mallory");
    const id = walletIdOf(nodeCrypto(), w.wallets["mallory"].allowance().walletPub);
    g.store.denyAdd(id, "test", w.now());
    g.store.setMeta("denyVersion", String(g.denyVersion() + 1));

    // Storage with room for neither deny log file, yet above the 16 KB "nearly full" line
    const st = w.host.storage;
    assert.equal(st.list().filter((n) => n.indexOf("deny.") === 0).length, 0);
    st.write("filler", new Uint8Array(st.getStats().freeBytes - (DENY_LOG_BYTES + 36 + 4096) + 1000));
    assert.ok(st.getStats().freeBytes > 16384);

    const hellos = () => g.store.activity().filter((a) => a.kind === "hello").length;
    w.setWifi(true);
    await w.until("the sync", () => hellos() > 0, 20000);
    await w.until("the failed save logged", () => /deny list not saved/.test(activity(w)), 10000);
    w.setWifi(false);
    await w.run(500);
    assert.equal(loadDenyList(flashStore(w.host.flash)).version, 0, "nothing saved");

    // mallory pays: refused by the list held in RAM
    w.keys("*");
    await w.run(300);
    w.keys("500#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && req === null; t += 500) {
      await w.run(500);
      req = w.displayQr();
    }
    assert.ok(req, w.screenText().join(" | "));
    w.scanText(await w.pay("mallory", req));
    await w.until("the refusal", () => w.screenText().includes("Refused"), 20000);
    assert.match(w.screenText().join("\n"), /R09\nWallet is blocked/, "refused by the deny list (docs/protocol.md R09)");

    // room again (a technician compacted), a reboot: the terminal holds no saved list, asks for it, saves it in place
    st.erase("filler");
    st.compact();
    w.powerCut();
    w.powerOn();
    w.setWifi(true);
    await w.until("the list saved", () => loadDenyList(flashStore(w.host.flash)).version === g.denyVersion(), 20000);
    assert.ok(denyListHasHex(loadDenyList(flashStore(w.host.flash)), id));
  });
});
