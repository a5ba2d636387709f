import { moduleConfig } from "./base.mjs";

// The journal: the record codec and the page log of records in flash.
// test/journal/power-cut.test.ts is left out: its sweep of every cut point of a 260-payment day takes 20 s a run and
// covers nearly every mutant, which made this module's run hours long. It stays in `npm test`; here the same sweep
// runs on a short day (power-cut-short.test.ts: 3 pages, 48 payments, about a second). capacity.test.ts (the
// devkit's 200-page region filled to JOURNAL_FULL, about a second) is left out too: journal.test.ts tests the same
// space rules (spaceLeft, warning, JOURNAL_FULL, the reserve) on small regions.
export default moduleConfig(
  "journal",
  ["firmware/journal/record.ts", "firmware/journal/journal.ts"],
  // Fast tests first: a mutant's covering tests run in this order and stop at the first failure.
  [
    "test/journal/journal.test.ts",
    "test/journal/record.test.ts",
    "test/journal/stats-reclaim.test.ts",
    "test/journal/tamper.test.ts",
    "test/journal/anomalies.test.ts",
    "test/journal/recovery-edges.test.ts",
    "test/journal/boot-cost.test.ts",
    "test/journal/selftest-cases.test.ts",
    "test/journal/flash-module.test.ts",
    "test/journal/power-cut-short.test.ts",
  ],
);
