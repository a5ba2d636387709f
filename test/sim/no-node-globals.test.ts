import assert from "node:assert/strict";
import { readBoard, SimHost } from "../../sim/host.ts";

function run(bundle: string): SimHost {
  const { board } = readBoard("devkit");
  const host = new SimHost({ board, bundle });
  host.boot();
  host.advance(10);
  return host;
}

describe("the simulator's bundle context", () => {
  for (const name of ["Buffer", "setImmediate", "queueMicrotask", "TextEncoder", "fetch", "Map", "Set", "Symbol", "Proxy", "Reflect", "BigInt"]) {
    it(`has no ${name}, as on the device`, () => {
      const host = run(`print(typeof ${name.split(".")[0]} === "undefined" ? "absent" : "present"); ${name};`);
      assert.equal(host.output[0], "absent");
      assert.equal(host.errors.length, 1, host.output.join(" | "));
    });
  }

  it("does not see the computer's environment variables", () => {
    const host = run(`print(String(process.env.HOME) + " " + String(process.env.PATH) + " " + process.env.BOARD);`);
    assert.deepEqual(host.output, ["undefined undefined ESP32"]);
  });

  it("has no require for Node modules", () => {
    const host = run(`require("fs");`);
    assert.match(host.errors[0], /Module "fs" not found/);
  });

  it("runs timers on the device's clock, not the computer's", () => {
    const host = run(`setTimeout(function(){ print("fired"); }, 5000);`);
    assert.deepEqual(host.output, []);
    host.advance(5000);
    assert.deepEqual(host.output, ["fired"]);
  });
});

describe("Espruino quirks the simulator keeps", () => {
  it("a typed array's slice() returns a plain Array, as on Espruino 2v29", () => {
    const host = run(`var s = new Uint8Array([1,2,3]).slice(1); print(Array.isArray(s) + " " + s.length);`);
    assert.deepEqual(host.output, ["true 2"]);
  });
});
