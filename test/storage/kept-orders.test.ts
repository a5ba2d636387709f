/**
 * Orders taken from pay-api links, kept on two raw flash pages of their own until the gateway settles them
 * (firmware/app/kept-orders.ts over firmware/page-log.ts), reached as the device does: the Espruino binding
 * (hal/espruino/flash-pages.ts) over the simulator's `require("Flash")` and NOR flash with power-cut injection.
 */
import assert from "node:assert/strict";
import { keptOrders, KEPT_ORDERS_LOGS, MAX_KEPT } from "../../firmware/app/kept-orders.ts";
import { encodeRecord, RecordLog } from "../../firmware/record-log.ts";
import { flashPages } from "../../hal/espruino/flash-pages.ts";
import type { FlashPages } from "../../hal/flash-pages.ts";
import type { FileStore } from "../../hal/storage.ts";
import { ascii } from "../../protocol/codec/hex.ts";
import { decodeOrder, encodeOrder } from "../../protocol/messages.ts";
import { devkitData } from "../../boards/devkit-data.ts";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { createFlashModule } from "../../sim/espruino/flash-module.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { flashStore } from "../update/helpers.ts";

const REGION = devkitData.platform.orders;

/** A terminal's flash as far as the kept orders go: the orders' raw pages and Storage. */
interface Chip {
  raw: Flash;
  storage: Flash;
}

function fresh(pageSize = REGION.pageSize): Chip {
  const storage = new Flash({ size: 128 * 1024 });
  flashStore(storage).write("keep", new Uint8Array(Buffer.from("intact")));
  return { raw: new Flash({ size: 2 * pageSize, pageSize }), storage };
}

function copy(c: Chip): Chip {
  return { raw: new Flash({ image: c.raw.bytes, pageSize: c.raw.pageSize }), storage: new Flash({ image: c.storage.bytes, pageSize: c.storage.pageSize }) };
}

/** The device's two parts keptOrders takes, made anew as at each boot. */
function dev(c: Chip): { orders: () => FlashPages; storage: FileStore } {
  const region = { address: REGION.address, pageSize: c.raw.pageSize, pageCount: 2 };
  return { orders: () => flashPages(region, createFlashModule(c.raw, REGION.address)), storage: flashStore(c.storage) };
}

const order = (ref: string, amountMinor = 2599) => encodeOrder({ merchantId: 42, orderRef: ref, amountMinor, currency: 978, expires: 1800000000, tag: new Uint8Array(16).fill(7) });
const cb = (ref: string) => "https://shop.example/orders/" + ref + "/paid";
const keepOrder = (c: Chip, ref: string, callback = cb(ref)) => keptOrders(dev(c)).keep(order(ref), callback);
const settleOrders = (c: Chip, reply: unknown) => keptOrders(dev(c)).settle(reply);
const refs = (c: Chip) => keptOrders(dev(c)).list.map((k) => decodeOrder(k.order)!.orderRef + " " + k.callback);
const one = (ref: string) => ref + " " + cb(ref);

describe("kept link orders (firmware/app/kept-orders.ts)", () => {
  it("keeps an order with its callback, read back byte for byte after a reboot, and writes nothing to Storage", () => {
    const c = fresh();
    const before = Buffer.from(c.storage.bytes);
    assert.equal(keepOrder(c, "ORD-7"), "");
    new EspruinoStorage(c.storage).boot();
    const k = keptOrders(dev(c)).list;
    assert.equal(k.length, 1);
    assert.deepEqual([...k[0].order], [...order("ORD-7")]);
    assert.equal(k[0].callback, cb("ORD-7"));
    assert.ok(Buffer.from(c.storage.bytes).equals(before), "Storage untouched");
  });

  it("keeps a link scanned twice once", () => {
    const c = fresh();
    assert.equal(keepOrder(c, "ORD-7"), "");
    const ops = c.raw.ops;
    assert.equal(keepOrder(c, "ORD-7"), "");
    assert.equal(c.raw.ops, ops, "nothing written the second time");
    assert.deepEqual(refs(c), [one("ORD-7")]);
  });

  it("takes a second link for a waiting order in place of the first (its callback is the one sent)", () => {
    const c = fresh();
    keepOrder(c, "ORD-7");
    assert.equal(keptOrders(dev(c)).keep(order("ORD-7", 100), "https://shop.example/new"), "");
    assert.deepEqual(refs(c), ["ORD-7 https://shop.example/new"]);
  });

  it("refuses a ninth waiting order (O10) and keeps the eight", () => {
    const c = fresh();
    for (let i = 0; i < MAX_KEPT; i++) assert.equal(keepOrder(c, "ORD-" + i), "");
    assert.equal(keptOrders(dev(c)).room("ORD-8"), false);
    assert.equal(keptOrders(dev(c)).room("ORD-3"), true, "one already kept has its room");
    assert.equal(keepOrder(c, "ORD-8"), "O10");
    assert.equal(keptOrders(dev(c)).list.length, MAX_KEPT);
    settleOrders(c, { acked: ["ORD-0"], refused: [] });
    assert.equal(keepOrder(c, "ORD-8"), "", "room again once one was acknowledged");
  });

  it("drops the orders an upload reply acks or refuses, keeps the others, and returns the refused for the log", () => {
    const c = fresh();
    for (const r of ["A", "B", "C"]) keepOrder(c, r);
    const no = settleOrders(c, { acked: ["A", "ZZZ"], refused: [{ orderRef: "C", code: "E_ORDER_CALLBACK", message: "x" }] });
    assert.deepEqual(no, ["C E_ORDER_CALLBACK"]);
    assert.deepEqual(refs(c), [one("B")]);
  });

  it("settles nothing on a malformed reply", () => {
    const c = fresh();
    keepOrder(c, "A");
    for (const r of [undefined, null, 7, "A", { acked: "A" }, { acked: [7] }, { refused: [{ ref: "A" }] }]) settleOrders(c, r);
    assert.deepEqual(refs(c), [one("A")]);
  });

  it("100 orders kept and acked leave Storage as it was (no file, no write, nothing to compact), the pages turning over", () => {
    const c = fresh();
    const store = flashStore(c.storage);
    keepOrder(c, "X");
    const before = store.stats();
    const storageOps = c.storage.ops;
    let turnovers = 0;
    for (let n = 0; n < 100; n++) {
      let ops = c.raw.ops;
      assert.equal(keepOrder(c, "N" + n), "");
      if (c.raw.ops - ops > 1) turnovers++;
      ops = c.raw.ops;
      settleOrders(c, { acked: ["N" + n] });
      if (c.raw.ops - ops > 1) turnovers++;
    }
    assert.deepEqual(store.stats(), before);
    assert.equal(c.storage.ops, storageOps, "not one Storage write or erase");
    assert.deepEqual(store.list("orders."), []);
    assert.deepEqual(refs(c), [one("X")], "the waiting order survives every turnover");
    // about 92 bytes per keep and 24 per settle: a 4 KB page turns over (an erase and a write) about every 35 orders
    assert.ok(turnovers >= 2 && turnovers <= 4, turnovers + " turnovers");
  });

  it("refuses an order the region cannot hold (O11), keeps the others, and takes orders again once some are settled", () => {
    // 512-byte pages: the whole list of two orders with 200-character callbacks fits one, of three does not
    const c = fresh(512);
    const long = (ref: string) => "https://shop.example/" + ref.padEnd(179, "x");
    assert.equal(long("A").length, 200);
    assert.equal(keepOrder(c, "A", long("A")), "");
    assert.equal(keepOrder(c, "B", long("B")), "");
    assert.equal(keepOrder(c, "C", long("C")), "O11");
    assert.deepEqual(
      refs(c).map((r) => r.split(" ")[0]),
      ["A", "B"],
    );
    settleOrders(c, { acked: ["A"] });
    assert.equal(keepOrder(c, "C", long("C")), "");
    assert.deepEqual(
      refs(c).map((r) => r.split(" ")[0]),
      ["B", "C"],
    );
  });

  it("refuses an order when the flash reads back wrong (O12), the value on flash still the previous one", () => {
    const c = fresh();
    keepOrder(c, "A");
    const d = dev(c);
    const pages = d.orders();
    // a worn flash: the bits of the record's data do not take
    const broken: FlashPages = { ...pages, write: (p, o, b) => pages.write(p, o, b.map((x, i) => (i < 8 ? x : 0xff))) };
    assert.equal(keptOrders({ orders: () => broken, storage: d.storage }).keep(order("B"), cb("B")), "O12");
    assert.deepEqual(refs(c), [one("A")]);
  });

  for (const what of ["keep", "settle", "keep with a turnover", "settle with a turnover"]) {
    it("after a power cut at every flash operation of a " + what + ", the order is kept or settled or not (never half), the others stay, and it works on", () => {
      const base = fresh();
      keepOrder(base, "OLD");
      let n = 0;
      const settle = what.indexOf("settle") === 0;
      const step = (c: Chip) => (settle ? settleOrders(c, { acked: ["OLD"] }) : keepOrder(c, "NEW"));
      if (what.indexOf("turnover") > 0) {
        // fill the current page so that the step turns over (an erase and a write)
        for (;;) {
          const probe = copy(base);
          const at = probe.raw.ops;
          step(probe);
          if (probe.raw.ops - at > 1) break;
          // callbacks of several lengths, so that the page's free tail comes below a settle's 24 bytes too
          keepOrder(base, "F" + n, cb("F" + n) + "?".repeat(n % 13));
          settleOrders(base, { acked: ["F" + n] });
          assert.ok(++n < 500);
        }
      }
      const probe = copy(base);
      const start = probe.raw.ops;
      step(probe);
      const total = probe.raw.ops - start;
      assert.equal(total, what.indexOf("turnover") > 0 ? 2 : 1);
      const before = one("OLD");
      const after = settle ? "" : before + "," + one("NEW");
      const seen = new Set<string>();
      for (let cut = 1; cut <= total; cut++) {
        const c = copy(base);
        c.raw.cutPowerAt(cut);
        assert.throws(() => step(c), (e: unknown) => isPowerCut(e));
        c.raw.cutPowerAt(null);
        const got = refs(c).join(",");
        assert.ok(got === before || got === after, "cut " + cut + " of " + total + ": " + got);
        seen.add(got);
        assert.equal(Buffer.from(flashStore(c.storage).read("keep")!).toString(), "intact");
        // it works on: the step again, then more orders and a settle, each read back after a reboot
        step(c);
        assert.equal(refs(c).join(","), after, "the step done after cut " + cut);
        assert.equal(keepOrder(c, "NEXT"), "", "keeps after cut " + cut);
        settleOrders(c, { acked: ["NEXT"] });
        assert.equal(refs(c).join(","), after);
      }
      assert.deepEqual([...seen], [before], "a cut at any operation leaves the value before the step");
      // and done without a cut, the step's value stays through a reboot
      const done = copy(base);
      step(done);
      assert.equal(refs(done).join(","), after);
    });
  }

  describe("orders kept in Storage by older firmware (orders.a/orders.b)", () => {
    const ADD = 1;
    const DONE = 2;
    const ALL = 3;
    const add = (ref: string) => {
      const b = new Uint8Array(44 + cb(ref).length);
      b.set(order(ref), 0);
      b.set(ascii(cb(ref)), 44);
      return b;
    };
    const all = (list: string[]) => {
      const parts = list.map((r) => [cb(r).length, ...order(r), ...ascii(cb(r))]);
      return new Uint8Array(parts.flat());
    };
    const refBytes = (ref: string) => order(ref).subarray(6, 18);

    /** As the older firmware wrote them: A and B kept, GONE kept and then acknowledged, in orders.a. */
    function older(): Chip {
      const c = fresh();
      const log = new RecordLog(flashStore(c.storage), KEPT_ORDERS_LOGS, 8192);
      log.load();
      log.append(ADD, 1, add("A"), { type: ALL, data: all(["A"]) });
      log.append(ADD, 2, add("GONE"), { type: ALL, data: all(["A", "GONE"]) });
      log.append(ADD, 3, add("B"), { type: ALL, data: all(["A", "GONE", "B"]) });
      log.append(DONE, 4, refBytes("GONE"), { type: ALL, data: all(["A", "B"]) });
      return c;
    }

    /** A turnover of the older firmware cut before it erased orders.a: orders.b holds the list without A. */
    function olderTurnoverCut(): Chip {
      const c = older();
      flashStore(c.storage).write(KEPT_ORDERS_LOGS[1], encodeRecord(ALL, 5, all(["B"])), 0, 8192);
      return c;
    }

    it("moves them onto the pages once at boot and erases the files; without `migrate` nothing moves", () => {
      const c = older();
      assert.deepEqual(refs(c), [], "read without migrate: the pages only");
      assert.deepEqual(flashStore(c.storage).list("orders."), ["orders.a"]);
      assert.deepEqual(
        keptOrders(dev(c), true).list.map((k) => decodeOrder(k.order)!.orderRef),
        ["A", "B"],
      );
      assert.deepEqual(flashStore(c.storage).list("orders."), []);
      new EspruinoStorage(c.storage).boot();
      assert.deepEqual(refs(c), [one("A"), one("B")]);
      const ops = c.raw.ops + c.storage.ops;
      keptOrders(dev(c), true);
      assert.equal(c.raw.ops + c.storage.ops, ops, "the next boot moves nothing");
      assert.deepEqual(refs(c), [one("A"), one("B")]);
    });

    it("takes the newer file of a turnover cut short, never the acknowledged orders of the older", () => {
      const c = olderTurnoverCut();
      keptOrders(dev(c), true);
      assert.deepEqual(refs(c), [one("B")]);
      assert.deepEqual(flashStore(c.storage).list("orders."), []);
    });

    it("keeps an order already on the pages as it is there (taken again since, with another callback)", () => {
      const c = older();
      assert.equal(keptOrders(dev(c)).keep(order("B"), "https://shop.example/newer"), "");
      keptOrders(dev(c), true);
      assert.deepEqual(refs(c), ["B https://shop.example/newer", one("A")]);
    });

    for (const [name, make, want] of [
      ["a single file", older, [one("A"), one("B")]],
      ["a turnover cut short (two files)", olderTurnoverCut, [one("B")]],
    ] as const) {
      it("after a power cut at every flash operation of the move (" + name + "), the next boot ends it: every order once, no acknowledged one back", () => {
        const base = make();
        const probe = copy(base);
        const r0 = probe.raw.ops;
        const s0 = probe.storage.ops;
        keptOrders(dev(probe), true);
        const rawOps = probe.raw.ops - r0;
        const storageOps = probe.storage.ops - s0;
        assert.ok(rawOps >= 2 && storageOps >= 1, rawOps + " raw, " + storageOps + " Storage operations");
        const cuts: [keyof Chip, number][] = [];
        for (let i = 1; i <= rawOps; i++) cuts.push(["raw", i]);
        for (let i = 1; i <= storageOps; i++) cuts.push(["storage", i]);
        for (const [where, at] of cuts) {
          const c = copy(base);
          c[where].cutPowerAt(at);
          assert.throws(() => keptOrders(dev(c), true), (e: unknown) => isPowerCut(e), where + " " + at);
          c[where].cutPowerAt(null);
          new EspruinoStorage(c.storage).boot();
          // read between boots, whatever the pages or the files hold, no acknowledged order is there
          for (const r of refs(c)) assert.ok(want.includes(r as never), where + " cut " + at + ": " + r);
          keptOrders(dev(c), true);
          assert.deepEqual(refs(c), want, where + " cut " + at);
          assert.deepEqual(flashStore(c.storage).list("orders."), [], where + " cut " + at);
          assert.equal(Buffer.from(flashStore(c.storage).read("keep")!).toString(), "intact");
        }
      });
    }
  });
});
