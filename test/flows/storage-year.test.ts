/**
 * A year of daily syncs on the flashed bundle in the simulator (reference gateway): the deny list grows, issuer
 * keys rotate now and then, sync.day and the activity log are written every day. Everything the firmware rewrites
 * in the field is written in place into pre-sized Storage files (firmware/record-log.ts, firmware/sync-day.ts,
 * firmware/activity.ts), so Storage's free space stays flat and nothing is left to compact: no compaction is ever
 * needed and "Storage nearly full" never shows.
 */
import assert from "node:assert/strict";
import { Gateway } from "../../gateway/gateway.ts";
import { Issuer } from "../../gateway/issuer.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import { World } from "../../sim/world.ts";
import type { GatewayLike } from "../../sim/world.ts";
import { loadDenyList, denyListHasHex } from "../../firmware/app/limits.ts";
import { loadSettings } from "../../firmware/settings.ts";
import { loadSyncDay } from "../../firmware/sync-day.ts";
import { flashStore } from "../update/helpers.ts";

const DAY = 86400000;
const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

describe("flow: a year of daily syncs never needs a Storage compaction", function () {
  this.timeout(900000);

  it("keeps Storage's free space flat over 365 days of syncs with deny list, issuer key and sync day writes", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    w.setWifi(false);
    await w.provision();
    const hellos = () => g.store.activity().filter((a) => a.kind === "hello").length;
    const st = w.host.storage;
    let warned = 0;
    let denied = 0;
    let keyId = 2;
    const heldKeys: number[] = [w.issuer.keyId];
    let start: { free: number; trash: number } | null = null;
    for (let day = 0; day < 365; day++) {
      // the gateway's side of the day: a wallet or two denied most days, an issuer key added every 60 days (from day 0, so every file exists after day 0)
      if (day % 7 !== 6) {
        for (let k = 0; k < 1 + (day % 2); k++) {
          g.store.denyAdd((day * 4 + k + 1).toString(16).padStart(16, "0"), "test", w.now());
          denied++;
        }
        g.store.setMeta("denyVersion", String(g.denyVersion() + 1));
      }
      if (day % 60 === 0) {
        const k = Issuer.generate(keyId);
        g.addIssuerKey({ keyId, publicKey: k.publicKey });
        heldKeys.push(keyId++);
      }
      if (day % 60 === 59 && heldKeys.length > 2) g.revokeIssuerKey(heldKeys.splice(1, 1)[0]);
      // the terminal's day: Wi-Fi comes, it syncs, Wi-Fi goes
      const before = hellos();
      w.setWifi(true);
      await w.until("the sync of day " + day, () => hellos() > before, 30000);
      // the sync runs on after its hello (deny list, keys); the last day's is let finish before the books are compared
      await w.run(day === 364 ? 3000 : 300);
      w.setWifi(false);
      await w.run(100);
      if (w.screenText().join("\n").includes("Storage nearly full")) warned++;
      const s = st.getStats();
      // every file the year writes exists after day 0 (an issuer key is added that day)
      if (day === 0) start = { free: s.freeBytes, trash: s.trashBytes };
      else {
        assert.equal(s.freeBytes, start!.free, "day " + day + ": free space");
        assert.equal(s.trashBytes, start!.trash, "day " + day + ": nothing new to compact");
      }
      w.fastForward(DAY);
    }
    const end = st.getStats();
    const act = st.read("act.a") ?? st.read("act.b") ?? "";
    // figures for docs/architecture.md
    console.log(`      free ${start!.free} -> ${end.freeBytes} bytes, trash ${start!.trash} -> ${end.trashBytes}; activity log ${act.indexOf("\xff")} of ${act.length} bytes used`);
    assert.equal(warned, 0, "never 'Storage nearly full'");
    // what the year left on flash is what the gateway said
    const store = flashStore(w.host.flash);
    const deny = loadDenyList(store);
    assert.equal(deny.version, g.denyVersion());
    assert.equal(deny.count, denied);
    for (const id of g.denyList()) assert.ok(denyListHasHex(deny, id), id);
    assert.deepEqual(Object.keys(loadSettings(store).issuerKeys).map(Number).sort((a, b) => a - b), heldKeys.slice().sort((a, b) => a - b));
    assert.equal(loadSyncDay(store), Math.floor((w.now() - DAY) / DAY));
    assert.deepEqual(st.list().filter((n) => /^(deny|keys|sync|vault)\./.test(n)).sort(), ["deny.a", "keys.a", "sync.day", "vault.a"].sort().filter((n) => st.list().indexOf(n) >= 0));
  });
});
