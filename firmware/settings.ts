/**
 * The terminal's settings, one JSON file in Storage. Reads merge the defaults, so a file written by an older
 * firmware (or none at all) still yields every field. Secrets never live here (they stay in the secure element
 * or are stored encrypted by the journal's key).
 */
import type { FileStore } from "../hal/storage.ts";
import { ascii } from "../protocol/codec/hex.ts";

export const SETTINGS_FILE = "cfg.json";

export interface Settings {
  /** Empty until provisioned. */
  terminalId: string;
  merchantName: string;
  currency: string;
  gatewayUrl: string;
  merchantId: number;
  /** Issuer public keys (X||Y hex) by key ID, as provisioning writes them. */
  issuerKeys: { [id: string]: string };
}

function defaults(): Settings {
  return { terminalId: "", merchantName: "", currency: "EUR", gatewayUrl: "", merchantId: 0, issuerKeys: {} };
}

export function bytesToText(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function loadSettings(store: FileStore): Settings {
  const s: any = defaults();
  const raw = store.read(SETTINGS_FILE);
  if (!raw) return s;
  let saved: any;
  try {
    saved = JSON.parse(bytesToText(raw));
  } catch (e) {
    return s; // a damaged file reads as defaults; provisioning rewrites it
  }
  for (const k in s) if (saved && typeof saved[k] === typeof s[k]) s[k] = saved[k];
  return s;
}

export function saveSettings(store: FileStore, s: Settings): boolean {
  return store.write(SETTINGS_FILE, ascii(JSON.stringify(s)));
}

/**
 * Replaces only `issuerKeys` in cfg.json, keeping every other field provisioning wrote (link key, Wi-Fi list:
 * saveSettings knows only the Settings fields and would drop them). False when the file is missing or damaged
 * (nothing is written then) or Storage refuses the write.
 */
export function saveIssuerKeys(store: FileStore, keys: { [id: string]: string }): boolean {
  const raw = store.read(SETTINGS_FILE);
  let saved: any;
  try {
    saved = raw ? JSON.parse(bytesToText(raw)) : null;
  } catch (e) {
    saved = null;
  }
  if (!saved || typeof saved !== "object") return false;
  saved.issuerKeys = keys;
  return store.write(SETTINGS_FILE, ascii(JSON.stringify(saved)));
}
