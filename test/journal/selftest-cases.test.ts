import assert from "node:assert/strict";
import { journalCases } from "../../firmware/selftest/journal.ts";
import { runCases } from "../../firmware/selftest/runner.ts";
import { nodeCrypto } from "./helpers.ts";

describe("journal self-test cases", () => {
  it("all pass on Node's crypto", () => {
    const lines: string[] = [];
    const t = runCases(journalCases(nodeCrypto()), (l) => lines.push(l));
    assert.deepEqual(lines.filter((l) => l.startsWith("FAIL")), []);
    assert.equal(t.passed, 7);
  });
});
