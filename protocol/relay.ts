/**
 * Relay bundles (docs/protocol.md section 3, "Relayed records"): during a Bluetooth session the terminal may hand
 * the customer's phone a few of its oldest pending journal records, sealed to the gateway; the wallet carries the
 * bundle unread and unchanged to the gateway at its next sync (POST /v1/wallets/{id}/relay), which enters each
 * record once, exactly as if the terminal had uploaded it.
 *
 *   bundle    = 01 | 50 | terminalId (u32) | envelope
 *   envelope  = the sealed envelope of seal.ts under the terminal's relay keys (relayKeys(Z) below, keyId 5),
 *               seq = the sequence half of the first record's txId (the secure element's counter 0)
 *   plaintext = terminalId (u32) | count (u8, 1..4) | count x ( seq (u32) | prev (16, zeros: none) | len (u16) | entry )
 *
 * The relay keys come from the link's ECDH secret Z with labels of their own, so only the terminal and the gateway
 * can make or read a bundle, and a bundle can never pass for a link request (another keyId, other keys). The
 * gateway does not check the seq against the link's replay window: entering is idempotent (by record and txId), so
 * a bundle uploaded twice, or by two phones, or after the terminal uploaded the records itself, changes nothing.
 *
 *   terminal: const b = sealRelay(c, relayKeys(c, z), terminalId, journal.pending(4));   // sent over the BLE session
 *   gateway:  const tid = relayTerminalId(b); const r = openRelay(c, relayKeys(c, zOf(tid)), b); // r.code on failure
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import type { SealKeys } from "./seal.ts";
import { seal, unseal } from "./seal.ts";
import { sealKeys } from "./sync.ts";

/** keyId of relay bundles' envelopes. */
export const RELAY_KEY_ID = 5;

/**
 * The relay bundles' keys from the link's ECDH secret Z (docs/sync.md section 1): HMAC-SHA256(Z, "relay enc")[0..16]
 * and "relay mac", keyId 5. The terminal holds them only while it seals a bundle.
 */
export function relayKeys(c: CryptoBackend, z: Uint8Array): SealKeys {
  return sealKeys(c, z, RELAY_KEY_ID, "relay");
}

/** Most records in one bundle. */
export const RELAY_MAX_RECORDS = 4;
/** Bytes of the clear head: version, type, terminalId. */
export const RELAY_HEAD = 6;
/** The first byte after the version: MsgType.Relay (written as a literal on the device). */
export const RELAY_TYPE = 0x50;
/** Most bytes of one record's entry (the longest journal entry is 316). */
export const RELAY_MAX_ENTRY = 512;

/** A record as the terminal holds it in its journal (the upload's fields, as bytes). */
export interface RelayRecord {
  seq: number;
  /** The chain hash of record seq - 1 (16 bytes), when the terminal has it. */
  prev?: Uint8Array | null;
  /** The journal entry (docs/protocol.md section 7). */
  payload: Uint8Array;
}

export interface RelayError {
  code: string;
  message: string;
}

/** Not a relay bundle at all (length, version, type). */
export const RELAY_FORMAT = "RELAY_FORMAT";
/** A bundle that does not authenticate under the named terminal's keys: changed, or not that terminal's. */
export const RELAY_AUTH = "RELAY_AUTH";
/** Authentic, but its contents are malformed (a terminal's fault). */
export const RELAY_CONTENT = "RELAY_CONTENT";

function u32(b: Uint8Array, at: number): number {
  return ((b[at] * 256 + b[at + 1]) * 256 + b[at + 2]) * 256 + b[at + 3];
}

/**
 * The bundle of `records` (1..4, oldest first, as the journal gives them) for the gateway. Byte fields are taken as
 * given (callers pass the journal's own); at most RELAY_MAX_RECORDS are taken. The terminal runs this: it is one
 * function with its constants as literals (4 RELAY_MAX_RECORDS, 6 RELAY_HEAD, 0x50 RELAY_TYPE), so that it holds no
 * JsVars while idle.
 */
export function sealRelay(c: CryptoBackend, k: SealKeys, terminalId: number, records: RelayRecord[]): Uint8Array {
  const put = (b: Uint8Array, at: number, v: number) => {
    b[at] = (v >>> 24) & 255;
    b[at + 1] = (v >>> 16) & 255;
    b[at + 2] = (v >>> 8) & 255;
    b[at + 3] = v & 255;
  };
  const n = records.length < 4 ? records.length : 4;
  let size = 5;
  for (let i = 0; i < n; i++) size += 22 + records[i].payload.length;
  const pt = new Uint8Array(size);
  put(pt, 0, terminalId);
  pt[4] = n;
  let at = 5;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    put(pt, at, r.seq);
    if (r.prev) pt.set(r.prev.subarray(0, 16), at + 4);
    pt[at + 20] = r.payload.length >> 8;
    pt[at + 21] = r.payload.length & 255;
    pt.set(r.payload, at + 22);
    at += 22 + r.payload.length;
  }
  // the first record's txId counter (entry bytes 5..8): never the same for two different first records
  const f = records[0].payload;
  const env = seal(c, k, f.length >= 9 ? ((f[5] * 256 + f[6]) * 256 + f[7]) * 256 + f[8] : records[0].seq, pt);
  const out = new Uint8Array(6 + env.length);
  out[0] = 1;
  out[1] = 0x50;
  put(out, 2, terminalId);
  out.set(env, 6);
  return out;
}

/** The terminal a bundle names in clear (whose keys open it), or null when it is no relay bundle. */
export function relayTerminalId(b: Uint8Array): number | null {
  if (!b || b.length < RELAY_HEAD + 54 || b[0] !== 1 || b[1] !== RELAY_TYPE) return null;
  return u32(b, 2);
}

function fail(code: string, message: string): RelayError {
  return { code: code, message: message };
}

/** True for a RelayError. */
export function isRelayError(x: unknown): x is RelayError {
  return !!x && typeof (x as RelayError).code === "string" && !("records" in (x as object));
}

/**
 * Gateway side: authenticate and read a bundle under its terminal's relay keys. Records come back as the link's
 * upload fields would: seq, prev (32 hex digits, absent for none), entry (bytes).
 */
export function openRelay(
  c: CryptoBackend,
  k: SealKeys,
  b: Uint8Array,
): { terminalId: number; seq: number; records: { seq: number; prev?: Uint8Array; entry: Uint8Array }[] } | RelayError {
  const tid = relayTerminalId(b);
  if (tid === null) return fail(RELAY_FORMAT, "not a relay bundle (01 50, terminal ID, sealed records)");
  const u = unseal(c, k, b.subarray(RELAY_HEAD));
  if ("err" in u) return fail(RELAY_AUTH, "relay bundle failed authentication (" + u.err + "): changed on the way, or not sealed by terminal " + tid);
  const pt = u.data;
  const bad = (why: string) => fail(RELAY_CONTENT, "relay bundle from terminal " + tid + " is malformed: " + why);
  // the clear head is not under the tag: a terminal ID changed there is refused here (or its keys fail first)
  if (pt.length < 5 || u32(pt, 0) !== tid) return fail(RELAY_AUTH, "relay bundle names terminal " + tid + " in clear but was sealed for another");
  const n = pt[4];
  if (n < 1 || n > RELAY_MAX_RECORDS) return bad(n + " records (1.." + RELAY_MAX_RECORDS + ")");
  const records: { seq: number; prev?: Uint8Array; entry: Uint8Array }[] = [];
  let at = 5;
  for (let i = 0; i < n; i++) {
    if (at + 22 > pt.length) return bad("record " + (i + 1) + " is cut short");
    const len = pt[at + 20] * 256 + pt[at + 21];
    if (len < 1 || len > RELAY_MAX_ENTRY || at + 22 + len > pt.length) return bad("record " + (i + 1) + " has a bad length");
    const prev = new Uint8Array(pt.subarray(at + 4, at + 20));
    let zero = true;
    for (let j = 0; j < 16 && zero; j++) zero = prev[j] === 0;
    const r: { seq: number; prev?: Uint8Array; entry: Uint8Array } = { seq: u32(pt, at), entry: new Uint8Array(pt.subarray(at + 22, at + 22 + len)) };
    if (!zero) r.prev = prev;
    records.push(r);
    at += 22 + len;
  }
  if (at !== pt.length) return bad("bytes after the last record");
  return { terminalId: tid, seq: u.seq, records: records };
}
