/** Shared fakes of the journal tests: Node's crypto as a backend, fixed keys, a sim flash region behind the binding. */
export { nodeCrypto } from "../../gateway/node-crypto.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import type { FlashPages } from "../../hal/flash-pages.ts";
import { flashPages } from "../../hal/espruino/flash-pages.ts";
import type { JournalKeys } from "../../firmware/journal/record.ts";
import { Journal } from "../../firmware/journal/journal.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { createFlashModule } from "../../sim/espruino/flash-module.ts";


export function testKeys(): JournalKeys {
  const k = (n: number, base: number) => Uint8Array.from({ length: n }, (_, i) => (base + i * 7) & 255);
  return { enc: k(16, 1), mac: k(32, 50), iv: k(16, 99) };
}

export const BASE = 0x190000;

export interface Rig {
  flash: Flash;
  pages: FlashPages;
  journal(reserveSlots?: number): Journal;
}

/** A region of `pageCount` 4096-byte pages on a sim Flash, reached through the Espruino binding and Flash module. */
export function rig(pageCount: number, flash?: Flash): Rig {
  const f = flash ?? new Flash({ size: pageCount * 4096, pageSize: 4096 });
  const pages = flashPages({ address: BASE, pageSize: 4096, pageCount }, createFlashModule(f, BASE));
  const crypto = nodeCrypto();
  const keys = testKeys();
  return {
    flash: f,
    pages,
    journal: (reserveSlots?: number) => new Journal({ pages, crypto, keys, reserveSlots }),
  };
}

/** The largest journal entry: a WalletPayment (protocol/entry.ts, docs/protocol.md section 7). */
export const LARGEST = 316;
/** The three entry sizes: WalletPayment, InvoicePaid, Refund. */
export const ENTRY_SIZES = [316, 116, 94];

/** A payload that says which payment it is (tests compare it after decryption); the largest entry by default. */
export function payment(id: number, length = LARGEST): Uint8Array {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (id * 31 + i * 13) & 255;
  p[0] = id >>> 24;
  p[1] = (id >>> 16) & 255;
  p[2] = (id >>> 8) & 255;
  p[3] = id & 255;
  return p;
}

export function paymentId(p: Uint8Array): number {
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}
