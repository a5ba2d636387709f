/** The hello reply's update offer carries the board and the firmware key ID the signature covers; a bad one is refused whole. */
import assert from "node:assert/strict";
import { startSync } from "../../firmware/sync/sync.ts";
import type { UpdateOffer } from "../../firmware/sync/sync.ts";
import { rig } from "./rig.ts";

describe("sync: the update offer's board and firmware key", () => {
  const bad: [string, unknown, unknown][] = [
    ["a missing board", undefined, 1],
    ["an empty board", "", 1],
    ["a board with a space", "dev kit", 1],
    ["a board over 32 characters", "b".repeat(33), 1],
    ["a missing key ID", "devkit", undefined],
    ["a key ID over 255", "devkit", 256],
    ["a fractional key ID", "devkit", 1.5],
    ["a key ID as text", "devkit", "1"],
  ];
  for (const [what, board, key] of bad) {
    it("refuses a hello reply whose offer has " + what + ", applying none of it", () => {
      const r = rig();
      const offers: UpdateOffer[] = [];
      r.gateway.update = { version: "1.1.0", bundle: new Uint8Array(10), sig: new Uint8Array(64), board, key };
      const s = startSync(r.options({ onUpdateOffer: (u) => offers.push(u) }));
      r.advance(1000);
      assert.equal(r.progress[r.progress.length - 1].code, "REPLY_FORMAT");
      assert.deepEqual(offers, []);
      assert.equal(s.state.syncedTime, 0);
    });
  }
});
