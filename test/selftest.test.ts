import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readBoard, SimHost } from "../sim/host.ts";
import { tally } from "./espruino/interpreter.ts";

describe("dist/selftest-cryptojs.js", () => {
  it("passes the NIST and RFC vectors on the patched crypto-js backend, in the simulator's Espruino context", () => {
    const { board } = readBoard("devkit");
    const host = new SimHost({ board, bundle: readFileSync("dist/selftest-cryptojs.js", "utf8") });
    host.boot();
    const t = tally(host.output);
    assert.ok(t, "no closing tally line: " + host.output.slice(-5).join(" | "));
    assert.deepEqual(host.output.filter((l) => l.startsWith("FAIL")), []);
    assert.equal(t.failed, 0);
    assert.equal(t.passed, 11);
    assert.deepEqual(host.errors, []);
  });
});

describe("dist/selftest.js", () => {
  it("passes every case under Node, in the simulator's Espruino context", () => {
    const { board } = readBoard("devkit");
    const host = new SimHost({ board, bundle: readFileSync("dist/selftest.js", "utf8") });
    host.boot();
    const t = tally(host.output);
    assert.ok(t, "no closing tally line: " + host.output.slice(-5).join(" | "));
    assert.deepEqual(host.output.filter((l) => l.startsWith("FAIL")), []);
    assert.equal(t.failed, 0);
    assert.ok(t.passed >= 20, "too few cases ran: " + t.passed);
    assert.deepEqual(host.errors, []);
  });
});
