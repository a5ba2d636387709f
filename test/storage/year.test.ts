/**
 * A year of what a synced terminal writes to Storage, day by day, on the simulator's Espruino Storage laid out as
 * on the devkit (the bundle as .bootcde, provisioning's files): sync.day and the activity log's lines every day,
 * the deny list on most days, the issuer keys and the vault now and then, with the firmware's own functions. Free space stays flat and nothing
 * is left to compact; and on sample days, a power cut at every flash operation of the day's writes leaves each
 * value old or new, never neither, with the other files intact.
 */
import assert from "node:assert/strict";
import { ActivityLog } from "../../firmware/activity.ts";
import { denyListFromHex, denyListHasHex, loadDenyList, saveDenyList } from "../../firmware/app/limits.ts";
import { loadSettings, saveIssuerKeys } from "../../firmware/settings.ts";
import { loadSyncDay, saveSyncDay } from "../../firmware/sync-day.ts";
import type { Vault } from "../../firmware/vault.ts";
import { openVault } from "../../firmware/vault.ts";
import type { VaultKeys } from "../../firmware/keys.ts";
import type { FileStore } from "../../hal/storage.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { boardData, flashStore } from "../update/helpers.ts";

const crypto = nodeCrypto();
const KEYS: VaultKeys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2) };
const DAY0 = 20415;
const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const wallet = (n: number) => n.toString(16).padStart(16, "0");

interface Day {
  day: number;
  deny: string[] | null;
  keys: { [id: string]: string } | null;
  secret: string | null;
}

/** The year's plan: deny list changes 6 days a week, issuer keys every 45 days, a vault write every 30 days. */
function plan(): Day[] {
  const out: Day[] = [];
  const list = new Set<string>();
  let seed = 11;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const keys: { [id: string]: string } = { "1": "aa".repeat(64) };
  for (let i = 0; i < 365; i++) {
    let deny: string[] | null = null;
    if (i % 7 !== 6) {
      for (let k = 1 + rnd(3); k > 0; k--) list.add(wallet(rnd(100000)));
      if (list.size > 50 && rnd(2)) list.delete([...list][rnd(list.size)]);
      deny = [...list];
    }
    let k: { [id: string]: string } | null = null;
    if (i % 45 === 20) {
      keys[String(2 + i)] = (i % 256).toString(16).padStart(2, "0").repeat(64);
      if (Object.keys(keys).length > 3) delete keys[Object.keys(keys)[1]];
      k = Object.assign({}, keys);
    }
    out.push({ day: DAY0 + i, deny, keys: k, secret: i % 30 === 15 ? "wifi-" + i : null });
  }
  return out;
}

function vaultOf(store: FileStore): Vault {
  let v: Vault | null = null;
  openVault(store, crypto, KEYS, (_e, vault) => (v = vault));
  return v!;
}

/** The activity log as the terminal opens it at boot, its clock on day `day`. */
const activity = (store: FileStore, day: number) => new ActivityLog(store, () => day * 86400000 + 34200000);

/**
 * What the terminal writes on one day, in the order it does (Wi-Fi up in the activity log, sync day, deny list,
 * keys, Wi-Fi down; the vault by a technician).
 */
function write(store: FileStore, d: Day, version: number): void {
  const log = activity(store, d.day);
  log.add("connect", "wifi");
  assert.equal(log.dropped, 0, "activity on " + d.day);
  assert.ok(saveSyncDay(store, d.day), "sync day " + d.day);
  if (d.deny) assert.ok(saveDenyList(store, denyListFromHex(d.deny, version)), "deny list on " + d.day);
  if (d.keys) assert.ok(saveIssuerKeys(store, d.keys), "issuer keys on " + d.day);
  if (d.secret) {
    let err: string | null | undefined;
    vaultOf(store).put("wifi.0", bytes(d.secret), (e) => (err = e));
    assert.equal(err, null, "vault on " + d.day);
  }
  log.add("disconnect", "wifi");
  assert.equal(log.dropped, 0, "activity on " + d.day);
}

interface Held {
  day: number;
  denyVersion: number;
  keys: string;
  secret: string;
  /** The activity log's newest lines. */
  act: string[];
}

function held(store: FileStore): Held {
  const d = loadDenyList(store);
  const v = vaultOf(store).value("wifi.0");
  return {
    day: loadSyncDay(store),
    denyVersion: d.version,
    keys: JSON.stringify(loadSettings(store).issuerKeys),
    secret: v ? Buffer.from(v).toString() : "",
    act: activity(store, 0).recent(3),
  };
}

function provisioned(): Flash {
  const st = boardData().platform.storage;
  const flash = new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
  const s = flashStore(flash);
  s.write(".bootcde", new Uint8Array(120000).fill(0x20));
  s.write("cert.bin", new Uint8Array(141).fill(7));
  s.write("cfg.json", bytes(JSON.stringify({ terminalId: "7", gatewayUrl: "http://gw.example", linkKey: "11".repeat(64), wifi: ["home"], issuerKeys: { "1": "aa".repeat(64) } })));
  s.write("limits.json", bytes('{"perPaymentMinor":5000}'));
  return flash;
}

describe("Storage over a year of syncs (firmware's in-place files)", function () {
  this.timeout(300000);

  it("keeps free space flat and leaves nothing to compact over 365 days", () => {
    const flash = provisioned();
    const store = flashStore(flash);
    const days = plan();
    let first: { freeBytes: number; trashBytes: number } | null = null;
    let version = 0;
    for (let i = 0; i < days.length; i++) {
      if (days[i].deny) version++;
      write(store, days[i], version);
      // the first write of each kind creates its pre-sized file; from then on nothing moves
      if (i === 20) first = store.stats();
      if (first) {
        const s = store.stats();
        assert.equal(s.freeBytes, first.freeBytes, "free space on day " + i);
        assert.equal(s.trashBytes, 0, "nothing to compact on day " + i);
      }
    }
    const last = days[days.length - 1];
    const h = held(flashStore(flash));
    assert.equal(h.day, last.day);
    assert.equal(h.denyVersion, version);
    const deny = loadDenyList(store);
    const want = days.filter((d) => d.deny).pop()!.deny!;
    assert.equal(deny.count, want.length);
    for (const id of want) assert.ok(denyListHasHex(deny, id));
    assert.equal(h.keys, JSON.stringify(days.filter((d) => d.keys).pop()!.keys));
    assert.equal(h.secret, days.filter((d) => d.secret).pop()!.secret);
    const at = (n: number) => new Date(n * 86400000).toISOString().slice(0, 10) + " 09:30 ";
    assert.deepEqual(h.act, [at(last.day) + "disconnect wifi", at(last.day) + "connect wifi", at(last.day - 1) + "disconnect wifi"]);
    assert.ok(store.stats().freeBytes > 16384 * 4, "far from 'Storage nearly full'");
    // figures for docs/architecture.md: how much of each pre-sized file a year used
    const used = (n: string) => {
      const b = store.read(n)!;
      let e = b.length;
      while (e > 0 && b[e - 1] === 255) e--;
      return n + " " + e + "/" + b.length;
    };
    console.log("      after a year: " + ["sync.day", "deny.a", "keys.a", "vault.a", "act.a"].map(used).join(", "));
  });

  it("on sample days, a power cut at every flash operation of the day's writes leaves each value old or new", () => {
    const flash = provisioned();
    const days = plan();
    let version = 0;
    const samples = [0, 15, 20, 110, 195, 300];
    for (let i = 0; i <= samples[samples.length - 1]; i++) {
      const d = days[i];
      const v = d.deny ? version + 1 : version;
      if (samples.indexOf(i) >= 0) {
        const old = held(flashStore(flash));
        const probe = new Flash({ image: flash.bytes, pageSize: flash.pageSize });
        const ops = probe.ops;
        write(flashStore(probe), d, v);
        const after = held(flashStore(probe));
        const total = probe.ops - ops;
        for (let cut = 1; cut <= total; cut++) {
          const f = new Flash({ image: flash.bytes, pageSize: flash.pageSize });
          f.cutPowerAt(cut);
          assert.throws(() => write(flashStore(f), d, v), (e: unknown) => (e as { code?: string }).code === "POWER_CUT", "day " + i + " cut " + cut);
          f.cutPowerAt(null);
          new EspruinoStorage(f).boot();
          const s = flashStore(f);
          const h = held(s);
          const where = "day " + i + ", cut " + cut + " of " + total;
          assert.ok(h.day === old.day || h.day === after.day, where + ": sync day " + h.day);
          assert.ok(h.denyVersion === old.denyVersion || h.denyVersion === after.denyVersion, where + ": deny version " + h.denyVersion);
          assert.ok(h.keys === old.keys || h.keys === after.keys, where + ": keys");
          assert.ok(h.secret === old.secret || h.secret === after.secret, where + ": vault");
          // the activity log: the old lines, the new, the day's first line alone, or either line cut short
          const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);
          const connected = [after.act[1]].concat(old.act.slice(0, 2));
          const torn = h.act.length > 0 && h.act[0].endsWith(" [cut]") && (same(h.act.slice(1), old.act.slice(0, 2)) || same(h.act.slice(1), connected.slice(0, 2)));
          assert.ok(same(h.act, old.act) || same(h.act, after.act) || same(h.act, connected) || torn, where + ": activity " + JSON.stringify(h.act) + ", was " + JSON.stringify(old.act));
          const next = activity(s, d.day + 1);
          next.add("boot", "after the cut");
          assert.equal(next.recent(1)[0].slice(17), "boot after the cut", where + ": the next line is whole");
          assert.equal(s.read(".bootcde")!.length, 120000, where + ": the bundle");
          assert.equal(s.read("cert.bin")!.length, 141, where + ": the certificate");
          assert.equal(JSON.parse(Buffer.from(s.read("cfg.json")!).toString()).linkKey, "11".repeat(64), where + ": cfg.json");
        }
      }
      version = v;
      write(flashStore(flash), d, v);
    }
  });
});
