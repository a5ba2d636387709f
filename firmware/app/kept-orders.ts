/**
 * Orders the terminal took from a store's pay-api link (docs/orders.md), kept on flash until the gateway
 * acknowledges or refuses them: each goes with every upload (`orders`, docs/sync.md section 3) until then. At most
 * MAX_KEPT wait at once; a link order beyond them is refused (O10) until a sync sends them.
 *
 *   keptOrders(device).keep(link.order, link.callback);   // "" kept (or already kept), else O10 / O11 / O12
 *   keptOrders(device).list;                              // [{ order, callback }], oldest first
 *   keptOrders(device).settle(reply.orders);              // drops those acked or refused; returns the refused
 *   keptOrders(device, true);                             // at boot: moves orders.a/orders.b of older firmware
 *
 * Written on two raw flash pages of their own (`device.orders()`, beside the journal's region; firmware/page-log.ts),
 * not in Storage: a turnover erases a page and uses it again, so link orders taken leave nothing for a compaction
 * (docs/architecture.md "Storage that never needs a compaction"). Records:
 *   ADD   order (44 bytes) | callback (ASCII)                 one per order taken
 *   DONE  order reference (the Order's bytes 6..18) per order   one per upload reply that settled some
 *   ALL   per order: callback length u8 | order | callback    the whole list, first record after a turnover
 * A power cut during a write leaves the record before it the newest valid one: an order being kept is then not
 * kept (the merchant sees no order screen change: the write is before the payment opens), and one being settled
 * stays pending and is sent again, which the gateway acknowledges again (it keeps one callback per order). Once a
 * keep or a settle is written, no later cut undoes it (a turnover's erase touches only the older page). The whole
 * list (8 orders of the longest callback, 200 characters: 1,972 bytes) fits a 4 KB page, so the devkit's region
 * cannot be full (O11 is for a smaller one).
 * Nothing is held in RAM between calls: idle costs nothing.
 */
import type { FlashPages } from "../../hal/flash-pages.ts";
import type { FileStore } from "../../hal/storage.ts";
import { ascii } from "../../protocol/codec/hex.ts";
import { pageLog, PageLogResult } from "../page-log.ts";
import { RecordLog } from "../record-log.ts";
import { bytesToText } from "../settings.ts";

/** Sizes and record types (a const enum: inlined, no variable on the device). */
const enum K {
  /** Most link orders waiting to be sent (the gateway takes at most 8 per upload). */
  Max = 8,
  /** The size older firmware gave its Storage files (read once, at boot, to move their orders). */
  Bytes = 8192,
  Add = 1,
  Done = 2,
  All = 3,
  /** Where the order reference sits in an Order (docs/protocol.md section 2), and its length. */
  RefAt = 6,
  Ref = 12,
}
export const MAX_KEPT = K.Max;
/** The Storage files older firmware kept the orders in (a record log, firmware/record-log.ts), moved at boot. */
export const KEPT_ORDERS_LOGS = ["orders.a", "orders.b"];

export interface KeptOrder {
  /** The Order message, 44 bytes. */
  order: Uint8Array;
  callback: string;
}

export interface KeptOrders {
  /** The orders waiting to be sent, oldest first. */
  list: KeptOrder[];
  /** Whether an order of reference `ref` can be kept: it is already, or fewer than MAX_KEPT wait. */
  room(ref: string): boolean;
  /**
   * Keeps an order taken from a link: "" when kept, or already kept with the same callback (a link scanned twice;
   * a second link for a waiting order with another callback takes its place); "O10" when MAX_KEPT others wait;
   * "O11" when the whole list would not fit a page of the region, "O12" when the flash read back wrong (nothing
   * kept in either).
   */
  keep(order: Uint8Array, callback: string): string;
  /**
   * The upload reply's `orders` ({acked: [ref], refused: [{orderRef, code, message}]}): the orders it names are no
   * longer kept (both end the duty to send them). Returns the refused ones ("ORD-7 E_ORDER_CALLBACK") for the
   * activity log; a malformed answer settles nothing.
   */
  settle(reply: unknown): string[];
}

/**
 * The kept orders as on flash now, with what changes them. One function at the top level, its parts made when
 * called (the firmware's global scope holds one name for all of this: JsVars at idle).
 *
 * `migrate` (once at boot, only where the journal may open: firmware/journal/place.ts): orders an older firmware
 * kept in Storage (`orders.a`/`orders.b`) are kept on the pages, then those files are erased, the older one first.
 * A cut before the last erase moves them again at the next boot: an order already on the pages is not kept twice,
 * and the newest file, the last erased, always holds the list as it was.
 */
export function keptOrders(d: { orders: () => FlashPages; storage: FileStore }, migrate?: boolean): KeptOrders {
  /** The order reference of an Order (or of 12 reference bytes at `at`), as text (zero padding dropped). */
  const refOf = (b: Uint8Array, at?: number): string => {
    const from = at === undefined ? K.RefAt : at;
    let s = "";
    for (let i = from; i < from + K.Ref && b[i]; i++) s += String.fromCharCode(b[i]);
    return s;
  };
  const has = (ref: string, callback?: string): boolean => {
    for (let i = 0; i < list.length; i++) if (refOf(list[i].order) === ref && (callback === undefined || list[i].callback === callback)) return true;
    return false;
  };
  const drop = (ref: string) => {
    for (let i = list.length - 1; i >= 0; i--) if (refOf(list[i].order) === ref) list.splice(i, 1);
  };
  /** Appends a record, with the whole list (an ALL record) for a turnover: "" written, else the refusal. */
  const append = (type: number, data: Uint8Array): string => {
    let n = 0;
    for (let i = 0; i < list.length; i++) n += 45 + list[i].callback.length;
    const b = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < list.length; i++) {
      b[o] = list[i].callback.length;
      b.set(list[i].order, o + 1);
      b.set(ascii(list[i].callback), o + 45);
      o += 45 + list[i].callback.length;
    }
    const r = log.append(type, log.gen + 1, data, { type: K.All, data: b });
    return r === PageLogResult.Written ? "" : r === PageLogResult.Full ? "O11" : "O12";
  };
  /** One record of the log (the pages', or an older firmware's in Storage) applied to the list. */
  const apply = (type: number, _gen: number, b: Uint8Array) => {
    if (type === K.All) {
      list = [];
      for (let o = 0; o + 45 <= b.length; ) {
        const n = b[o];
        list.push({ order: new Uint8Array(b.subarray(o + 1, o + 45)), callback: bytesToText(b.subarray(o + 45, o + 45 + n)) });
        o += 45 + n;
      }
    } else if (type === K.Add && b.length > 44) {
      const order = new Uint8Array(b.subarray(0, 44));
      drop(refOf(order));
      list.push({ order: order, callback: bytesToText(b.subarray(44)) });
    } else if (type === K.Done) {
      for (let o = 0; o + K.Ref <= b.length; o += K.Ref) drop(refOf(b, o));
    }
  };
  const keep = (order: Uint8Array, callback: string): string => {
    const ref = refOf(order);
    if (has(ref, callback)) return "";
    drop(ref);
    if (list.length >= K.Max) return "O10";
    const add = new Uint8Array(44 + callback.length);
    add.set(order, 0);
    add.set(ascii(callback), 44);
    list.push({ order: order, callback: callback });
    return append(K.Add, add);
  };
  // the names made here, not held at the top level
  const log = pageLog(d.orders());
  let list: KeptOrder[] = [];
  log.load(apply);
  const st = d.storage;
  const names = ["orders.a", "orders.b"]; // KEPT_ORDERS_LOGS, made here: a top-level array is held at idle
  if (migrate && (st.read(names[0], 0, 1) || st.read(names[1], 0, 1))) {
    const mine = list;
    list = [];
    const old = new RecordLog(st, names, K.Bytes);
    old.load(apply);
    const was = list;
    list = mine;
    let moved = true;
    // an order already on the pages (a move cut short, or taken since) stays as it is there
    for (let i = 0; i < was.length; i++) if (!has(refOf(was[i].order)) && keep(was[i].order, was[i].callback)) moved = false;
    if (moved) {
      const cur = old.file < 0 ? 0 : old.file;
      for (let i = 1; i >= 0; i--) {
        const name = names[i ? 1 - cur : cur];
        if (st.read(name, 0, 1)) st.erase(name);
      }
    }
  }
  return {
    list: list,
    room(ref) {
      return has(ref) || list.length < K.Max;
    },
    keep: keep,
    settle(reply) {
      const r = reply as { acked?: unknown; refused?: unknown };
      const refs: string[] = [];
      const refused: string[] = [];
      if (r && typeof r === "object") {
        const acked = Array.isArray(r.acked) ? r.acked : [];
        for (let i = 0; i < acked.length; i++) if (typeof acked[i] === "string") refs.push(acked[i]);
        const no = Array.isArray(r.refused) ? r.refused : [];
        for (let i = 0; i < no.length; i++) {
          const x = no[i];
          if (x && typeof x.orderRef === "string") {
            refs.push(x.orderRef);
            refused.push(x.orderRef + " " + x.code);
          }
        }
      }
      let done = new Uint8Array(0);
      for (let i = 0; i < list.length; i++) {
        if (refs.indexOf(refOf(list[i].order)) < 0) continue;
        const b = new Uint8Array(done.length + K.Ref);
        b.set(done, 0);
        b.set(list[i].order.subarray(K.RefAt, K.RefAt + K.Ref), done.length);
        done = b;
        list.splice(i--, 1);
      }
      if (done.length) append(K.Done, done);
      return refused;
    },
  };
}
