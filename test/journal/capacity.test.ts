import assert from "node:assert/strict";
import { MAX_PAYLOAD } from "../../firmware/journal/record.ts";
import { payment, rig } from "./helpers.ts";

/** The devkit's journal region (see the report / README): 192 pages of 4096 bytes at 0x190000. */
const DEVKIT_PAGES = 192;

function fill(payloadLength: number): { accepted: number; slotsLeft: number; code: string } {
  const j = rig(DEVKIT_PAGES).journal();
  j.recover();
  let n = 0;
  for (;;) {
    const r = j.append(payment(n + 1, payloadLength));
    if (!("seq" in r)) return { accepted: n, slotsLeft: j.stats().slotsLeft, code: r.code };
    n++;
  }
}

describe("journal: capacity on the devkit region", function () {
  this.timeout(60000);

  it("holds at least 2,000 pending payments of the largest size before refusing", () => {
    const f = fill(MAX_PAYLOAD);
    console.log(`      devkit region: ${f.accepted} pending records of ${MAX_PAYLOAD} bytes before JOURNAL_FULL`);
    assert.equal(f.code, "JOURNAL_FULL");
    assert.ok(f.accepted >= 2000, String(f.accepted));
  });

  it("holds at least 2,000 pending 206-byte payments (a signed Payment message)", () => {
    const f = fill(206);
    console.log(`      devkit region: ${f.accepted} pending records of 206 bytes before JOURNAL_FULL`);
    assert.ok(f.accepted >= 2000, String(f.accepted));
  });

  it("refuses while there is still room left (the reserve)", () => {
    const f = fill(206);
    assert.ok(f.slotsLeft > 0 && f.slotsLeft <= 8, String(f.slotsLeft));
  });
});
