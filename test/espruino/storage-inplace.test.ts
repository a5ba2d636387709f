/**
 * The in-place Storage writes (firmware/record-log.ts, firmware/sync-day.ts, the deny list, the issuer keys, the
 * vault) run on a real Espruino interpreter's Storage (ESPRUINO=/path/to/espruino) through the device's Storage
 * binding: months of daily writes leave free space and trash where they were after the first day. Skipped without
 * ESPRUINO. Power cuts are the simulator's part (test/storage, test/limits, test/vault).
 */
import assert from "node:assert/strict";
import { runEntry } from "./entry-run.ts";
import { interpreter } from "./interpreter.ts";

const bin = interpreter();
const DAYS = 120;

const ENTRY = `
import { storageOver } from "./hal/espruino/storage.ts";
import { builtinCrypto } from "./hal/espruino/crypto.ts";
import { loadSyncDay, saveSyncDay } from "./firmware/sync-day.ts";
import { denyListFromBytes, denyListHas, loadDenyList, saveDenyList } from "./firmware/app/limits.ts";
import { loadSettings, saveIssuerKeys } from "./firmware/settings.ts";
import { openVault } from "./firmware/vault.ts";
declare const require: any, print: any, getTime: any, quit: any;
const store = storageOver(require("Storage"));
const c = builtinCrypto();
const keys = { enc: new Uint8Array(16), mac: new Uint8Array(32) };
keys.enc.fill(1);
keys.mac.fill(2);
const cfg = '{"terminalId":"7","gatewayUrl":"http://gw.example","issuerKeys":{"1":"aa"}}';
const cb = new Uint8Array(cfg.length);
for (let i = 0; i < cfg.length; i++) cb[i] = cfg.charCodeAt(i);
store.write("cfg.json", cb);
const id = (n: number) => { const b = new Uint8Array(8); b[0] = n & 255; b[6] = (n >> 8) & 255; b[7] = 9; return b; };
let ids = new Uint8Array(0);
let version = 0;
let first: any = null;
let worst = 0;
let ok = true;
const st = () => store.stats();
for (let day = 0; day < ${DAYS}; day++) {
  if (!saveSyncDay(store, 20400 + day)) ok = false;
  if (day % 7 !== 6) {
    const more = new Uint8Array(ids.length + 16);
    more.set(ids, 0);
    more.set(id(2 * day), ids.length);
    more.set(id(2 * day + 1), ids.length + 8);
    ids = more;
    const t = getTime();
    if (!saveDenyList(store, denyListFromBytes(ids, ++version))) ok = false;
    worst = Math.max(worst, getTime() - t);
  }
  if (day % 30 === 1) {
    const k: any = { "1": "aa" };
    k[String(day)] = "bb";
    if (!saveIssuerKeys(store, k)) ok = false;
  }
  if (day % 30 === 2) openVault(store, c, keys, (_e: any, v: any) => v.put("wifi.0", id(day), (e: any) => { if (e) ok = false; }));
  if (day === 2) first = st();
  if (first && (st().freeBytes !== first.freeBytes || st().trashBytes !== first.trashBytes)) { print("MOVED " + day + " " + JSON.stringify(st())); ok = false; }
}
const t0 = getTime();
const d = loadDenyList(store);
const loadMs = Math.round((getTime() - t0) * 1000);
let all = d.count === ids.length / 8;
for (let i = 0; i < ids.length / 8; i++) if (!denyListHas(d, ids.subarray(i * 8, i * 8 + 8))) all = false;
let secret = -1;
openVault(store, c, keys, (_e: any, v: any) => { const s = v.value("wifi.0"); secret = s ? s[0] + 256 * s[6] : -1; });
print("RESULT " + JSON.stringify({ ok: ok, day: loadSyncDay(store), version: d.version, count: d.count, all: all,
  keys: Object.keys(loadSettings(store).issuerKeys).join(","), secret: secret, first: first, last: st(),
  worstSaveMs: Math.round(worst * 1000), loadMs: loadMs, files: require("Storage").list().join(",") }));
quit();
`;

describe("in-place Storage writes on the Espruino interpreter", function () {
  this.timeout(300000);
  before(function () {
    if (!bin) this.skip();
  });

  it("keeps free space and trash unchanged over " + DAYS + " days of sync day, deny list, issuer key and vault writes", async () => {
    const { r, line } = await runEntry<any>(bin!, ENTRY, "storage-inplace", ["Storage", "crypto"], 280000);
    console.log("      " + line);
    assert.equal(r.ok, true, line);
    assert.equal(r.day, 20400 + DAYS - 1);
    assert.equal(r.version, DAYS - Math.floor(DAYS / 7));
    assert.equal(r.count, 2 * r.version);
    assert.equal(r.all, true);
    assert.equal(r.keys, "1," + String(DAYS - 1 - ((DAYS - 2) % 30)));
    assert.equal(r.last.freeBytes, r.first.freeBytes);
    assert.equal(r.last.trashBytes, 0);
    assert.deepEqual(r.files.split(",").sort(), ["cfg.json", "deny.a", "keys.a", "sync.day", "vault.a"]);
  });
});
