/**
 * build.ts paramsFromArguments: functions at the top level take their parameters from `arguments`, which costs no
 * JsVar while the function is only defined, and the program means what it meant, on V8 and on the interpreter
 * (where a nested function's `arguments` is its enclosing function's once that one has made its own).
 */
import assert from "node:assert/strict";
import vm from "node:vm";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transformSync } from "@babel/core";
import { compile, paramsFromArguments } from "../../build.ts";
import { interpreter, runFromStorage } from "../espruino/interpreter.ts";

const babel = (src: string, plugins: typeof paramsFromArguments[]) => transformSync(src, { babelrc: false, configFile: false, sourceType: "script", compact: true, plugins })!.code!;
const rewrite = (src: string) => babel(src, [paramsFromArguments]);
/** The source as Babel prints it, unchanged. */
const as = (src: string) => babel(src, []);
const EXPECTED = "R 6,11,3,11,7,3,6,9,12";
const entry = `import "./test/build/fixtures/params/mod.ts";\n`;

describe("build: parameters from arguments", function () {
  this.timeout(120000);

  it("rewrites a top-level function, a class's constructor and method, an object's method; one parameter alone", () => {
    assert.equal(rewrite("function f(a,b){return a+b}"), as("function f(){var _args=arguments,a=_args[0],b=_args[1];return a+b}"));
    assert.equal(rewrite("function f(a){return a}"), as("function f(){var a=arguments[0];return a}"));
    assert.equal(rewrite("class C{constructor(a){this.a=a}m(x,y){return x}}"), as("class C{constructor(){var a=arguments[0];this.a=a}m(){var _args=arguments,x=_args[0],y=_args[1];return x}}"));
    assert.equal(rewrite("var o={m(a){return a}}"), as("var o={m(){var a=arguments[0];return a}};"));
  });

  it("leaves arrows, setters, nested functions, functions that read arguments, and patterns", () => {
    for (const src of [
      "var f=a=>a;",
      "class C{set v(x){this.x=x}}",
      "function f(a){return arguments.length}",
      "function f(a){return function(){return arguments[0]}}",
      "function f(a){return()=>arguments[0]}",
      "function f({a}){return a}",
      "function f(a=1){return a}",
      "async function f(a){return a}",
      "function*f(a){yield a}",
    ])
      assert.equal(rewrite(src), as(src), src);
    // the outer one rewritten, the nested one keeps its parameter
    assert.equal(rewrite("function f(k){return function(j){return k+j}}"), as("function f(){var k=arguments[0];return function(j){return k+j}}"));
  });

  it("runs the compiled module as written on V8", async () => {
    const code = await compile(entry, "params.entry.ts", []);
    assert.match(code, /arguments/);
    const printed: string[] = [];
    vm.runInNewContext(code, { print: (...a: unknown[]) => printed.push(a.join(" ")) });
    assert.deepEqual(printed, [EXPECTED]);
  });

  it("runs the compiled module as written on the interpreter (ESPRUINO=…)", async function () {
    const bin = interpreter();
    if (!bin) {
      console.log("      skipped: ESPRUINO is unset; with it, the compiled module runs on the interpreter");
      return this.skip();
    }
    const f = join(mkdtempSync(join(tmpdir(), "params-")), "bundle.js");
    writeFileSync(f, await compile(entry, "params.entry.ts", []));
    const r = await runFromStorage(bin, f, { after: "" });
    assert.ok(r.lines.includes(EXPECTED), r.lines.join("\n"));
  });
});
