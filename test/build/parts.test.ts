/**
 * Parts (build.ts PARTS, build-parts.ts, firmware/update/part-loader.ts): a module group cut out of the core,
 * kept after the bundle inside a comment, evaluated from Storage when the core first calls it through a stub, and
 * let go again by `__PD()`. Checked on V8 with a Storage that serves the bundle's file, and on the real interpreter
 * (ESPRUINO=…), where the part's functions must cost nothing once dropped. The device's own parts are exercised by
 * every flow test (test/flows) and measured by test/engine/device-budget.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { assembleBundle, compileParts } from "../../build.ts";
import type { PartSpec } from "../../build-parts.ts";
import { cutParts } from "../../build-parts.ts";
import { interpreter, runFromStorage } from "../espruino/interpreter.ts";

const DIR = "test/build/fixtures/parts/";
const FLOW: PartSpec[] = [{ name: "flow", files: [DIR + "flow.ts"] }];
const entry = (f: string) => `import "./${DIR}${f}";\n`;

/** The bundle run on V8 as the device runs it: from `.bootcde`, read back by `require("Storage").read`. */
function runOnV8(file: string, files: Record<string, string> = {}) {
  const printed: string[] = [];
  const all: Record<string, string> = { ".bootcde": file, ...files };
  const storage = {
    read: (name: string, off = 0, len?: number) => (name in all ? all[name].substr(off, len ?? all[name].length - off) : undefined),
  };
  const ctx = vm.createContext({ print: (...a: unknown[]) => printed.push(a.join(" ")), require: () => storage, Uint8Array });
  vm.runInContext("var global = this;", ctx);
  vm.runInContext(file, ctx);
  return { ctx, printed, run: (code: string) => vm.runInContext(code, ctx) };
}

/** `bundle` run from the interpreter's Storage, then `after`; null (the test skipped, saying what it would check)
 * when ESPRUINO is unset. */
async function fromStorage(ctx: Mocha.Context, what: string, bundle: string, after: string) {
  const bin = interpreter();
  if (!bin) {
    console.log("      skipped: ESPRUINO is unset; with it, " + what);
    ctx.skip();
    return null;
  }
  const f = join(mkdtempSync(join(tmpdir(), "parts-")), "bundle.js");
  writeFileSync(f, bundle);
  return runFromStorage(bin, f, { after });
}

describe("parts: flow code evaluated from flash when needed, let go at idle", function () {
  this.timeout(60000);
  let file = "";

  before(async () => {
    file = assembleBundle(await compileParts(entry("core.ts"), "parts.entry.ts", [], {}, FLOW));
  });

  it("cuts the part's code out of the core: the core holds a stub, the part's text sits after the bundle in a comment", () => {
    const end = file.indexOf("/*\n//P0:");
    assert.ok(end > 0, "the parts' comment");
    const core = file.slice(0, end);
    assert.ok(!core.includes("many (from the part)"), "the part's string is not in the core");
    assert.ok(file.slice(end).includes("many (from the part)"));
    assert.match(core, /__P\(0\)/);
    assert.ok(file.endsWith("*/\n"));
  });

  it("runs on V8: the core loads, the part is evaluated at the first call through a stub, dropped, and loaded again", () => {
    const v8 = runOnV8(file);
    assert.deepEqual(v8.printed, ["core loaded"]);
    assert.equal(v8.run("__PL[0]"), 0, "not loaded at boot");
    assert.equal(v8.run("run()"), "two,many (from the part),one cup,3");
    assert.equal(v8.run("__PL[0]"), 1);
    const partNames = Object.keys(v8.ctx).length;
    v8.run("__PD()");
    assert.equal(v8.run("__PL[0]"), 0);
    assert.ok(Object.keys(v8.ctx).length < partNames - 2, "the part's globals are deleted");
    assert.equal(v8.run("run()"), "two,many (from the part),one cup,3", "loaded again");
  });

  it("refuses a file that is not this bundle's (another build), with the part's name, instead of running it", async () => {
    // another build: its parts' id (a hash of its parts) is not the one this loader was built with. A build whose
    // parts came out byte for byte the same would be this one's: the core only adds a statement, so they would
    const built = assembleBundle(await compileParts(entry("core.ts") + "print('another build');\n", "parts.entry.ts", [], {}, FLOW));
    const id = /\/\/P0:([0-9a-f]+)/.exec(built)![1];
    const other = built.split("//P0:" + id).join("//P0:" + (id === "00000000" ? "11111111" : "00000000"));
    const v8 = runOnV8(file);
    const ctx = v8.ctx as unknown as { require: () => unknown };
    ctx.require = () => ({ read: (_n: string, off = 0, len?: number) => other.substr(other.length - file.length + off, len) });
    assert.throws(() => v8.run("run()"), /part 0 is not in \.bootcde/);
  });

  it("fails the build, naming it, for what a stub cannot stand for: a value, instanceof, a static member", async () => {
    const bad: PartSpec[] = [{ name: "bad", files: [DIR + "bad-flow.ts"] }];
    await assert.rejects(compileParts(entry("bad-value.ts"), "b.ts", [], {}, bad), /part bad: TABLE .* not a function or a class/);
    await assert.rejects(compileParts(entry("bad-instanceof.ts"), "b.ts", [], {}, bad), /part bad: Box .*(instanceof|other than by `new`)/);
    await assert.rejects(compileParts(entry("bad-static.ts"), "b.ts", [], {}, bad), /part bad: Box .*(member|other than by `new`)/);
  });

  it("refuses a cut where a function sits in another part than its stub loads, or in the core (moved by the minifier)", () => {
    // terser's sequences move a function declaration ahead of the statements it joins: across a marker, as here
    const moved = "function s(){return __P(1),f.apply(this,arguments)}__PART_BEGIN(0);function g(){}function f(){}__PART_BEGIN(1);var h=1;";
    assert.throws(() => cutParts(moved, 2), /stub s loads part 1, which does not declare f/);
    const inCore = "function f(){}function s(){return __P(0),f.apply(this,arguments)}__PART_BEGIN(0);function f(){}";
    assert.throws(() => cutParts(inCore, 1), /part 0: f is declared in the core too/);
    assert.doesNotThrow(() => cutParts("function s(){return __P(0),new F(1)}__PART_BEGIN(0);class F{}", 1));
  });

  it("fails the build when a part names a module the bundle does not have", async () => {
    await assert.rejects(compileParts(entry("core.ts"), "p.ts", [], {}, [{ name: "x", files: [DIR + "gone.ts"] }]), /part x: .*gone\.ts is not in the bundle/);
  });

  it("lets the core's start call into a part at once, on the interpreter (ESPRUINO=…)", async function () {
    // the interpreter defines a function declared in a block (the boot stub's) only as it reaches it: the loader
    // and the stubs must come before the core, or a part called at boot is "not defined"
    const bundle = assembleBundle(await compileParts(entry("core-start.ts"), "start.entry.ts", [], {}, FLOW));
    const r = await fromStorage(this, "a core calls its part as it starts, on the interpreter", bundle, "quit();\n");
    if (!r) return;
    assert.deepEqual(r.errors, []);
    assert.ok(r.lines.includes("started with one cup"), r.lines.join(" | "));
  });

  it("costs nothing once dropped, on the interpreter, where it runs from Storage (ESPRUINO=…)", async function () {
    const r = await fromStorage(
      this,
      "the part is loaded and dropped on the interpreter",
      file,
      // a first round makes what the interpreter makes once (its `process`, `String`, these variables), then the
      // second is measured
      'var m0=0,m1=0,m2=0,x="";print("RUN "+run());__PD();' +
        'm0=process.memory().usage;x=run();m1=process.memory().usage;__PD();m2=process.memory().usage;' +
        'print("RUN "+x);print("MEM "+m0+" "+m1+" "+m2);quit();\n',
    );
    if (!r) return;
    assert.deepEqual(r.errors, []);
    assert.equal(r.inFlash, true);
    assert.deepEqual(r.lines.filter((l) => l.startsWith("RUN ")), ["RUN two,many (from the part),one cup,3", "RUN two,many (from the part),one cup,3"]);
    const [m0, m1, m2] = r.lines.find((l) => l.startsWith("MEM "))!.split(" ").slice(1).map(Number);
    assert.ok(m1 - m0 >= 10, `loaded, the part's functions cost JsVars: ${m0} -> ${m1}`);
    assert.ok(m2 - m0 <= 3, `dropped, they cost nothing: ${m0} -> ${m2}`);
  });
});
