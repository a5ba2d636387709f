/**
 * The power-cut sweep of power-cut.test.ts on a short day: 3 pages, 48 payments, so the region wraps and pages are
 * reclaimed while the sweep stays under a second (the mutation run uses this one: docs/mutation.md).
 */
import { sweep } from "./power-cut-sweep.ts";

describe("journal: power cut at every flash operation of a short day", function () {
  this.timeout(600000);

  it("keeps every confirmed payment exactly once, at every cut point, and after a cut during recovery (3 pages)", () => {
    sweep({ pages: 3, payments: 48, minReclaimed: 1 });
  });
});
