/**
 * The journal as a developer wants to see it: every record in the journal's flash region, page by page, with its
 * state (pending, uploaded, acknowledged), what it holds (kind, method, amount, transaction ID) and whether its tag
 * verifies, and what the firmware's own recovery would report (anomalies, a torn tail) on the same bytes.
 *
 *   const view = journalView(world.host);    // reads a copy: the device's flash is never touched
 *
 * The records are encrypted with keys only the secure element can derive (firmware/keys.ts: ECDH of the storage
 * key in slot 2 with a fixed point). The simulator holds the emulated part's private keys, so it derives the same
 * keys here; on a real terminal nothing outside it can.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash } from "node:crypto";
import type { CryptoBackend } from "../hal/crypto.ts";
import { SeSlot } from "../hal/secure-element.ts";
import { storagePointHex, storageKeysFromRoot } from "../firmware/keys.ts";
import { Journal } from "../firmware/journal/journal.ts";
import type { Anomaly } from "../firmware/journal/journal.ts";
import { ramPages } from "../firmware/journal/ram-pages.ts";
import { decryptRecord, getU32, headerSize, verifyRecord } from "../firmware/journal/record.ts";
import { decodeEntry, entryAmount, entryCurrency } from "../protocol/entry.ts";
import type { TerminalHost } from "./engine/engine.ts";

/** AES-CBC without padding and SHA-256 from Node, the CryptoBackend the firmware's journal code takes. */
const nodeBackend: CryptoBackend = {
  name: "node",
  sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()),
  aesCbcEncrypt: (k, iv, d) => {
    const c = createCipheriv(k.length === 32 ? "aes-256-cbc" : "aes-128-cbc", k, iv).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(d), c.final()]));
  },
  aesCbcDecrypt: (k, iv, d) => {
    const c = createDecipheriv(k.length === 32 ? "aes-256-cbc" : "aes-128-cbc", k, iv).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(d), c.final()]));
  },
};

export type RecordState = "pending" | "uploaded" | "acknowledged";

export interface JournalRecordView {
  seq: number;
  /** Byte offset in its page. */
  offset: number;
  size: number;
  state: RecordState;
  /** The record's tag verifies with the device's journal key. */
  authentic: boolean;
  /** "wallet payment", "invoice paid", "refund", or "?" (not decodable). */
  kind: string;
  /** "QR", "Bluetooth", "paid by QR", "paid by Bluetooth", "paid online", or "". */
  method: string;
  /** Signed amount in minor units (a refund is negative), null when not decodable. */
  amountMinor: number | null;
  currency: number | null;
  txId: string;
  orderRef: string;
  /** Approved online: the gateway settled it before it was journaled (the record's flag, firmware/journal/record.ts). */
  online: boolean;
}

export interface JournalPageView {
  page: number;
  /** "used", "retiring" (its erase was started), "garbled" (no journal page header). */
  state: string;
  records: JournalRecordView[];
  /** Bytes still erased at the page's end. */
  free: number;
}

export interface JournalView {
  /** False when the records cannot be read (no storage key in the secure element yet: not provisioned). */
  readable: boolean;
  reason: string;
  pageSize: number;
  pageCount: number;
  /** Pages with anything written; erased pages are only counted. */
  pages: JournalPageView[];
  freePages: number;
  counts: { records: number; pending: number; uploaded: number; acknowledged: number };
  /** What the firmware's recovery reports on these bytes (its boot check). */
  anomalies: Anomaly[];
  tornTail: boolean;
}

const KIND: Record<number, string> = { 1: "wallet payment", 2: "invoice paid", 3: "refund" };
const METHOD: Record<number, string> = { 1: "QR", 2: "Bluetooth", 3: "paid by QR", 4: "paid by Bluetooth", 5: "paid online" };

/** The journal's keys as the firmware derives them at boot, from the emulated secure element's storage key. */
function journalKeys(host: TerminalHost): ReturnType<typeof storageKeysFromRoot>["journal"] | null {
  const key = host.secure.exportState().keys[SeSlot.Storage];
  if (!key) return null;
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(key, "hex"));
  const root = new Uint8Array(ecdh.computeSecret(Buffer.from("04" + storagePointHex(), "hex")));
  return storageKeysFromRoot(nodeBackend, root).journal;
}

export function journalView(host: TerminalHost): JournalView {
  const flash = host.journalFlash;
  const { pageSize, pageCount } = host.board.platform.journal;
  const bytes = flash.read(0, pageSize * pageCount);
  const keys = journalKeys(host);
  const view: JournalView = {
    readable: !!keys,
    reason: keys ? "" : "no storage key in the secure element (provision the terminal)",
    pageSize,
    pageCount,
    pages: [],
    freePages: 0,
    counts: { records: 0, pending: 0, uploaded: 0, acknowledged: 0 },
    anomalies: [],
    tornTail: false,
  };
  for (let p = 0; p < pageCount; p++) {
    const b = bytes.subarray(p * pageSize, (p + 1) * pageSize);
    if (b.every((x) => x === 0xff)) {
      view.freePages++;
      continue;
    }
    const magic = b[0] === 0x50 && b[1] === 0x4a && b[2] === 0x4e && b[3] === 0x31; // "PJN1"
    const retiring = getU32(b, 4) !== 0xffffffff;
    const page: JournalPageView = { page: p, state: !magic ? "garbled" : retiring ? "retiring" : "used", records: [], free: 0 };
    let off = 8;
    let size = magic ? headerSize(b, off, pageSize) : 0;
    while (size) {
      const acked = b[off + 5] === 0;
      const state: RecordState = acked ? "acknowledged" : b[off + 4] === 0 ? "uploaded" : "pending";
      const r: JournalRecordView = { seq: getU32(b, off + 8), offset: off, size, state, authentic: false, kind: "?", method: "", amountMinor: null, currency: null, txId: "", orderRef: "", online: b[off + 3] === 0xfe };
      if (keys && verifyRecord(nodeBackend, keys, b, off, size)) {
        r.authentic = true;
        const payload = decryptRecord(nodeBackend, keys, b, off, size);
        const e = payload ? decodeEntry(payload) : null;
        if (e) {
          r.kind = KIND[e.kind] ?? "?";
          r.method = "method" in e ? (METHOD[e.method] ?? String(e.method)) : "";
          r.amountMinor = entryAmount(e);
          r.currency = entryCurrency(e);
          r.txId = Buffer.from(e.txId).toString("hex");
          r.orderRef = "orderRef" in e ? e.orderRef : "";
        }
      }
      page.records.push(r);
      view.counts.records++;
      view.counts[state === "acknowledged" ? "acknowledged" : state]++;
      off += size;
      size = headerSize(b, off, pageSize);
    }
    let end = pageSize;
    while (end > off && b[end - 1] === 0xff) end--;
    page.free = pageSize - end;
    view.pages.push(page);
  }
  if (keys) {
    // the firmware's own recovery on a copy (it may close a torn tail: on the copy only)
    const copy = ramPages(pageSize, pageCount);
    copy.bytes.set(bytes);
    const rep = new Journal({ pages: copy, crypto: nodeBackend, keys }).recover();
    view.anomalies = rep.anomalies;
    view.tornTail = rep.tornTail;
  }
  return view;
}
