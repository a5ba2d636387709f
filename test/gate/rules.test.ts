import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { checkBundle, ESPRUINO_GLOBALS, ESPRUINO_MODULES } from "./espruino-gate.ts";
import type { Diagnostic } from "./espruino-gate.ts";

/** Lines joined with "\n", so a snippet's line numbers can be read off the array. */
const lines = (...l: string[]): string => l.join("\n");
const brief = (d: Diagnostic[]): Array<[string, number]> => d.map((x) => [x.rule, x.line]);

/** The snippet yields exactly these [rule, line] diagnostics, in order. */
function flags(src: string, ...expected: Array<[string, number]>): Diagnostic[] {
  const d = checkBundle(src, "bundle.js");
  assert.deepEqual(brief(d), expected, `diagnostics were:\n${d.map((x) => `${x.line}:${x.column} ${x.rule} ${x.message}`).join("\n")}`);
  return d;
}
/** The snippet passes the gate. */
function passes(src: string): void {
  const d = checkBundle(src, "bundle.js");
  assert.deepEqual(d.map((x) => `${x.line}:${x.column} ${x.rule} ${x.message}`), []);
}

describe("Espruino gate rules", () => {
  describe("parts (build.ts PARTS: code after the bundle in a comment)", () => {
    const bundle = (part: string) =>
      lines("if (1) {", "  function core() { return 1; }", "  function _q() { return q(); }", "}", "/*", "//P0:ab", part, "//P0:ab", "delete global.q;", "*/", "");
    it("checks a part's code at its own line, its names and the core's known to it", () => passes(bundle("q=function(){return core()+1};")));
    it("flags what a part uses that Espruino lacks", () => flags(bundle("q=function(){return fetch(core())};"), ["unknown-global", 7]));
  });

  describe("no-destructuring", () => {
    it("flags an object pattern in a declaration", () => flags(lines("var o = {a: 1};", "var {a} = o;"), ["no-destructuring", 2]));
    it("flags an array pattern once, nested patterns included", () =>
      flags(lines("var r = [1, [2]];", "var [x, [y]] = r;"), ["no-destructuring", 2]));
    it("flags a destructured parameter", () => flags(lines("function f({a}) {", "  return a;", "}"), ["no-destructuring", 1]));
    it("flags destructuring in for-of", () =>
      flags(lines("var m = [[1, 2]];", "for (const [k, v] of m) print(k, v);"), ["no-destructuring", 2]));
    it("flags destructuring assignment", () => flags(lines("var a, b;", "[a, b] = [b, a];"), ["no-destructuring", 2]));
    it("passes reading each field", () => passes(lines("var o = {a: 1};", "var a = o.a;", "var r = [1, 2];", "var x = r[0];")));
  });

  describe("no-spread / no-rest", () => {
    it("flags call spread", () => flags(lines("var a = [1, 2];", "var m = Math.max(...a);"), ["no-spread", 2]));
    it("flags array spread", () => flags(lines("var a = [1];", "var b = [...a, 2];"), ["no-spread", 2]));
    it("flags object spread", () => flags(lines("var o = {};", "var p = {...o, a: 1};"), ["no-spread", 2]));
    it("flags new with spread", () => flags(lines("var a = [1];", "var d = new Date(...a);"), ["no-spread", 2]));
    it("passes apply, concat and Object.assign", () =>
      passes(lines("var a = [1];", "var m = Math.max.apply(Math, a);", "var b = a.concat([2]);",
        "var p = Object.assign({}, {a: 1});")));
    it("flags a rest parameter", () => flags(lines("function f(a,", "  ...r) { return r; }"), ["no-rest", 2]));
    it("passes reading arguments instead", () => passes("function f(a) { return [].slice.call(arguments, 1); }"));
  });

  describe("no-default-params", () => {
    it("flags a default parameter", () => flags(lines("var f = function (a,", "  b = 1) { return a + b; };"), ["no-default-params", 2]));
    it("passes an explicit undefined check (terser's void 0 form)", () =>
      passes("var f = function (a, b) { void 0 === b && (b = 1); return a + b; };"));
  });

  describe("no-optional-chaining", () => {
    it("flags ?.", () => flags(lines("var o = {};", "var v = o?.a;"), ["no-optional-chaining", 2]));
    it("flags ?.()", () => flags(lines("var o = {};", "o.f?.();"), ["no-optional-chaining", 2]));
    it("passes && and ??", () => passes(lines("var o = {};", "var v = o && o.a;", "var w = o.b ?? 1;")));
  });

  describe("no-exponent", () => {
    it("flags **", () => flags(lines("var x = 2;", "var y = x ** 2;"), ["no-exponent", 2]));
    it("flags **=", () => flags(lines("var x = 2;", "x **= 2;"), ["no-exponent", 2]));
    it("passes Math.pow", () => passes(lines("var x = 2;", "x = Math.pow(x, 2);")));
  });

  describe("no-logical-assign", () => {
    it("flags ??=", () => flags(lines("var x;", "x ??= 1;"), ["no-logical-assign", 2]));
    it("flags ||= and &&=", () => flags(lines("var x;", "x ||= 1;", "x &&= 2;"), ["no-logical-assign", 2], ["no-logical-assign", 3]));
    it("passes the long form", () => passes(lines("var x;", "x = x || 1;", "x = null != x ? x : 1;")));
  });

  describe("no-async", () => {
    it("flags async functions and for await", () =>
      flags(lines("async function f(a) {", "  for await (const x of a) print(x);", "}"), ["no-async", 1], ["no-async", 2]));
    it("flags an async arrow", () => flags(lines("var p;", "var f = async () => p;"), ["no-async", 2]));
    it("passes a Promise chain", () => passes("function f(p) { return p.then(function (v) { return v + 1; }); }"));
  });

  describe("no-generators", () => {
    it("flags function*", () => flags(lines("function* g() {", "  yield 1;", "}"), ["no-generators", 1]));
    it("passes returning an array", () => passes("function g() { return [1]; }"));
  });

  describe("no-labels", () => {
    it("flags a labeled loop", () =>
      flags(lines("var i, j;", "outer: for (i = 0; i < 3; i++)", "  for (j = 0; j < 3; j++) if (j) break outer;"), ["no-labels", 2]));
    it("passes a flag variable", () =>
      passes(lines("var i, j, done = !1;", "for (i = 0; i < 3 && !done; i++)", "  for (j = 0; j < 3; j++) if (j) { done = !0; break; }")));
  });

  describe("no-tagged-template / template-escape", () => {
    it("flags a tagged template", () => flags(lines("function t(s) { return s; }", "t`x`;"), ["no-tagged-template", 2]));
    it("passes a plain template literal and a call", () => passes(lines("function t(s) { return s; }", "var n = 1;", "t(`x${n}`);")));
    it("flags an escaped backtick in a template", () => flags(lines("var n = 1;", "var s = `a\\`b${n}`;"), ["template-escape", 2]));
    it("flags an escaped dollar in a template", () => flags(lines("var n = 1;", "var s = `\\${n}`;"), ["template-escape", 2]));
    it("passes the quoted-string form", () => passes(lines("var n = 1;", "var s = \"a`b\" + n;")));
  });

  describe("class syntax", () => {
    it("flags a computed method name", () => flags(lines("var k = \"m\";", "class A { [k]() {} }"), ["no-computed-class-member", 2]));
    it("flags a private field", () => flags(lines("class A {", "  #p = 1;", "}"), ["no-private-fields", 2]));
    it("flags a private method", () => flags(lines("class A {", "  #m() {}", "}"), ["no-private-fields", 2]));
    it("flags a static block", () => flags(lines("class A {", "  static { print(1); }", "}"), ["no-static-block", 2]));
    it("passes plain methods, fields, statics and accessors", () =>
      passes(lines("class A {", "  constructor() { this._p = 1; }", "  m() { return this._p; }", "  get v() { return 1; }",
        "  static s() { return new A(); }", "}", "A.count = 0;")));
  });

  describe("no-computed-key", () => {
    it("flags a computed key in an object literal", () => flags(lines("var k = \"a\";", "var o = {[k]: 1};"), ["no-computed-key", 2]));
    it("passes assigning the key afterwards", () => passes(lines("var k = \"a\";", "var o = {};", "o[k] = 1;")));
  });

  describe("no-bigint", () => {
    it("flags a BigInt literal", () => flags(lines("var a = 1;", "var n = 10n;"), ["no-bigint", 2]));
    it("passes a Number", () => passes("var n = 10;"));
  });

  describe("no-modules", () => {
    it("flags export", () => flags(lines("var x = 1;", "export { x };"), ["no-modules", 2]));
    it("flags import", () => flags(lines("import x from \"y\";", "print(x);"), ["no-modules", 1]));
    it("flags dynamic import", () => flags(lines("var p;", "p = import(\"y\");"), ["no-modules", 2]));
    it("passes a plain script", () => passes("(() => { var x = 1; print(x); })();"));
  });

  describe("no-new-target", () => {
    it("flags new.target", () => flags(lines("function F() {", "  if (!new.target) throw Error();", "}"), ["no-new-target", 2]));
    it("passes an instanceof check", () => passes("function F() { if (!(this instanceof F)) throw Error(); }"));
  });

  describe("case-after-default", () => {
    it("flags a case after default", () =>
      flags(lines("var x = 1;", "switch (x) {", "  default: print(0);", "  case 1: print(1);", "}"), ["case-after-default", 4]));
    it("passes default last", () => passes(lines("var x = 1;", "switch (x) {", "  case 1: print(1);", "  default: print(0);", "}")));
  });

  describe("array-hole", () => {
    it("flags a hole", () => flags(lines("var a =", "  [3, 5, , 6];"), ["array-hole", 2]));
    it("passes an explicit undefined", () => passes("var a = [3, 5, void 0, 6];"));
  });

  describe("regex-flags", () => {
    it("flags m on a literal", () => flags(lines("var s = \"\";", "/a/m.test(s);"), ["regex-flags", 2]));
    it("flags s on a literal (a SyntaxError there)", () => flags(lines("var s = \"\";", "/a/s.test(s);"), ["regex-flags", 2]));
    it("flags y in the constructor", () => flags(lines("var r;", "r = new RegExp(\"a\", \"y\");"), ["regex-flags", 2]));
    it("passes g and i, and s through the constructor", () =>
      passes(lines("var s = \"\";", "/a/gi.test(s);", "new RegExp(\"a\", \"s\").test(s);")));
  });

  describe("regex-quantifier", () => {
    const bad: Array<[string, string]> = [
      ["?", String.raw`/ab?c/`], ["{n}", String.raw`/a{2}/`], ["{n,}", String.raw`/a{2,}/`], ["{n,m}", String.raw`/\d{2,3}/`],
      ["lazy *?", String.raw`/a*?b/`], ["lazy +?", String.raw`/a+?b/`], ["(?:", String.raw`/(?:ab)c/`],
      ["lookahead", String.raw`/a(?=b)/`], ["negative lookahead", String.raw`/a(?!b)/`], ["lookbehind", String.raw`/(?<=a)b/`],
      ["named group", String.raw`/(?<y>a)/`], ["* after a group", String.raw`/(ab)*/`], ["+ after a group", String.raw`/(ab)+/`],
    ];
    for (const [what, re] of bad) {
      it(`flags ${what} in a literal`, () => flags(lines("var s = \"\";", `${re}.test(s);`), ["regex-quantifier", 2]));
    }
    it("points at the quantifier's column", () => {
      const [d] = flags(lines("var s = \"\";", "var ok = /ab?c/.test(s);"), ["regex-quantifier", 2]);
      assert.equal(d!.column, "var ok = /ab".length + 1);
    });
    it("flags ? in new RegExp with a string literal", () =>
      flags(lines("var r;", "r = new RegExp(\"^\\\\d+(\\\\.\\\\d*)?$\");"), ["regex-quantifier", 2]));
    it("flags {n} in RegExp() called without new", () => flags(lines("var r;", "r = RegExp(\"a{3}\");"), ["regex-quantifier", 2]));
    it("passes escaped and class-enclosed ?, *, + on characters, and a literal {", () =>
      passes(lines("var s = \"\";", String.raw`/[?]\?[a-z]+\d*x+\.\{/.test(s);`, String.raw`/a{/.test(s);`,
        "new RegExp(\"[?]\\\\?a+\").test(s);")));
  });

  describe("regex-backreference", () => {
    it("flags \\1", () => flags(lines("var s = \"\";", String.raw`/(a)\1/.test(s);`), ["regex-backreference", 2]));
    it("flags \\k<name>", () => flags(lines("var s = \"\";", String.raw`new RegExp("(a)\\k<x>").test(s);`), ["regex-backreference", 2]));
    it("passes \\0 and \\x41", () => passes(lines("var s = \"\";", String.raw`/\0\x41/.test(s);`)));
  });

  describe("regex-unsupported", () => {
    it("flags \\b (word boundary)", () => flags(lines("var s = \"\";", String.raw`/\bab/.test(s);`), ["regex-unsupported", 2]));
    it("flags \\u escapes", () => flags(lines("var s = \"\";", String.raw`/\u0041/.test(s);`), ["regex-unsupported", 2]));
    it("flags nested groups", () => flags(lines("var s = \"\";", "/((a)(b))/.test(s);"), ["regex-unsupported", 2], ["regex-unsupported", 2]));
    it("flags | inside a group", () => flags(lines("var s = \"\";", "/x(a|b)/.test(s);"), ["regex-unsupported", 2]));
    it("passes top-level alternation and flat groups", () => passes(lines("var s = \"\";", "/^(ab)c$|^d(e)$/.test(s);")));
  });

  describe("no-hoisting", () => {
    it("flags a call before the function declaration", () =>
      flags(lines("var a = 1;", "go();", "function go() { return a; }"), ["no-hoisting", 2]));
    it("flags typeof of a function before its declaration (gives \"undefined\" there)", () =>
      flags(lines("var t = typeof go;", "function go() {}"), ["no-hoisting", 1]));
    it("flags a var read before its declaration", () => flags(lines("print(x);", "var x = 1;"), ["no-hoisting", 1]));
    it("flags it inside a function body too", () =>
      flags(lines("function f() {", "  g();", "  function g() {}", "}", "f();"), ["no-hoisting", 2]));
    it("flags a class used before its declaration", () => flags(lines("var a = new A();", "class A {}"), ["no-hoisting", 1]));
    it("flags a reference from an IIFE run before the definition", () =>
      flags(lines("(function () {", "  later();", "})();", "function later() {}"), ["no-hoisting", 2]));
    it("flags a reference from a forEach callback run before the definition", () =>
      flags(lines("[1].forEach(function (v) {", "  later(v);", "});", "function later() {}"), ["no-hoisting", 2]));
    it("does not flag a reference inside a function that runs later", () =>
      passes(lines("function f() { return later(); }", "function later() { return 1; }", "f();")));
    it("passes definition before use", () => passes(lines("function go() {}", "go();", "var x = 1;", "print(x);")));
    it("passes `var x = x || {}` (the name is created before its initializer runs)", () =>
      passes("var ns = ns || {};"));
  });

  describe("loop-closure", () => {
    it("flags an arrow capturing a for-let variable", () =>
      flags(lines("var fns = [];", "for (let i = 0; i < 3; i++)", "  fns.push(() => i);"), ["loop-closure", 3]));
    it("flags a function capturing a for-const-of variable", () =>
      flags(lines("var fns = [];", "for (const v of [1, 2]) {", "  setTimeout(function () { print(v); }, 1);", "}"), ["loop-closure", 3]));
    it("flags a for-const-in variable once per function", () =>
      flags(lines("var fns = [], o = {a: 1};", "for (const k in o) {", "  fns.push(function () { return k + k; });", "}"), ["loop-closure", 3]));
    it("passes passing the value into a function", () =>
      passes(lines("var fns = [];", "[0, 1, 2].forEach(function (i) {", "  fns.push(function () { return i; });", "});")));
    it("passes an IIFE that copies the value", () =>
      passes(lines("var fns = [];", "for (let i = 0; i < 3; i++)", "  fns.push((function (j) { return function () { return j; }; })(i));")));
    it("passes an IIFE in the loop body that reads the variable while the iteration runs", () =>
      passes(lines("var out = [];", "for (let i = 0; i < 3; i++)", "  (function () { out.push(i); })();")));
    it("passes a synchronous callback that uses the value at once", () =>
      passes(lines("var out = [];", "for (const v of [1, 2]) {", "  out.push([3, 4].map(function (w) { return v + w; }));", "}")));
  });

  describe("array-length-assign", () => {
    it("flags .length =", () => flags(lines("var a = [1, 2];", "a.length = 0;"), ["array-length-assign", 2]));
    it("flags .length--", () => flags(lines("var a = [1, 2];", "a.length--;"), ["array-length-assign", 2]));
    it("passes splice and reading length", () => passes(lines("var a = [1, 2];", "a.splice(1);", "var n = a.length;")));
  });

  describe("prototype-method-read", () => {
    it("flags Array.prototype.slice.call", () =>
      flags(lines("function f() {", "  return Array.prototype.slice.call(arguments);", "}"), ["prototype-method-read", 2]));
    it("flags Object.prototype.hasOwnProperty (esbuild's __spreadValues helper does this)", () =>
      flags(lines("var o = {a: 1};", "var h = Object.prototype.hasOwnProperty;", "h.call(o, \"a\");"), ["prototype-method-read", 2]));
    it("passes calling on instances, and assigning to a prototype", () =>
      passes(lines("function f() { return [].slice.call(arguments); }", "var o = {a: 1};", "o.hasOwnProperty(\"a\");",
        "function F() {}", "F.prototype.m = function () { return 1; };", "F.prototype.m.call(new F());")));
  });

  describe("extends-builtin", () => {
    it("flags extends Error", () => flags(lines("class Bad", "  extends Error {}"), ["extends-builtin", 2]));
    it("flags extends Array", () => flags("class L extends Array {}", ["extends-builtin", 1]));
    it("passes an error built with a code property", () =>
      passes(lines("function fail(code) {", "  var e = new Error(code);", "  e.code = code;", "  throw e;", "}")));
  });

  describe("extends-depth", () => {
    it("flags a third level", () =>
      flags(lines("class A { m() { return 1; } }", "class B extends A {}", "class C extends B {}"), ["extends-depth", 3]));
    it("flags a third level written as class expressions (esbuild's var X = class form)", () =>
      flags(lines("var A = class {},", "  B = class extends A {},", "  C = class extends B {};"), ["extends-depth", 3]));
    it("passes one level of inheritance", () => passes(lines("class A {}", "class B extends A {}", "class C extends A {}")));
  });

  describe("unknown-global", () => {
    it("flags Map, Symbol and Buffer", () =>
      flags(lines("var m = new Map();", "var s = Symbol.iterator;", "var b = Buffer.from(\"a\");"),
        ["unknown-global", 1], ["unknown-global", 2], ["unknown-global", 3]));
    it("flags RangeError and window", () => flags(lines("throw new RangeError(window.x);"), ["unknown-global", 1], ["unknown-global", 1]));
    it("passes typeof guards and the board's globals", () =>
      passes(lines("var web = typeof window !== \"undefined\";", "Serial2.setup(9600, {tx: D4, rx: D5});",
        "E.toString(new Uint8Array(2));", "setWatch(function () {}, BTN1, {repeat: !0});", "digitalWrite(LED1, 1);",
        "var t = getTime(), d = new DataView(new ArrayBuffer(4));")));
    it("passes uses guarded by a typeof test, as UMD wrappers and environment checks write them", () =>
      passes(lines("var crypto, f = function () { return 1; };",
        "if (typeof window !== \"undefined\" && window.crypto) crypto = window.crypto;",
        "\"undefined\" != typeof self && self.crypto && (crypto = self.crypto);",
        "typeof define === \"function\" && define.amd ? define([], f) : typeof exports === \"object\" && (module.exports = f());",
        "var g = typeof Buffer > \"u\" ? global : Buffer;")));
    it("flags the same name outside the guarded branch", () =>
      flags(lines("if (typeof window !== \"undefined\") print(1);", "window.x = 1;"), ["unknown-global", 2]));
    it("uses the globals option instead of the default list", () => {
      flags("Printer.write(\"a\");", ["unknown-global", 1]);
      assert.deepEqual(checkBundle("Printer.write(\"a\");", "b.js", { globals: ["Printer"] }), []);
      assert.deepEqual(brief(checkBundle("Serial2.write(\"a\");", "b.js", { globals: ["Printer"] })), [["unknown-global", 1]]);
    });
    it("exports the default list with the board's pins", () => {
      for (const g of ["Promise", "Uint8Array", "E", "D39", "LED1", "Serial3", "globalThis", "arguments"]) {
        assert.ok(ESPRUINO_GLOBALS.includes(g), g);
      }
      for (const g of ["Map", "Set", "Symbol", "RangeError", "escape", "TextEncoder"]) assert.ok(!ESPRUINO_GLOBALS.includes(g), g);
    });
  });

  describe("missing-member", () => {
    const statics = ["Array.from(x)", "Array.of(1)", "Object.setPrototypeOf(x, null)", "Promise.race([x])",
      "Promise.allSettled([x])", "Promise.any([x])", "Date.UTC(2024, 0)", "Number.isInteger(1)", "Math.trunc(1.5)",
      "Object.freeze(x)", "Uint8Array.from(x)", "ArrayBuffer.isView(x)"];
    for (const s of statics) {
      it(`flags ${s}`, () => flags(lines("var x = [];", `var y = ${s};`), ["missing-member", 2]));
    }
    it("flags Object.create with a second argument", () =>
      flags(lines("var p = {};", "var o = Object.create(p, {a: {value: 1}});"), ["missing-member", 2]));
    it("flags .finally() on anything", () => flags(lines("var p = Promise.resolve(1);", "p.finally(print);"), ["missing-member", 2]));
    it("flags .setUTCHours()", () => flags(lines("var d = new Date();", "d.setUTCHours(1);"), ["missing-member", 2]));
    it("flags .at() and .flat()", () => flags(lines("var a = [[1]];", "a.at(-1);", "a.flat();"), ["missing-member", 2], ["missing-member", 3]));
    it("passes what Espruino has", () =>
      passes(lines("var x = [1.5], p = {};", "Object.create(p);", "Object.keys(p);", "Promise.all([]).then(print, print);",
        "Math.floor(x[0]);", "Math.pow(2, 3);", "new Date().setHours(1);", "Date.now();", "Array.isArray(x);",
        "String.fromCharCode(65);", "JSON.stringify(p);", "Number.MAX_VALUE;", "var t = typeof Math.trunc;")));
  });

  describe("unknown-module", () => {
    it("flags a module the board lacks", () => flags(lines("var a;", "a = require(\"os\");"), ["unknown-module", 2]));
    it("flags a relative require", () => flags(lines("var a;", "a = require(\"./lib\");"), ["unknown-module", 2]));
    it("flags a non-literal require", () => flags(lines("var n = \"fs\";", "var a = require(n);"), ["unknown-module", 2]));
    it("passes the board's built-in modules", () =>
      passes(lines("var s = require(\"Storage\"), c = require(\"crypto\"), h = require(\"http\"), w = require(\"Wifi\");")));
    it("passes a module registered with Modules.addCached", () =>
      passes(lines("Modules.addCached(\"mine\", function () {});", "var m = require(\"mine\");")));
    it("defaults to the builtin_modules of Espruino's ESP32 board file", function () {
      const boardFile = "/work/shared/espruino-boards/ESP32.json";
      if (!existsSync(boardFile)) this.skip(); // the reference board file lives outside the repo
      const board = JSON.parse(readFileSync(boardFile, "utf8")) as { info: { builtin_modules: string[] } };
      assert.deepEqual([...ESPRUINO_MODULES].sort(), [...board.info.builtin_modules].sort());
    });
    it("uses the modules option instead of the default list", () => {
      assert.deepEqual(brief(checkBundle("require(\"Storage\");", "b.js", { modules: ["fs"] })), [["unknown-module", 1]]);
      assert.ok(ESPRUINO_MODULES.includes("Storage") && ESPRUINO_MODULES.includes("crypto"));
    });
  });

  describe("no-escape / undefined-param", () => {
    it("flags escape and unescape", () => flags(lines("var a = escape(\"x\");", "var b = unescape(a);"), ["no-escape", 1], ["no-escape", 2]));
    it("passes encodeURIComponent", () => passes("var a = decodeURIComponent(encodeURIComponent(\"x\"));"));
    it("flags a parameter named undefined", () =>
      flags(lines("var C = (function (Math,", "  undefined) { return 1; })(Math);"), ["undefined-param", 2]));
    it("passes void 0 instead", () => passes("var C = (function (M, u) { return u === void 0; })(Math);"));
  });

  describe("json-replacer", () => {
    it("flags a stringify replacer", () =>
      flags(lines("var o = {};", "JSON.stringify(o, function (k, v) { return v; });"), ["json-replacer", 2]));
    it("flags a parse reviver", () => flags(lines("var s = \"{}\";", "JSON.parse(s, function (k, v) { return v; });"), ["json-replacer", 2]));
    it("passes null as the replacer", () => passes(lines("var o = {};", "JSON.stringify(o, null, 2);", "JSON.parse(\"{}\");")));
  });

  describe("arrow-arguments", () => {
    it("flags arguments inside an arrow", () =>
      flags(lines("function f() {", "  return () => arguments[0];", "}"), ["arrow-arguments", 2]));
    it("passes reading arguments in the function first", () =>
      passes(lines("function f() {", "  var a = arguments[0];", "  return () => a;", "}")));
  });

  describe("parse-error", () => {
    it("reports a bundle that does not parse, at the error", () => {
      const [d] = flags(lines("var a = 1;", "var = ;"), ["parse-error", 2]);
      assert.equal(d!.column, 5);
    });
  });

  describe("positions", () => {
    it("gives the right line and column for each problem in a multi-line bundle", () => {
      const src = lines(
        "(function () {",          // 1
        "  var a = [1, 2];",        // 2
        "  var b = [...a];",        // 3  spread at col 12
        "  function ok() {",        // 4
        "    return b;",            // 5
        "  }",                      // 6
        "  a.length = 0;",          // 7  col 3
        "  ok();",                  // 8
        "",                         // 9
        "  var m = new Map();",     // 10 Map at col 15
        "})();",                    // 11
      );
      const d = checkBundle(src, "dist/x.js");
      assert.deepEqual(d.map((x) => [x.file, x.line, x.column, x.rule]), [
        ["dist/x.js", 3, 12, "no-spread"],
        ["dist/x.js", 7, 3, "array-length-assign"],
        ["dist/x.js", 10, 15, "unknown-global"],
      ]);
    });
  });

  describe("minified output", () => {
    it("passes terser/esbuild idioms: void 0, !0, comma sequences, !function(){}(), typeof guards", () =>
      passes(lines(
        "!function(){\"use strict\";var t=Object.defineProperty,e=(e,r,n)=>r in e?t(e,r,{enumerable:!0,value:n}):e[r]=n;",
        "function a(t){let e=65535;for(let r=0;r<t.length;r++){e^=t[r]<<8;for(let t=0;t<8;t++)e=32768&e?65535&(e<<1^4129):e<<1&65535}return e}",
        "var c=class{constructor(t){e(this,\"id\",t)}describe(){return`#${this.id}`}},l=class t extends c{constructor(t){super(t),this.items=[]}",
        "get total(){let t=0;for(const e of this.items)t+=e.cents;return t}add(e,r){void 0===r&&(r=1);for(let t=0;t<r;t++)this.items.push(Object.assign({},e));t.count++}};",
        "l.count=0;var u=new l(1);u.add({cents:1}),print(a(new Uint8Array([1,2])),u.total,\"undefined\"!=typeof window?1:0,null!=u?u:void 0)}();",
      )));
  });
});
