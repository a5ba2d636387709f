/**
 * The proof: power is cut at every flash operation of a scripted day of 260 payments on 6 pages (payments,
 * uploads, acknowledgements, reclaiming); see power-cut-sweep.ts.
 */
import { sweep } from "./power-cut-sweep.ts";

describe("journal: power cut at every flash operation of a day", function () {
  this.timeout(600000);

  it("keeps every confirmed payment exactly once, at every cut point, and after a cut during recovery", () => {
    sweep({ pages: 6, payments: 260, minReclaimed: 12 });
  });
});
