/**
 * The terminal's settings: cfg.json as provisioning writes it, with the issuer keys saved at sync over it (a record
 * log written in place, below). Reads merge the defaults, so a file written by an older firmware (or none at all)
 * still yields every field. Secrets never live here (they stay in the secure element
 * or are stored encrypted by the journal's key).
 */
import type { FileStore } from "../hal/storage.ts";
import type { CryptoBackend } from "../hal/crypto.ts";
import { ascii } from "../protocol/codec/hex.ts";
import { adler32, getU32, putU32, RecordLog } from "./record-log.ts";

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
  /** Firmware public keys (X||Y hex) by key ID, as provisioning writes them: the only keys an update is checked against. */
  firmwareKeys: { [id: string]: string };
}

function defaults(): Settings {
  return { terminalId: "", merchantName: "", currency: "EUR", gatewayUrl: "", merchantId: 0, issuerKeys: {}, firmwareKeys: {} };
}

export function bytesToText(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Issuer keys changed at sync live beside cfg.json, in a record log written in place (firmware/record-log.ts:
 * `keys.a`/`keys.b`, pre-sized KEYS_LOG_BYTES), not by rewriting cfg.json: a rewrite leaves the old copy for a
 * compaction. Record: adler32 of the cfg.json it applies to (u32) | issuerKeys as JSON. A record made for another
 * cfg.json (provisioned again since) is ignored, so provisioning's keys win.
 */
export const KEYS_LOGS = ["keys.a", "keys.b"];
/** 8 KB: a record with three keys is about 450 bytes, so 17 rotations or revocations before a turnover. */
export const KEYS_LOG_BYTES = 8192;
const T_KEYS = 1;

/** The issuer keys saved at sync for this cfg.json, or null. */
function savedKeys(store: FileStore, cfgRaw: Uint8Array): { [id: string]: string } | null {
  const sum = adler32(cfgRaw, 0, cfgRaw.length);
  let last: Uint8Array | null = null;
  new RecordLog(store, KEYS_LOGS, KEYS_LOG_BYTES).load((type, _gen, data) => {
    if (type === T_KEYS && data.length > 4 && getU32(data, 0) === sum) last = data;
    else last = null;
  });
  if (!last) return null;
  try {
    const k = JSON.parse(bytesToText((last as Uint8Array).subarray(4)));
    return k && typeof k === "object" ? k : null;
  } catch (e) {
    return null;
  }
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
  const keys = savedKeys(store, raw);
  if (keys) s.issuerKeys = keys;
  return s;
}

/** Whole settings as a new cfg.json (provisioning's kind of write: a new file, so not for the field). */
export function saveSettings(store: FileStore, s: Settings): boolean {
  return store.write(SETTINGS_FILE, ascii(JSON.stringify(s)));
}

/**
 * Saves only `issuerKeys`, keeping every other field provisioning wrote in cfg.json (link key, Wi-Fi list), as
 * one record appended in place to the keys log. False when cfg.json is missing or damaged (nothing is written
 * then) or Storage refuses the log's turnover (no room).
 */
export function saveIssuerKeys(store: FileStore, keys: { [id: string]: string }): boolean {
  const raw = store.read(SETTINGS_FILE);
  let saved: any;
  try {
    saved = raw ? JSON.parse(bytesToText(raw)) : null;
  } catch (e) {
    saved = null;
  }
  if (!raw || !saved || typeof saved !== "object") return false;
  const json = ascii(JSON.stringify(keys));
  const data = new Uint8Array(4 + json.length);
  putU32(data, 0, adler32(raw, 0, raw.length));
  data.set(json, 4);
  const log = new RecordLog(store, KEYS_LOGS, KEYS_LOG_BYTES);
  log.load();
  return log.append(T_KEYS, log.gen + 1, data);
}

/**
 * The trust anchors' digest kept in the vault (sealed under the secure element's key, firmware/vault.ts), so that
 * cfg.json (issuer keys, gateway link key), limits.json and the issuer keys rotated in at sync cannot be changed
 * on flash without the terminal noticing at boot. Entry: the current digest and the previous one (64 bytes): a
 * key rotation writes [new, current] before the keys, so a power cut between the two leaves a digest that matches.
 */
export const SETTINGS_SUM = "cfg.sum";

/** SHA-256 of cfg.json's bytes, limits.json's bytes and the issuer keys in force (as JSON). */
export function settingsDigest(c: CryptoBackend, cfgRaw: Uint8Array | undefined, limitsRaw: Uint8Array | undefined, keys: { [id: string]: string }): Uint8Array {
  const k = ascii(JSON.stringify(keys || {}));
  const a = cfgRaw || new Uint8Array(0);
  const l = limitsRaw || new Uint8Array(0);
  const b = new Uint8Array(a.length + l.length + k.length + 2);
  b.set(a, 0);
  b.set(l, a.length + 1);
  b.set(k, a.length + l.length + 2);
  return c.sha256(b);
}

function eq32(a: Uint8Array, o: number, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[o + i] !== b[i]) return false;
  return true;
}

/**
 * The vault entry: `digest` then the one in force before it, taken from the `old` entry (its first digest; or its
 * second when a retried save finds `digest` already first, since the keys on flash may still be the older ones).
 */
export function settingsSum(digest: Uint8Array, old: Uint8Array | null): Uint8Array {
  const s = new Uint8Array(64);
  s.set(digest, 0);
  s.set(old && old.length === 64 ? old.subarray(eq32(old, 0, digest) ? 32 : 0, eq32(old, 0, digest) ? 64 : 32) : digest, 32);
  return s;
}

/** Whether `digest` is one of the two the vault entry holds. */
export function settingsSumHas(sum: Uint8Array | undefined, digest: Uint8Array): boolean {
  return !!sum && sum.length === 64 && (eq32(sum, 0, digest) || eq32(sum, 32, digest));
}
