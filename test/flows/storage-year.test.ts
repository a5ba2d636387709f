/**
 * A year of daily syncs on the flashed bundle in the simulator (reference gateway): the deny list grows, issuer
 * keys rotate now and then, sync.day is written every day. Everything the firmware rewrites in the field is written
 * in place into pre-sized Storage files (firmware/record-log.ts, firmware/sync-day.ts), so Storage's free space
 * stays flat: no compaction is ever needed and "Storage nearly full" never shows. The one file that still leaves
 * space to compact is the activity log (firmware/activity.ts): each of its segment rotations is counted and is the
 * only trash allowed.
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
/** An activity segment (1 KB) and its Storage header, as firmware/activity.ts creates it. */
const ACT_FILE_BYTES = 1024 + 32;

/** Sum of the activity segments' generations: grows by one per rotation (a new segment file). */
function activityGenerations(w: World): number {
  let top = 0;
  for (let i = 0; i < 8; i++) {
    const s = w.host.storage.read("act." + i);
    const m = s ? /^#(\d+)\n/.exec(s) : null;
    if (m) top = Math.max(top, Number(m[1]));
  }
  return top;
}

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
    let start: { free: number; trash: number; act: number } | null = null;
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
      if (day === 0) start = { free: s.freeBytes, trash: s.trashBytes, act: activityGenerations(w) };
      else {
        // a rotation creates a segment (free space spent) and, once all segments exist, erases the oldest (trash)
        const act: number = (activityGenerations(w) - start!.act) * ACT_FILE_BYTES;
        assert.equal(start!.free - s.freeBytes, act, "day " + day + ": free space spent only on activity log rotations");
        const trash = s.trashBytes - start!.trash;
        assert.ok(trash <= act && trash % ACT_FILE_BYTES === 0, "day " + day + ": the only new trash is erased activity segments: " + trash);
      }
      w.fastForward(DAY);
    }
    const end = st.getStats();
    const rotations = activityGenerations(w) - start!.act;
    // figures for docs/architecture.md
    console.log(`      free ${start!.free} -> ${end.freeBytes} bytes, trash ${start!.trash} -> ${end.trashBytes}; activity rotations ${rotations} (${rotations * ACT_FILE_BYTES} bytes)`);
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
