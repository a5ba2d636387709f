/**
 * What the sync loop needs from cfg.json, as provisioning writes it (firmware/tech/console.ts): the terminal ID
 * (decimal string), the gateway URL, the gateway's link public key (`linkKey`, 128 hex digits) and the Wi-Fi SSIDs
 * (`wifi`; network i's password is in the vault under "wifi.<i>", so the list is kept whole and in order).
 *
 *   const cfg = readSyncConfig(device.storage);
 *   if ("code" in cfg) show(cfg.message); else startSync({ ...cfg, device, journal, secrets: vault, ... });
 */
import type { FileStore } from "../../hal/storage.ts";
import { fromHex } from "../../protocol/codec/hex.ts";
import { bytesToText } from "../settings.ts";
import type { SyncError } from "./sync.ts";

export interface SyncConfig {
  terminalId: number;
  gatewayUrl: string;
  gatewayKey: Uint8Array;
  networks: string[];
}

function bad(message: string): SyncError {
  return { code: "SYNC_CONFIG", message: message };
}

/** The sync fields of a parsed cfg.json, checked; a SYNC_CONFIG error naming the first thing missing. */
export function syncConfig(cfg: any): SyncConfig | SyncError {
  if (!cfg || typeof cfg !== "object") return bad("Not provisioned");
  const tid = typeof cfg.terminalId === "number" ? String(cfg.terminalId) : cfg.terminalId;
  if (typeof tid !== "string" || !tid.length || tid.length > 10) return bad("Not provisioned: no terminal ID");
  for (let i = 0; i < tid.length; i++) if ("0123456789".indexOf(tid.charAt(i)) < 0) return bad("Bad terminal ID");
  const terminalId = parseInt(tid, 10);
  if (!(terminalId > 0 && terminalId < 4294967296)) return bad("Bad terminal ID");
  const url = cfg.gatewayUrl;
  if (typeof url !== "string" || !(url.indexOf("http://") === 0 || url.indexOf("https://") === 0) || url.length < 10) return bad("No gateway URL");
  const key = typeof cfg.linkKey === "string" ? fromHex(cfg.linkKey) : undefined;
  if (!key || key.length !== 64) return bad("No gateway link key");
  const networks: string[] = [];
  const wifi = cfg.wifi;
  if (wifi !== undefined && !Array.isArray(wifi)) return bad("Bad Wi-Fi list");
  if (wifi) {
    for (let i = 0; i < wifi.length; i++) {
      if (typeof wifi[i] !== "string" || !wifi[i].length) return bad("Bad Wi-Fi list");
      networks.push(wifi[i]);
    }
  }
  return { terminalId: terminalId, gatewayUrl: url, gatewayKey: key, networks: networks };
}

/** syncConfig of the stored cfg.json. */
export function readSyncConfig(store: FileStore, file?: string): SyncConfig | SyncError {
  const raw = store.read(file || "cfg.json");
  if (!raw) return bad("Not provisioned");
  let cfg: any;
  try {
    cfg = JSON.parse(bytesToText(raw));
  } catch (e) {
    return bad("Settings damaged: provision again");
  }
  return syncConfig(cfg);
}
