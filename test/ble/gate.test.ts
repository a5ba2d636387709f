/** The storage keys, the vault and the Bluetooth session pass the Espruino gate, compiled as for the device. */
import assert from "node:assert/strict";
import { compile } from "../../build.ts";
import { devkitData as devkit } from "../../boards/devkit-data.ts";
import { checkBundle } from "../gate/espruino-gate.ts";

const ENTRY = `
import { devkit } from "./boards/devkit.ts";
import { deriveStorageKeys, provisionSeKeys } from "./firmware/keys.ts";
import { openVault, hashPin, checkPin } from "./firmware/vault.ts";
import { BleSession } from "./protocol/ble-session.ts";
const d = devkit.createDevice("gate");
provisionSeKeys(d.secure, () => {
  deriveStorageKeys(d.secure, d.crypto, (err, keys) => {
    if (err || !keys) return print(err && err.code);
    openVault(d.storage, d.crypto, keys.vault, (e, v) => {
      v.put("pin.tech", hashPin(d.crypto, new Uint8Array(16), "1234"), () => print(checkPin(d.crypto, v.value("pin.tech"), "1234")));
    });
  });
});
const s = new BleSession({ ble: d.ble, se: d.secure, crypto: d.crypto, cert: new Uint8Array(141), name: "T", now: () => d.clock.uptime(), onMessage: (m) => print(m.length) });
s.start();
`;

describe("keys, vault and Bluetooth session pass the Espruino gate", function () {
  this.timeout(30000);
  it("compiled as for the device, with the devkit board", async () => {
    const js = await compile(ENTRY, "keys-vault-ble.entry.ts", devkit.platform.builtinModules);
    assert.deepEqual(checkBundle(js, "keys-vault-ble.js"), []);
  });
});
