/** The sync loop, its config reader and the entry codec pass the Espruino gate, compiled as for the device. */
import assert from "node:assert/strict";
import { compile } from "../../build.ts";
import { devkitData as devkit } from "../../boards/devkit-data.ts";
import { checkBundle } from "../gate/espruino-gate.ts";

const ENTRY = `
import { devkit } from "./boards/devkit.ts";
import { Journal } from "./firmware/journal/journal.ts";
import { decodeEntry, entryAmount, entryWalletId } from "./protocol/entry.ts";
import { readSyncConfig } from "./firmware/sync/config.ts";
import { startSync, trustedNow } from "./firmware/sync/sync.ts";
const d = devkit.createDevice("gate");
const cfg = readSyncConfig(d.storage);
const journal = new Journal({ pages: d.journal, crypto: d.crypto, keys: { enc: new Uint8Array(16), mac: new Uint8Array(16), iv: new Uint8Array(16) } });
journal.recover();
if (!("code" in cfg)) {
  const s = startSync({
    device: d, journal: journal, secrets: { get: (n, done) => done("none") }, firmwareVersion: "gate",
    terminalId: cfg.terminalId, gatewayUrl: cfg.gatewayUrl, gatewayKey: cfg.gatewayKey, networks: cfg.networks,
    onProgress: (p) => print(p.phase),
  });
  print(trustedNow(s.state, d.clock));
}
const e = decodeEntry(new Uint8Array(94));
if (e) print(entryAmount(e) + entryWalletId(d.crypto, e));
`;

describe("sync passes the Espruino gate", function () {
  this.timeout(30000);
  it("compiled as for the device, with the devkit board", async () => {
    const js = await compile(ENTRY, "sync.entry.ts", devkit.platform.builtinModules);
    assert.deepEqual(checkBundle(js, "sync.js"), []);
  });
});
