/**
 * Orders the terminal took from a store's pay-api link (docs/orders.md), kept on flash until the gateway
 * acknowledges or refuses them: each goes with every upload (`orders`, docs/sync.md section 3) until then. At most
 * MAX_KEPT wait at once; a link order beyond them is refused (O10) until a sync sends them.
 *
 *   keepOrder(device.storage, link.order, link.callback);    // "" kept (or already kept), else O10 / O11
 *   keptOrders(device.storage);                              // [{ order, callback }], oldest first
 *   settleOrders(device.storage, reply.orders);              // drops those acked or refused; returns the refused
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
import { RecordLog } from "../record-log.ts";

export const KEPT_ORDERS_LOGS = ["orders.a", "orders.b"];
/** Most link orders waiting to be sent (the gateway takes at most 8 per upload). */
export const MAX_KEPT = 8;
const BYTES = 8192;
const T_ADD = 1;
const T_DONE = 2;
const T_ALL = 3;
/** Where the order reference sits in an Order (docs/protocol.md section 2), and its length. */
const REF_AT = 6;
const REF = 12;

export interface KeptOrder {
  /** The Order message, 44 bytes. */
  order: Uint8Array;
  callback: string;
}

function text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** The order reference of an Order message (or 12 reference bytes at `at`), as text (zero padding dropped). */
export function keptRef(order: Uint8Array, at?: number): string {
  const from = at === undefined ? REF_AT : at;
  let s = "";
  for (let i = from; i < from + REF && order[i]; i++) s += String.fromCharCode(order[i]);
  return s;
}

function drop(list: KeptOrder[], ref: string): void {
  for (let i = list.length - 1; i >= 0; i--) if (keptRef(list[i].order) === ref) list.splice(i, 1);
}

function load(store: FileStore): { log: RecordLog; list: KeptOrder[] } {
  const log = new RecordLog(store, KEPT_ORDERS_LOGS, BYTES);
  let list: KeptOrder[] = [];
  log.load((type, _gen, d) => {
    if (type === T_ALL) {
      list = [];
      for (let o = 0; o + 45 <= d.length; ) {
        const n = d[o];
        list.push({ order: new Uint8Array(d.subarray(o + 1, o + 45)), callback: text(d.subarray(o + 45, o + 45 + n)) });
        o += 45 + n;
      }
    } else if (type === T_ADD && d.length > 44) {
      const order = new Uint8Array(d.subarray(0, 44));
      drop(list, keptRef(order));
      list.push({ order: order, callback: text(d.subarray(44)) });
    } else if (type === T_DONE) {
      for (let o = 0; o + REF <= d.length; o += REF) drop(list, keptRef(d, o));
    }
  });
  return { log: log, list: list };
}

function all(list: KeptOrder[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += 45 + list[i].callback.length;
  const b = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < list.length; i++) {
    b[o] = list[i].callback.length;
    b.set(list[i].order, o + 1);
    b.set(bytes(list[i].callback), o + 45);
    o += 45 + list[i].callback.length;
  }
  return b;
}

/** The orders waiting to be sent, oldest first. */
export function keptOrders(store: FileStore): KeptOrder[] {
  return load(store).list;
}

/**
 * Keeps an order taken from a link: "" when kept, or already kept with the same callback (a link scanned twice);
 * "O10" when MAX_KEPT others wait; "O11" when Storage could not take it (nothing kept).
 */
export function keepOrder(store: FileStore, order: Uint8Array, callback: string): string {
  const k = load(store);
  const ref = keptRef(order);
  for (let i = 0; i < k.list.length; i++) if (keptRef(k.list[i].order) === ref && k.list[i].callback === callback) return "";
  drop(k.list, ref);
  if (k.list.length >= MAX_KEPT) return "O10";
  const add = new Uint8Array(44 + callback.length);
  add.set(order, 0);
  add.set(bytes(callback), 44);
  k.list.push({ order: order, callback: callback });
  return k.log.append(T_ADD, k.log.gen + 1, add, { type: T_ALL, data: all(k.list) }) ? "" : "O11";
}

/**
 * The upload reply's `orders` ({acked: [ref], refused: [{orderRef, code, message}]}): the orders it names are no
 * longer kept (both end the duty to send them). Returns the refused ones ("ORD-7 E_ORDER_CALLBACK") for the
 * activity log; a malformed answer settles nothing.
 */
export function settleOrders(store: FileStore, reply: unknown): string[] {
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
  const k = load(store);
  let done = new Uint8Array(0);
  for (let i = 0; i < k.list.length; i++) {
    const ref = keptRef(k.list[i].order);
    if (refs.indexOf(ref) < 0) continue;
    const b = new Uint8Array(done.length + REF);
    b.set(done, 0);
    b.set(k.list[i].order.subarray(REF_AT, REF_AT + REF), done.length);
    done = b;
    k.list.splice(i--, 1);
  }
  if (done.length) k.log.append(T_DONE, k.log.gen + 1, done, { type: T_ALL, data: all(k.list) });
  return refused;
}
