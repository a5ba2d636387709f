/** The upload's `orders` (docs/sync.md section 3): orders taken from store links ride every upload until settled. */
import assert from "node:assert/strict";
import { fromBase64 } from "../../protocol/sync.ts";
import { startSync } from "../../firmware/sync/sync.ts";
import type { Rig } from "./rig.ts";
import { rig } from "./rig.ts";

const ORDER = new Uint8Array(44).fill(9);

/** A kept-orders fake: the list, and what each authentic reply said of them. */
function kept(refs: string[]) {
  const list = refs.map((r) => ({ ref: r, order: ORDER, callback: "https://shop.example/" + r }));
  const replies: unknown[] = [];
  return {
    replies,
    left: () => list.map((x) => x.ref),
    orders: {
      list: () => list.map((x) => ({ order: x.order, callback: x.callback })),
      settled(reply: unknown) {
        replies.push(reply);
        const acked = (reply as { acked?: string[] } | undefined)?.acked ?? [];
        for (const a of acked) {
          const i = list.findIndex((x) => x.ref === a);
          if (i >= 0) list.splice(i, 1);
        }
      },
    },
  };
}

describe("sync: orders taken from store links (firmware/sync/sync.ts)", () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it("sends an upload for the orders alone when no record is pending, and hands the reply's orders over", () => {
    const k = kept(["A", "B"]);
    r.gateway.uploadReply = (_recs, normal) => ({ ...normal, orders: { acked: ["A", "B"], refused: [] } });
    startSync(r.options({ orders: k.orders }));
    r.advance(2000);
    assert.deepEqual(r.gateway.ops(), ["hello", "upload"]);
    const up = r.gateway.requests[1];
    assert.deepEqual(up.records, []);
    assert.deepEqual(up.orders, [
      { order: Buffer.from(ORDER).toString("base64"), callback: "https://shop.example/A" },
      { order: Buffer.from(ORDER).toString("base64"), callback: "https://shop.example/B" },
    ]);
    assert.deepEqual([...fromBase64((up.orders as { order: string }[])[0].order)!], [...ORDER]);
    assert.deepEqual(k.replies, [{ acked: ["A", "B"], refused: [] }]);
    assert.deepEqual(k.left(), []);
  });

  it("sends them with every upload of records until acknowledged, then never again", () => {
    r.append(5);
    const k = kept(["A"]);
    let n = 0;
    r.gateway.uploadReply = (_recs, normal) => (++n === 2 ? { ...normal, orders: { acked: ["A"], refused: [] } } : { ...normal, orders: { acked: [], refused: [] } });
    const s = startSync(r.options({ orders: k.orders }));
    r.advance(3000);
    const ups = r.gateway.requests.filter((q) => q.op === "upload");
    assert.deepEqual(ups.map((q) => (q.orders as unknown[] | undefined)?.length ?? 0), [1, 1]);
    assert.equal(r.journal.stats().pending, 0);
    s.sendNow();
    r.advance(2000);
    assert.equal(r.gateway.requests.filter((q) => q.op === "upload").length, 2, "nothing left to send: no upload");
  });

  it("sends an order again at the next round when the reply named it in neither list", () => {
    const k = kept(["A"]);
    const s = startSync(r.options({ orders: k.orders }));
    r.advance(2000);
    s.sendNow();
    r.advance(2000);
    assert.deepEqual(r.gateway.ops(), ["hello", "upload", "hello", "upload"]);
    assert.deepEqual(k.left(), ["A"]);
  });

  it("sends no orders field when none is kept", () => {
    r.append(1);
    startSync(r.options({ orders: kept([]).orders }));
    r.advance(2000);
    assert.equal(r.gateway.requests[1].orders, undefined);
  });
});
