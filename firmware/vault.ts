/**
 * The vault: a few small named secrets (PIN hashes, per-merchant order keys, Wi-Fi passwords) in one sealed Storage
 * file, encrypted and MACed with the vault keys from the secure element (firmware/keys.ts). It satisfies the
 * technician console's SecretVault (firmware/tech/console.ts).
 *
 *   openVault(device.storage, device.crypto, keys.vault, (err, v) => {
 *     // err: null, or VAULT_AUTH (files there but none opens with these keys); v is usable either way
 *     v.put("pin.merchant", hashPin(crypto, salt, "1234"), (e) => { ... });
 *     v.value("order.42");                         // Uint8Array | undefined
 *   });
 *
 * Files: a record log written in place (firmware/record-log.ts), `vault.a` / `vault.b`, pre-sized VAULT_LOG_BYTES.
 * Each change appends the whole vault, sealed, as one record with the next generation into erased bytes of the
 * file (no new file, nothing for a compaction), reads it back and checks it opens. A power cut at any point leaves
 * the old record or the new one (the newest that opens wins). The envelope is protocol/seal.ts with keyId
 * VAULT_KEY_ID and seq = generation, so a record moved to another generation does not open. When the file is
 * full, the record starts the other name (a new pre-sized file) and the full one is erased: the only step that
 * leaves space for a compaction, once per ~30 changes of a typical vault (docs/architecture.md); Storage without
 * room for it refuses the write (VAULT_FULL) instead of compacting (a compaction cut by power can wipe all of
 * Storage). Files of older firmware, `vault.<generation>` (decimal, one file per generation), are still read; the
 * first write moves the vault into the log and erases them.
 *
 * Plaintext: count (u8), then per entry: name length (u8), name (ASCII), value length (u8), value.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import type { FileStore } from "../hal/storage.ts";
import { ascii, concat, equalConstantTime } from "../protocol/codec/hex.ts";
import { hmacSha256 } from "../protocol/hmac.ts";
import type { VaultKeys } from "./keys.ts";
import type { SealKeys } from "../protocol/seal.ts";
import { seal, unseal } from "../protocol/seal.ts";
import { getU32, RecordLog, recordBytes } from "./record-log.ts";

export const VAULT_PREFIX = "vault.";
export const VAULT_KEY_ID = 0x56;
/** Longest entry name (the file format's limit is 255; kept short for memory). */
export const MAX_NAME = 24;
export const MAX_VALUE = 128;
export const MAX_ENTRIES = 24;
/** The vault log's names and size (8 KB: a vault of a few PINs, keys and passwords seals to 200-400 bytes). */
export const VAULT_LOGS = ["vault.a", "vault.b"];
export const VAULT_LOG_BYTES = 8192;
const T_VAULT = 1;
/** Free bytes Storage must keep beyond a new log file (a turnover) and its header. */
const FREE_MARGIN = 4096;

/** Error codes of the vault (the `err` strings of its callbacks). */
export const VAULT_AUTH = "VAULT_AUTH";
export const VAULT_FULL = "VAULT_FULL";
export const VAULT_WRITE = "VAULT_WRITE";
export const VAULT_NAME = "VAULT_NAME";
export const VAULT_SIZE = "VAULT_SIZE";
export const VAULT_ABSENT = "VAULT_ABSENT";

export interface Vault {
  /** The value stored under `name`, or undefined. */
  value(name: string): Uint8Array | undefined;
  /** SecretVault shape: the value, or the error VAULT_ABSENT. */
  get(name: string, done: (err: string | null, value?: Uint8Array) => void): void;
  /** Stores (replaces) one entry as a new generation; err is one of the VAULT_* codes. */
  put(name: string, value: Uint8Array, done: (err: string | null) => void): void;
  /** Removes one entry (no error if absent). */
  remove(name: string, done: (err: string | null) => void): void;
  names(): string[];
  /** The generation on flash (0 = none yet). */
  generation(): number;
}

/** Decimal generation of a vault file name, or -1. No regex (Espruino lacks `{n}` quantifiers). */
function generationOf(file: string): number {
  if (file.indexOf(VAULT_PREFIX) !== 0 || file.length === VAULT_PREFIX.length || file.length > VAULT_PREFIX.length + 9) return -1;
  let n = 0;
  for (let i = VAULT_PREFIX.length; i < file.length; i++) {
    const d = file.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function nameOk(name: string): boolean {
  if (!name.length || name.length > MAX_NAME) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function textOf(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Parses the plaintext into names/values; false if it is not well formed. */
function decode(p: Uint8Array, names: string[], values: Uint8Array[]): boolean {
  if (!p.length) return false;
  const n = p[0];
  let o = 1;
  for (let i = 0; i < n; i++) {
    if (o >= p.length) return false;
    const nl = p[o++];
    if (o + nl >= p.length) return false;
    const name = textOf(p, o, o + nl);
    o += nl;
    const vl = p[o++];
    if (o + vl > p.length) return false;
    names.push(name);
    values.push(new Uint8Array(p.subarray(o, o + vl)));
    o += vl;
  }
  return o === p.length;
}

function encode(names: string[], values: Uint8Array[]): Uint8Array {
  let len = 1;
  for (let i = 0; i < names.length; i++) len += 2 + names[i].length + values[i].length;
  const out = new Uint8Array(len);
  out[0] = names.length;
  let o = 1;
  for (let i = 0; i < names.length; i++) {
    out[o++] = names[i].length;
    out.set(ascii(names[i]), o);
    o += names[i].length;
    out[o++] = values[i].length;
    out.set(values[i], o);
    o += values[i].length;
  }
  return out;
}

/** What is on flash: the newest generation that unseals, the highest generation seen, and whether any was there. */
interface Found {
  names: string[];
  values: Uint8Array[];
  gen: number;
  top: number;
  any: boolean;
}

/** Takes a sealed envelope of generation g into `f` if it opens; true when it did. */
function take(c: CryptoBackend, sk: SealKeys, f: Found, raw: Uint8Array, g: number): boolean {
  const r = unseal(c, sk, raw);
  if ("err" in r || r.seq !== g) return false;
  const n: string[] = [];
  const v: Uint8Array[] = [];
  if (!decode(r.data, n, v)) return false;
  f.names = n;
  f.values = v;
  f.gen = g;
  return true;
}

/**
 * Reads the vault log, newest record first, then older firmware's files. A function of its own so that its
 * temporaries (record offsets, file lists) are not held by the vault's closures (Espruino keeps a closure's whole
 * scope).
 */
function findVault(store: FileStore, c: CryptoBackend, sk: SealKeys): Found {
  const f: Found = { names: [], values: [], gen: 0, top: 0, any: false };
  const log = new RecordLog(store, VAULT_LOGS, VAULT_LOG_BYTES);
  const at: number[] = [];
  log.load((type, _g, _data, o) => {
    if (type === T_VAULT) at.push(o);
  });
  f.top = log.gen;
  const bytes = log.bytes();
  for (let i = at.length - 1; i >= 0 && !f.gen && bytes; i--) {
    const o = at[i];
    const len = bytes[o + 2] * 256 + bytes[o + 3];
    take(c, sk, f, bytes.subarray(o + 8, o + 8 + len), getU32(bytes, o + 4));
  }
  // older firmware: one file per generation
  const files = store.list(VAULT_PREFIX);
  const gens: number[] = [];
  for (let i = 0; i < files.length; i++) {
    const g = generationOf(files[i]);
    if (g > 0) gens.push(g);
    if (g > f.top) f.top = g;
  }
  gens.sort((a, b) => b - a);
  for (let i = 0; i < gens.length && !f.gen; i++) {
    const raw = store.read(VAULT_PREFIX + gens[i]);
    if (raw) take(c, sk, f, raw, gens[i]);
  }
  f.any = gens.length > 0 || at.length > 0;
  return f;
}

/**
 * Opens the newest generation that unseals with `keys`. Calls back with a vault in every case; err is VAULT_AUTH
 * when vault files exist but none opens (another secure element, or damage): the vault is then empty, and its
 * first write starts a generation above all of them.
 */
export function openVault(store: FileStore, c: CryptoBackend, keys: VaultKeys, done: (err: string | null, vault: Vault) => void): void {
  const sk = { keyId: VAULT_KEY_ID, enc: keys.enc, mac: keys.mac };
  const found = findVault(store, c, sk);
  let names = found.names;
  let values = found.values;
  let gen = found.gen;
  let top = found.top;
  const err = !gen && found.any ? VAULT_AUTH : null;

  const indexOf = (name: string): number => {
    for (let i = 0; i < names.length; i++) if (names[i] === name) return i;
    return -1;
  };

  /** Appends names/values as generation top+1 into the log, checks it opens, erases older firmware's files. */
  const commit = (n: string[], v: Uint8Array[]): string | null => {
    const next = top + 1;
    const env = seal(c, sk, next, encode(n, v));
    const log = new RecordLog(store, VAULT_LOGS, VAULT_LOG_BYTES);
    log.load();
    const turnover = !(log.file >= 0 && log.end > 0 && log.end + recordBytes(env.length) <= log.size);
    if (turnover && store.stats().freeBytes < VAULT_LOG_BYTES + 32 + FREE_MARGIN) return VAULT_FULL;
    if (!log.append(T_VAULT, next, env)) return VAULT_WRITE;
    const back = log.bytes();
    const o = log.end - recordBytes(env.length);
    const chk = back ? unseal(c, sk, back.subarray(o + 8, o + 8 + env.length)) : null;
    if (!chk || "err" in chk || chk.seq !== next) return VAULT_WRITE;
    top = next;
    gen = next;
    names = n;
    values = v;
    const old = store.list(VAULT_PREFIX);
    for (let i = 0; i < old.length; i++) if (generationOf(old[i]) > 0) store.erase(old[i]);
    return null;
  };

  const vault: Vault = {
    value: (name) => {
      const i = indexOf(name);
      return i < 0 ? undefined : new Uint8Array(values[i]);
    },
    get: (name, cb) => {
      const v = vault.value(name);
      if (v) cb(null, v);
      else cb(VAULT_ABSENT);
    },
    put: (name, value, cb) => {
      if (!nameOk(name)) return cb(VAULT_NAME);
      if (value.length > MAX_VALUE) return cb(VAULT_SIZE);
      const n = names.slice();
      const v = values.slice();
      const i = indexOf(name);
      if (i < 0) {
        if (n.length >= MAX_ENTRIES) return cb(VAULT_SIZE);
        n.push(name);
        v.push(new Uint8Array(value));
      } else v[i] = new Uint8Array(value);
      cb(commit(n, v));
    },
    remove: (name, cb) => {
      const i = indexOf(name);
      if (i < 0) return cb(null);
      const n = names.slice();
      const v = values.slice();
      n.splice(i, 1);
      v.splice(i, 1);
      cb(commit(n, v));
    },
    names: () => names.slice(),
    generation: () => gen,
  };
  done(err, vault);
}

/** Length of a stored PIN record: salt (16), iterations (u16, big-endian), PBKDF2 output (32). */
export const PIN_RECORD = 50;
/** Older firmware's record: salt (16) then one HMAC-SHA256(salt, "pin:" + PIN) (32); still checked. */
const PIN_RECORD_V1 = 48;
/**
 * PBKDF2 iterations for a PIN. 500 took 0.34 s on the x86 Espruino interpreter shaped like the ESP32
 * (espruino-esp32mm, built-in SHA-256, on a loaded 2-core machine; 100: 87 ms, 1,000: 1.1 s); an ESP32 is slower
 * still. Each guess at a stolen record then costs 1,000 SHA-256 runs instead of 2.
 */
export const PIN_ITERATIONS = 500;

/**
 * PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2), one 32-byte block: password "pin:" + PIN, the salt, `n` iterations.
 * The HMAC pads are made once; each iteration is two native SHA-256 runs.
 */
export function pinKey(c: CryptoBackend, salt: Uint8Array, pin: string, n: number): Uint8Array {
  const p = ascii("pin:" + pin);
  const ip = new Uint8Array(64 + 32);
  const op = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    const b = i < p.length ? p[i] : 0;
    ip[i] = b ^ 0x36;
    op[i] = b ^ 0x5c;
  }
  let u = concat([salt, new Uint8Array([0, 0, 0, 1])]);
  const t = new Uint8Array(32);
  for (let j = 0; j < n; j++) {
    const inner = new Uint8Array(64 + u.length);
    inner.set(ip.subarray(0, 64), 0);
    inner.set(u, 64);
    op.set(c.sha256(inner), 64);
    u = c.sha256(op);
    for (let k = 0; k < 32; k++) t[k] ^= u[k];
  }
  return t;
}

/**
 * A PIN's stored form: salt (16 bytes, from the secure element's RNG), the iteration count, and PBKDF2 of the PIN
 * (pinKey). Kept only inside the vault; the iterations make a brute force of the few PIN digits slow for whoever
 * gets the vault's keys (docs/protocol.md, "Threats").
 */
export function hashPin(c: CryptoBackend, salt: Uint8Array, pin: string): Uint8Array {
  const s = salt.subarray(0, 16);
  return concat([s, new Uint8Array([PIN_ITERATIONS >> 8, PIN_ITERATIONS & 255]), pinKey(c, s, pin, PIN_ITERATIONS)]);
}

/** True when `pin` matches a record made by hashPin, or by older firmware's one HMAC (constant-time comparison). */
export function checkPin(c: CryptoBackend, record: Uint8Array | undefined, pin: string): boolean {
  if (!record) return false;
  const s = record.subarray(0, 16);
  if (record.length === PIN_RECORD_V1) return equalConstantTime(concat([s, hmacSha256(c, s, ascii("pin:" + pin))]), record);
  const n = record.length === PIN_RECORD ? record[16] * 256 + record[17] : 0;
  return n > 0 && equalConstantTime(pinKey(c, s, pin, n), record.subarray(18));
}
