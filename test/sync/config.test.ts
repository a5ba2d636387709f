import assert from "node:assert/strict";
import { readSyncConfig, syncConfig } from "../../firmware/sync/config.ts";
import { wifiPasswordName } from "../../firmware/sync/sync.ts";
import { wifiSecret } from "../../firmware/tech/console.ts";
import type { FileStore } from "../../hal/storage.ts";

const KEY = "ab".repeat(64);
const CFG = { terminalId: "42", merchantId: 7, gatewayUrl: "https://gw.example.com", linkKey: KEY, wifi: ["shop", "back"] };

function store(files: Record<string, string>): FileStore {
  return {
    read: (name: string) => (files[name] === undefined ? undefined : new Uint8Array(Buffer.from(files[name], "latin1"))),
  } as unknown as FileStore;
}

function code(x: unknown): string {
  return (x as { code?: string }).code ?? "ok";
}

describe("sync settings from cfg.json (firmware/sync/config.ts)", () => {
  it("reads what provisioning wrote", () => {
    const c = readSyncConfig(store({ "cfg.json": JSON.stringify(CFG) }));
    assert.deepEqual(c, { terminalId: 42, gatewayUrl: "https://gw.example.com", gatewayKey: new Uint8Array(64).fill(0xab), networks: ["shop", "back"] });
  });

  it("says 'Not provisioned' without a file", () => {
    const c = readSyncConfig(store({}));
    assert.deepEqual(c, { code: "SYNC_CONFIG", message: "Not provisioned" });
  });

  it("refuses a damaged file", () => {
    assert.equal(code(readSyncConfig(store({ "cfg.json": "{" }))), "SYNC_CONFIG");
  });

  it("refuses a terminal ID that is not a positive decimal u32", () => {
    for (const t of ["", "0", "4x", "-3", "4294967296", "1e3"]) assert.equal(code(syncConfig({ ...CFG, terminalId: t })), "SYNC_CONFIG", t);
    assert.equal(code(syncConfig({ ...CFG, terminalId: 42 })), "ok");
  });

  it("refuses a gateway URL that is not http(s)", () => {
    assert.equal(code(syncConfig({ ...CFG, gatewayUrl: "ftp://gw.example.com" })), "SYNC_CONFIG");
    assert.equal(code(syncConfig({ ...CFG, gatewayUrl: undefined })), "SYNC_CONFIG");
  });

  it("refuses a link key that is not 64 bytes of hex", () => {
    assert.equal(code(syncConfig({ ...CFG, linkKey: KEY.slice(2) })), "SYNC_CONFIG");
    assert.equal(code(syncConfig({ ...CFG, linkKey: KEY.slice(1) + "g" })), "SYNC_CONFIG");
  });

  it("takes no Wi-Fi list as no networks, and refuses a list that is not an array", () => {
    assert.deepEqual((syncConfig({ ...CFG, wifi: undefined }) as { networks: string[] }).networks, []);
    assert.equal(code(syncConfig({ ...CFG, wifi: "shop" })), "SYNC_CONFIG");
  });

  it("refuses a Wi-Fi list with a gap, since passwords are found by position", () => {
    assert.equal(code(syncConfig({ ...CFG, wifi: [1, "back"] })), "SYNC_CONFIG");
    assert.equal(code(syncConfig({ ...CFG, wifi: ["", "back"] })), "SYNC_CONFIG");
  });

  it("looks Wi-Fi passwords up under the vault names provisioning writes", () => {
    for (const i of [0, 1, 7]) assert.equal(wifiPasswordName(i), wifiSecret(i));
  });
});
