/** Orders taken from pay-api links, kept in place until the gateway settles them (firmware/app/kept-orders.ts). */
import assert from "node:assert/strict";
import { keptOrders, MAX_KEPT } from "../../firmware/app/kept-orders.ts";
import type { FileStore } from "../../hal/storage.ts";
import { decodeOrder, encodeOrder } from "../../protocol/messages.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { flashStore } from "../update/helpers.ts";

const keepOrder = (s: FileStore, order: Uint8Array, callback: string) => keptOrders(s).keep(order, callback);
const settleOrders = (s: FileStore, reply: unknown) => keptOrders(s).settle(reply);
const keptRef = (order: Uint8Array) => decodeOrder(order)!.orderRef;

const order = (ref: string, amountMinor = 2599) => encodeOrder({ merchantId: 42, orderRef: ref, amountMinor, currency: 978, expires: 1800000000, tag: new Uint8Array(16).fill(7) });
const cb = (ref: string) => "https://shop.example/orders/" + ref + "/paid";
const refs = (f: Flash) => keptOrders(flashStore(f)).list.map((k) => keptRef(k.order) + " " + k.callback);

function fresh(): Flash {
  const flash = new Flash({ size: 128 * 1024 });
  flashStore(flash).write("keep", new Uint8Array(Buffer.from("intact")));
  return flash;
}

describe("kept link orders (firmware/app/kept-orders.ts)", () => {
  it("keeps an order with its callback, read back byte for byte after a reboot", () => {
    const flash = fresh();
    assert.equal(keepOrder(flashStore(flash), order("ORD-7"), cb("ORD-7")), "");
    new EspruinoStorage(flash).boot();
    const k = keptOrders(flashStore(flash)).list;
    assert.equal(k.length, 1);
    assert.deepEqual([...k[0].order], [...order("ORD-7")]);
    assert.equal(k[0].callback, cb("ORD-7"));
  });

  it("keeps a link scanned twice once", () => {
    const flash = fresh();
    assert.equal(keepOrder(flashStore(flash), order("ORD-7"), cb("ORD-7")), "");
    assert.equal(keepOrder(flashStore(flash), order("ORD-7"), cb("ORD-7")), "");
    assert.deepEqual(refs(flash), ["ORD-7 " + cb("ORD-7")]);
  });

  it("takes a second link for a waiting order in place of the first (its callback is the one sent)", () => {
    const flash = fresh();
    keepOrder(flashStore(flash), order("ORD-7"), cb("ORD-7"));
    assert.equal(keepOrder(flashStore(flash), order("ORD-7", 100), "https://shop.example/new"), "");
    assert.deepEqual(refs(flash), ["ORD-7 https://shop.example/new"]);
  });

  it("refuses a ninth waiting order (O10) and keeps the eight", () => {
    const flash = fresh();
    for (let i = 0; i < MAX_KEPT; i++) assert.equal(keepOrder(flashStore(flash), order("ORD-" + i), cb(String(i))), "");
    assert.equal(keepOrder(flashStore(flash), order("ORD-8"), cb("8")), "O10");
    assert.equal(keptOrders(flashStore(flash)).list.length, MAX_KEPT);
    settleOrders(flashStore(flash), { acked: ["ORD-0"], refused: [] });
    assert.equal(keepOrder(flashStore(flash), order("ORD-8"), cb("8")), "", "room again once one was acknowledged");
  });

  it("drops the orders an upload reply acks or refuses, keeps the others, and returns the refused for the log", () => {
    const flash = fresh();
    for (const r of ["A", "B", "C"]) keepOrder(flashStore(flash), order(r), cb(r));
    const no = settleOrders(flashStore(flash), { acked: ["A", "ZZZ"], refused: [{ orderRef: "C", code: "E_ORDER_CALLBACK", message: "x" }] });
    assert.deepEqual(no, ["C E_ORDER_CALLBACK"]);
    new EspruinoStorage(flash).boot();
    assert.deepEqual(refs(flash), ["B " + cb("B")]);
  });

  it("settles nothing on a malformed reply", () => {
    const flash = fresh();
    keepOrder(flashStore(flash), order("A"), cb("A"));
    for (const r of [undefined, null, 7, "A", { acked: "A" }, { acked: [7] }, { refused: [{ ref: "A" }] }]) settleOrders(flashStore(flash), r);
    assert.deepEqual(refs(flash), ["A " + cb("A")]);
  });

  it("writes in place: sixty orders taken and acked make no new file and nothing to compact, until a turnover", () => {
    const flash = fresh();
    const store = flashStore(flash);
    keepOrder(store, order("X"), cb("X"));
    const before = store.stats();
    let n = 0;
    for (; n < 60; n++) {
      assert.equal(keepOrder(store, order("N" + n), cb("N" + n)), "");
      settleOrders(store, { acked: ["N" + n] });
    }
    assert.equal(store.stats().freeBytes, before.freeBytes);
    assert.equal(store.stats().trashBytes, 0);
    // on to a turnover and past it: the waiting order survives it
    for (; n < 200; n++) {
      assert.equal(keepOrder(store, order("N" + n), cb("N" + n)), "");
      settleOrders(store, { acked: ["N" + n] });
    }
    assert.deepEqual(refs(flash), ["X " + cb("X")]);
    assert.ok(store.list("orders.").length === 1, "one log file after the turnover: " + store.list("orders."));
  });

  for (const what of ["keep", "settle", "keep with a turnover"]) {
    it("after a power cut at every flash operation of a " + what + ", the order is kept or not (never half), the others stay, and it works on", () => {
      const base = fresh();
      keepOrder(flashStore(base), order("OLD"), cb("OLD"));
      let n = 0;
      const step = (f: Flash) => (what === "settle" ? settleOrders(flashStore(f), { acked: ["OLD"] }) : keepOrder(flashStore(f), order("NEW"), cb("NEW")));
      if (what === "keep with a turnover") {
        // fill the current file so that the next keep turns over
        for (;;) {
          const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
          const at = probe.ops;
          step(probe);
          if (probe.ops - at > 1) break; // more than one in-place write: the keep turns over
          keepOrder(flashStore(base), order("F" + n), cb("F" + n));
          settleOrders(flashStore(base), { acked: ["F" + n] });
          assert.ok(++n < 500);
        }
      }
      const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
      const start = probe.ops;
      step(probe);
      const total = probe.ops - start;
      assert.ok(total > 0);
      const seen = new Set<string>();
      for (let cut = 1; cut <= total; cut++) {
        const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
        flash.cutPowerAt(cut);
        assert.throws(() => step(flash), (e: unknown) => (e as { code?: string }).code === "POWER_CUT");
        flash.cutPowerAt(null);
        new EspruinoStorage(flash).boot();
        const got = refs(flash).join(",");
        const before = "OLD " + cb("OLD");
        const after = what === "settle" ? "" : before + ",NEW " + cb("NEW");
        assert.ok(got === before || got === after, "cut " + cut + " of " + total + ": " + got);
        seen.add(got);
        assert.equal(Buffer.from(flashStore(flash).read("keep")!).toString(), "intact");
        assert.equal(keepOrder(flashStore(flash), order("NEXT"), cb("NEXT")), "", "keeps after cut " + cut);
        assert.ok(refs(flash).indexOf("NEXT " + cb("NEXT")) >= 0);
      }
      // an in-place write is one flash operation: torn, the record before it is the value
      if (what === "keep with a turnover") assert.equal(seen.size, 2, "the sweep saw both outcomes: " + [...seen].join(" | ") + " of " + total);
    });
  }
});
