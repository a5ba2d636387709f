/** The sync loop with the terminal's real secure element driver over the emulated ATECC608 (ECDH mode 00, counter 0, RNG). */
import assert from "node:assert/strict";
import { SeSlot } from "../../hal/secure-element.ts";
import { startSync } from "../../firmware/sync/sync.ts";
import { seRig } from "../protocol/helpers.ts";
import { rig } from "./rig.ts";

describe("sync over the ATECC608 driver and emulator", () => {
  it("derives the link keys in the part and completes a round the gateway authenticates", () => {
    const part = seRig();
    const key = part.run<Uint8Array>((d) => part.se.provisionKey(SeSlot.Identity, d));
    assert.equal(key.err, null);
    const counter0 = part.run<number>((d) => part.se.counter(0, false, d)).value as number;
    const r = rig({ clock: part.clock, secure: part.se, identityPub: key.value });
    r.append(4);
    const s = startSync(r.options());
    r.clock.advance(3000, undefined, 1);
    assert.deepEqual(r.gateway.ops(), ["hello", "upload", "upload"]);
    assert.equal(r.progress[r.progress.length - 1].phase, "done");
    assert.equal(s.state.pending, 0);
    assert.equal(r.gateway.ledger.size, 4);
    // the part's counter 0 numbered the three requests
    assert.equal(part.run<number>((d) => part.se.counter(0, false, d)).value, counter0 + 3);
    assert.equal(r.gateway.lastSeq, counter0 + 3);
  });
});
