/**
 * Orders the terminal took from a store's pay-api link (docs/orders.md), kept on flash until the gateway
 * acknowledges or refuses them: each goes with every upload (`orders`, docs/sync.md section 3) until then. At most
 * MAX_KEPT wait at once; a link order beyond them is refused (O10) until a sync sends them.
 *
 *   keptOrders(device.storage).keep(link.order, link.callback);   // "" kept (or already kept), else O10 / O11
 *   keptOrders(device.storage).list;                              // [{ order, callback }], oldest first
 *   keptOrders(device.storage).settle(reply.orders);              // drops those acked or refused; returns the refused
 *
 * Written in place as a record log (firmware/record-log.ts: pre-sized files, no compaction), `orders.a`/`orders.b`:
 *   ADD   order (44 bytes) | callback (ASCII)                 one per order taken
 *   DONE  order reference (the Order's bytes 6..18) per order   one per upload reply that settled some
 *   ALL   per order: callback length u8 | order | callback    the whole list, first record after a turnover
 * A power cut during a write leaves the record before it the newest valid one: an order being kept is then not
 * kept (the merchant sees no order screen change: the write is before the payment opens), and one being settled
 * stays pending and is sent again, which the gateway acknowledges again (it keeps one callback per order).
 * Nothing is held in RAM between calls: idle costs nothing.
 */
import type { FileStore } from "../../hal/storage.ts";
import { ascii } from "../../protocol/codec/hex.ts";
import { RecordLog } from "../record-log.ts";
import { bytesToText } from "../settings.ts";

/** Sizes and record types (a const enum: inlined, no variable on the device). */
const enum K {
  /** Most link orders waiting to be sent (the gateway takes at most 8 per upload). */
  Max = 8,
  Bytes = 8192,
  Add = 1,
  Done = 2,
  All = 3,
  /** Where the order reference sits in an Order (docs/protocol.md section 2), and its length. */
  RefAt = 6,
  Ref = 12,
}
export const MAX_KEPT = K.Max;
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
   * "O11" when Storage could not take it (nothing kept).
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
 */
export function keptOrders(store: FileStore): KeptOrders {
  /** The order reference of an Order (or of 12 reference bytes at `at`), as text (zero padding dropped). */
  const refOf = (b: Uint8Array, at?: number): string => {
    const from = at === undefined ? K.RefAt : at;
    let s = "";
    for (let i = from; i < from + K.Ref && b[i]; i++) s += String.fromCharCode(b[i]);
    return s;
  };
  const drop = (ref: string) => {
    for (let i = list.length - 1; i >= 0; i--) if (refOf(list[i].order) === ref) list.splice(i, 1);
  };
  /** Appends a record, with the whole list (an ALL record) for a turnover. */
  const append = (type: number, data: Uint8Array): boolean => {
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
    return log.append(type, log.gen + 1, data, { type: K.All, data: b });
  };
  // the names made here, not held at the top level
  const log = new RecordLog(store, ["orders.a", "orders.b"], K.Bytes);
  let list: KeptOrder[] = [];
  log.load((type, _gen, d) => {
    if (type === K.All) {
      list = [];
      for (let o = 0; o + 45 <= d.length; ) {
        const n = d[o];
        list.push({ order: new Uint8Array(d.subarray(o + 1, o + 45)), callback: bytesToText(d.subarray(o + 45, o + 45 + n)) });
        o += 45 + n;
      }
    } else if (type === K.Add && d.length > 44) {
      const order = new Uint8Array(d.subarray(0, 44));
      drop(refOf(order));
      list.push({ order: order, callback: bytesToText(d.subarray(44)) });
    } else if (type === K.Done) {
      for (let o = 0; o + K.Ref <= d.length; o += K.Ref) drop(refOf(d, o));
    }
  });
  return {
    list: list,
    room(ref) {
      for (let i = 0; i < list.length; i++) if (refOf(list[i].order) === ref) return true;
      return list.length < K.Max;
    },
    keep(order, callback) {
      const ref = refOf(order);
      for (let i = 0; i < list.length; i++) if (refOf(list[i].order) === ref && list[i].callback === callback) return "";
      drop(ref);
      if (list.length >= K.Max) return "O10";
      const add = new Uint8Array(44 + callback.length);
      add.set(order, 0);
      add.set(ascii(callback), 44);
      list.push({ order: order, callback: callback });
      return append(K.Add, add) ? "" : "O11";
    },
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
