/**
 * The Espruino gate: a static check of a built JavaScript bundle (the minified file that runs on Espruino 2v29 on
 * ESP32). It reports syntax Espruino cannot parse and the patterns that parse but break there, each with the
 * bundle's file, line and column, so a build can fail before a bundle ever reaches a board.
 *
 * Facts behind every rule: /work/shared/espruino-compat.md (593 cases measured on Espruino 2v29), the notes beside
 * it, and Espruino's own sources (src/jswrap_*.c for which built-ins exist, src/jswrap_regexp.c for the regex
 * engine).
 *
 *   import { checkBundle } from "./espruino-gate.ts";
 *   const problems = checkBundle(readFileSync("dist/devkit.js", "utf8"), "dist/devkit.js");
 *   for (const p of problems) console.log(`${p.file}:${p.line}:${p.column} ${p.rule} ${p.message}`);
 *
 * Lines are 1-based, columns are 1-based (as editors and compilers print them).
 */
import * as acorn from "acorn";
import { fullAncestor } from "acorn-walk";
import { analyze } from "eslint-scope";
import type { Reference, Scope, Variable } from "eslint-scope";
import type * as ESTree from "estree";

export interface Diagnostic {
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  rule: string;
  message: string;
}

export interface CheckOptions {
  /** Names the board defines globally. Replaces ESPRUINO_GLOBALS when given. */
  globals?: Iterable<string>;
  /** Names `require()` may load. Replaces ESPRUINO_MODULES when given. */
  modules?: Iterable<string>;
}

/** An ESTree node as acorn builds it; fields are read by node type, so they stay loosely typed here. */
interface Node {
  type: string;
  start: number;
  end: number;
  loc?: acorn.SourceLocation | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

const PINS = Array.from({ length: 40 }, (_, i) => `D${i}`);

/**
 * Globals of Espruino 2v29 on ESP32: the classes, objects, functions and variables its src/jswrap_*.c and the
 * ESP32 libraries (ESP32, NET, GRAPHICS, CRYPTO, TLS, TELNET, NEOPIXEL, FILESYSTEM, BLUETOOTH) define, minus what
 * the compat table measured missing (Map, Set, WeakMap, Symbol, Proxy, Reflect, BigInt, RangeError, encodeURI,
 * escape, unescape, TextEncoder/TextDecoder, Intl). Pins D0..D39 and the board's LED1/BTN1 are globals too.
 * `arguments` is not a global but is an identifier the scope analysis leaves unresolved at top level.
 */
export const ESPRUINO_GLOBALS: readonly string[] = Object.freeze([
  // language built-ins Espruino has
  "Object", "Function", "Array", "String", "Number", "Boolean", "RegExp", "Date", "Math", "JSON", "Promise",
  "Error", "InternalError", "ReferenceError", "SyntaxError", "TypeError",
  "ArrayBuffer", "ArrayBufferView", "DataView", "Uint8Array", "Uint8ClampedArray", "Int8Array", "Uint16Array",
  "Int16Array", "Uint24Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array",
  "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent", "btoa", "atob",
  "eval", "undefined", "NaN", "Infinity", "arguments", "global", "globalThis",
  // Espruino's interactive and timer functions
  "console", "print", "require", "load", "save", "reset", "dump", "trace", "edit", "echo",
  "setTimeout", "setInterval", "clearTimeout", "clearInterval", "changeInterval",
  "setWatch", "clearWatch", "getTime", "setTime", "getSerial", "setDeepSleep", "setSleepIndicator",
  "setBusyIndicator", "__FILE__",
  // IO
  "digitalWrite", "digitalRead", "digitalPulse", "pinMode", "getPinMode", "analogRead", "analogWrite", "shiftOut",
  "peek8", "poke8", "peek16", "poke16", "peek32", "poke32", "HIGH", "LOW",
  // Espruino classes and objects on ESP32
  "E", "Pin", "Serial", "Serial1", "Serial2", "Serial3", "LoopbackA", "LoopbackB", "Telnet",
  "I2C", "I2C1", "I2C2", "SPI", "SPI1", "SPI2", "OneWire", "Waveform", "StorageFile", "Graphics",
  "NRF", "Bluetooth", "ESP32", "process", "Modules",
  // board devices and pins
  "LED1", "BTN1", ...PINS,
]);

/**
 * Names `require()` can load on ESP32: the `builtin_modules` of the board file Espruino 2v29.277 ships for ESP32
 * (/work/shared/espruino-boards/ESP32.json, a reference kept outside the repo; rules.test.ts checks this copy
 * against it when it is present).
 */
export const ESPRUINO_MODULES: readonly string[] = Object.freeze(["timer", "Flash", "Storage", "heatshrink", "fs",
  "net", "dgram", "tls", "http", "NetworkJS", "Wifi", "TelnetServer", "crypto", "neopixel"]);

// ---------------------------------------------------------------------------------------------------------------
// Facts tables
// ---------------------------------------------------------------------------------------------------------------

/** What to write instead of a global the board lacks. */
const GLOBAL_ADVICE: Record<string, string> = {
  Map: "use a plain object keyed by string (Object.create(null)) or parallel arrays",
  Set: "use a plain object of `key: true` or an array with indexOf",
  WeakMap: "store the value on the object itself or in a plain object keyed by an id",
  WeakSet: "mark the object with a property instead",
  Symbol: "use a string key; for iteration use plain arrays and index loops",
  Proxy: "write explicit getter/setter methods",
  Reflect: "use Object.keys/Object.defineProperty/Function.prototype.apply on the instance",
  BigInt: "use integer Numbers (below 2^53) or byte arrays",
  RangeError: "throw an Error with a `code` property (Espruino has no RangeError)",
  EvalError: "throw an Error with a `code` property",
  URIError: "throw an Error with a `code` property",
  AggregateError: "throw an Error with a `code` property and an `errors` array",
  queueMicrotask: "use Promise.resolve().then(fn) or setTimeout(fn, 0)",
  structuredClone: "copy explicitly (or JSON.parse(JSON.stringify(x)) for plain data)",
  TextEncoder: "use E.toUint8Array(string) (text is bytes on ESP32)",
  TextDecoder: "use E.toString(bytes)",
  Buffer: "use Uint8Array and E.toString/E.toUint8Array",
  window: "use `global`/`globalThis`",
  document: "there is no DOM on the device",
  self: "use `global`/`globalThis`",
  fetch: "use require(\"http\").request",
  encodeURI: "use encodeURIComponent on each component",
  Intl: "format numbers and dates yourself",
  setImmediate: "use setTimeout(fn, 0)",
  performance: "use getTime() (seconds, float)",
  crypto: "use require(\"crypto\") or the secure element",
};

const TYPED_ARRAYS = ["Uint8Array", "Uint8ClampedArray", "Int8Array", "Uint16Array", "Int16Array", "Uint24Array",
  "Uint32Array", "Int32Array", "Float32Array", "Float64Array"];

/**
 * Static members each built-in constructor has on Espruino 2v29 (from src/jswrap_*.c), i.e. every other
 * `Ctor.member` read is undefined there. `Object.setPrototypeOf` exists in the source but the notes measured it
 * failing, so it is left out on purpose.
 */
const FUNCTION_STATICS = ["prototype", "call", "apply", "bind", "toString", "length", "name"];
const STATIC_MEMBERS: Record<string, readonly string[]> = {
  Object: ["assign", "create", "defineProperties", "defineProperty", "entries", "fromEntries",
    "getOwnPropertyDescriptor", "getOwnPropertyDescriptors", "getOwnPropertyNames", "getPrototypeOf", "keys",
    "values"],
  Array: ["isArray"],
  String: ["fromCharCode"],
  Number: ["MAX_VALUE", "MIN_VALUE", "NEGATIVE_INFINITY", "NaN", "POSITIVE_INFINITY"],
  Math: ["E", "LN10", "LN2", "LOG10E", "LOG2E", "PI", "SQRT1_2", "SQRT2", "abs", "acos", "asin", "atan", "atan2",
    "ceil", "clip", "cos", "exp", "floor", "log", "max", "min", "pow", "randInt", "random", "round", "sign", "sin",
    "sqrt", "tan", "wrap"],
  Date: ["now", "parse"],
  Promise: ["all", "reject", "resolve"],
  JSON: ["parse", "stringify"],
  ArrayBuffer: [],
  DataView: [],
  Function: [],
  Boolean: [],
  RegExp: [],
  Error: [],
  TypeError: [],
  ReferenceError: [],
  SyntaxError: [],
  InternalError: [],
  ...Object.fromEntries(TYPED_ARRAYS.map((t) => [t, []])),
};

/** Advice for the static members people reach for most. */
const STATIC_ADVICE: Record<string, string> = {
  "Array.from": "loop and push, or `[].slice.call(arrayLike)` / `new Uint8Array(typed)` for typed arrays",
  "Array.of": "use an array literal",
  "Object.setPrototypeOf": "build the object with Object.create(proto) and copy fields, or prefer composition",
  "Object.freeze": "drop it (Espruino cannot freeze); keep constants in `const` and do not mutate them",
  "Object.isFrozen": "drop it (Espruino cannot freeze)",
  "Object.seal": "drop it (Espruino cannot seal)",
  "Object.is": "use === (and x !== x for NaN)",
  "Promise.race": "resolve a shared callback from each promise yourself",
  "Promise.allSettled": "map each promise with .then(v => ({ok: true, v}), e => ({ok: false, e})) and Promise.all",
  "Promise.any": "chain the promises yourself",
  "Date.UTC": "compute the epoch milliseconds yourself (days from civil date * 86400000 + time)",
  "Number.isInteger": "use typeof x === \"number\" && x % 1 === 0",
  "Number.isSafeInteger": "compare against 9007199254740991 yourself",
  "Number.isNaN": "use x !== x",
  "Number.isFinite": "use typeof x === \"number\" && isFinite(x)",
  "Number.parseFloat": "use the global parseFloat",
  "Number.parseInt": "use the global parseInt",
  "Number.MAX_SAFE_INTEGER": "write the literal 9007199254740991",
  "Number.MIN_SAFE_INTEGER": "write the literal -9007199254740991",
  "Number.EPSILON": "write the literal 2.220446049250313e-16",
  "Math.trunc": "use x < 0 ? Math.ceil(x) : Math.floor(x) (or x | 0 within 32 bits)",
  "Math.imul": "multiply 16-bit halves yourself, or keep the product below 2^53 and use | 0",
  "Math.log2": "use Math.log(x) / Math.LN2",
  "Math.log10": "use Math.log(x) / Math.LN10",
  "Math.hypot": "use Math.sqrt(a * a + b * b) (mind Espruino's imprecise sqrt)",
  "ArrayBuffer.isView": "test `x && x.buffer instanceof ArrayBuffer`",
  "String.raw": "write the string with escapes",
  "String.fromCodePoint": "use String.fromCharCode (text is bytes on ESP32)",
};

/**
 * Instance methods no Espruino built-in has (from src/jswrap_*.c; the compat table measured each one missing),
 * flagged wherever they are called: a call `x.name(...)` on anything. Names that user objects commonly define
 * (`keys`, `values`, `entries`, `lastIndexOf`) are left out to avoid false positives.
 */
const MISSING_METHODS: Record<string, string> = {
  finally: "use .then(f, f) with the same handler, or repeat the clean-up in then and catch",
  setUTCFullYear: "set local fields (the device runs at E.setTimeZone(0)) or build the time from epoch ms",
  setUTCMonth: "set local fields or build the time from epoch ms",
  setUTCDate: "set local fields or build the time from epoch ms",
  setUTCHours: "set local fields or build the time from epoch ms",
  setUTCMinutes: "set local fields or build the time from epoch ms",
  setUTCSeconds: "set local fields or build the time from epoch ms",
  setUTCMilliseconds: "set local fields or build the time from epoch ms",
  toLocaleDateString: "format the date fields yourself",
  toLocaleTimeString: "format the time fields yourself",
  toLocaleString: "format the value yourself",
  toDateString: "format the date fields yourself",
  toTimeString: "format the time fields yourself",
  reduceRight: "loop from the end",
  findLast: "loop from the end",
  findLastIndex: "loop from the end",
  flat: "concat the inner arrays in a loop",
  flatMap: "map, then concat in a loop",
  at: "use x[i] (and x[x.length - 1] for the last)",
  copyWithin: "copy in a loop, or typed.set(typed.subarray(...), offset)",
  toSorted: "copy with .slice() then .sort()",
  toReversed: "copy with .slice() then .reverse()",
  toSpliced: "copy with .slice() then .splice()",
  trimStart: "use .replace(/^\\s+/, \"\")",
  trimEnd: "use .replace(/\\s+$/, \"\")",
  trimLeft: "use .replace(/^\\s+/, \"\")",
  trimRight: "use .replace(/\\s+$/, \"\")",
  codePointAt: "use charCodeAt (text is bytes on ESP32)",
  localeCompare: "compare with < and >",
  matchAll: "loop with a /g regex and exec()",
  toPrecision: "format with toFixed or yourself",
  toExponential: "format the number yourself",
  getBigInt64: "read two 32-bit halves",
  getBigUint64: "read two 32-bit halves",
  setBigInt64: "write two 32-bit halves",
  setBigUint64: "write two 32-bit halves",
};

/** Built-ins a class may not extend on Espruino (extends Error/Array fail, Map/Set do not exist). */
const BUILTIN_CLASSES = new Set(["Error", "TypeError", "ReferenceError", "SyntaxError", "InternalError",
  "RangeError", "EvalError", "URIError", "AggregateError", "Array", "Map", "Set", "WeakMap", "WeakSet", "Promise",
  "RegExp", "Date", "String", "Number", "Boolean", "Object", "Function", "ArrayBuffer", "DataView",
  ...TYPED_ARRAYS]);

/** Callbacks these methods call before they return, so they run "now" for the hoisting and loop rules. */
const SYNC_CALLBACK_METHODS = new Set(["forEach", "map", "filter", "some", "every", "find", "findIndex", "reduce",
  "sort", "replace", "replaceAll"]);

// ---------------------------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------------------------

/**
 * Checks one bundle. Returns every problem found, sorted by position; an empty array means the bundle passes.
 * A bundle that does not parse yields a single `parse-error`.
 */
/**
 * A board bundle's parts (build.ts PARTS) sit after its code inside a comment, and run later as global assignments
 * inside the loader (firmware/update/part-loader.ts). For the checks they are taken out of the comment in place (the
 * same length, so positions stay the file's), and the names they make (their drop texts, `delete global.x`) are
 * globals the core may use.
 */
export function uncommentParts(source: string): { source: string; names: string[] } {
  const at = source.lastIndexOf("\n/*\n//P0:");
  if (at < 0 || !source.endsWith("*/\n")) return { source, names: [] };
  const tail = source.slice(at);
  const names = [...tail.matchAll(/delete global\.([\w$]+);/g)].map((m) => m[1]);
  return { source: source.slice(0, at) + "\n  " + tail.slice(3, -3) + "  \n", names };
}

export function checkBundle(source: string, file: string, opts: CheckOptions = {}): Diagnostic[] {
  const parts = uncommentParts(source);
  source = parts.source;
  const globals = new Set([...(opts.globals ?? ESPRUINO_GLOBALS), ...parts.names]);
  const modules = new Set(opts.modules ?? ESPRUINO_MODULES);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();

  const report = (at: Node | { line: number; column: number }, rule: string, message: string): void => {
    let line: number;
    let column: number;
    if ("type" in at) {
      line = at.loc!.start.line;
      column = at.loc!.start.column + 1;
    } else {
      line = at.line;
      column = at.column + 1;
    }
    const key = `${line}:${column}:${rule}:${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ file, line, column, rule, message });
  };

  const ast = parse(source);
  if ("error" in ast) {
    report(ast.at, "parse-error", `${ast.error} (acorn could not parse the bundle; Espruino will not either)`);
    return out;
  }
  const program = ast.program;
  if (parts.names.length) {
    // the core's own top level is inside the boot stub's `if` block; on Espruino it is global, which parts rely on
    for (const st of program.body as unknown as { type: string; consequent?: { type: string; body: unknown[] } }[]) {
      if (st.type !== "IfStatement" || !st.consequent || st.consequent.type !== "BlockStatement") continue;
      for (const d of st.consequent.body as { type: string; id?: { name: string }; declarations?: { id: { type: string; name: string } }[] }[]) {
        if ((d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id) globals.add(d.id.name);
        if (d.type === "VariableDeclaration") for (const v of d.declarations ?? []) if (v.id.type === "Identifier") globals.add(v.id.name);
      }
    }
  }

  // Scopes: analysed as a module so top-level bindings resolve statically (Espruino's top level behaves the same
  // for our purposes); direct eval is ignored so a bundle that calls eval() is still resolved.
  const scopeManager = analyze(program as unknown as ESTree.Program, {
    ecmaVersion: 2022,
    sourceType: "module",
    ignoreEval: true,
  });
  const refByIdent = new Map<Node, Reference>();
  for (const scope of scopeManager.scopes) {
    for (const ref of scope.references) refByIdent.set(ref.identifier as unknown as Node, ref);
  }
  const parent = new Map<Node, Node>();
  const typeofOperands = new Set<Node>();
  const isGlobalName = (n: Node | null | undefined, name?: string): boolean => {
    if (!n || n.type !== "Identifier" || (name !== undefined && n.name !== name)) return false;
    const ref = refByIdent.get(n);
    return ref !== undefined && ref.resolved === null;
  };

  const addedModules = new Set<string>();
  const requireCalls: Node[] = [];
  const classNodes: Node[] = [];

  fullAncestor(program as acorn.Node, (raw, _state, ancestors) => {
    const node = raw as unknown as Node;
    const up = ancestors.length >= 2 ? (ancestors[ancestors.length - 2] as unknown as Node) : undefined;
    if (up && up !== node) parent.set(node, up);
    checkSyntax(node, up, ancestors as unknown as Node[]);
  });

  function checkSyntax(node: Node, up: Node | undefined, ancestors: Node[]): void {
    switch (node.type) {
      case "ObjectPattern":
      case "ArrayPattern":
        if (!isNestedPattern(ancestors)) {
          report(node, "no-destructuring",
            "destructuring does not exist on Espruino: read each field into its own variable (`var a = o.a`)");
        }
        break;
      case "SpreadElement":
        report(node, "no-spread",
          "spread (`...x`) does not parse on Espruino: use concat/slice, fn.apply(thisArg, array) or Object.assign");
        break;
      case "RestElement":
        if (up && isFunction(up) && up.params.includes(node)) {
          report(node, "no-rest", "rest parameters do not parse on Espruino: read `arguments` with an index loop");
        }
        break;
      case "AssignmentPattern":
        if (up && isFunction(up) && up.params.includes(node)) {
          report(node, "no-default-params",
            "default parameters do not parse on Espruino: write `if (x === undefined) x = ...` in the body");
        }
        break;
      case "ChainExpression":
        report(node, "no-optional-chaining",
          "optional chaining (`?.`) does not parse on Espruino: write `a && a.b` or an explicit check");
        break;
      case "BinaryExpression":
        if (node.operator === "**") {
          report(node, "no-exponent", "`**` does not parse on Espruino: use Math.pow(a, b) (or multiply)");
        }
        break;
      case "AssignmentExpression":
        if (node.operator === "**=") {
          report(node, "no-exponent", "`**=` does not parse on Espruino: write `x = Math.pow(x, y)`");
        } else if (node.operator === "??=" || node.operator === "||=" || node.operator === "&&=") {
          const op = node.operator.slice(0, 2);
          report(node, "no-logical-assign",
            `\`${node.operator}\` does not parse on Espruino: write \`x = x ${op} y\` or an if statement`);
        }
        checkLengthAssign(node.left, node);
        break;
      case "UpdateExpression":
        checkLengthAssign(node.argument, node);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        checkFunction(node);
        break;
      case "AwaitExpression":
        if (!ancestors.some((a) => a !== node && isFunction(a) && a.async)) {
          report(node, "no-async", "`await` does not exist on Espruino: chain Promises with .then()");
        }
        break;
      case "ForOfStatement":
        if (node.await) {
          report(node, "no-async", "`for await` does not exist on Espruino: chain Promises with .then()");
        }
        break;
      case "LabeledStatement":
        report(node, "no-labels",
          `labels (\`${node.label.name}:\`) do not exist on Espruino: use a flag variable or move the loop into a ` +
          "function and return");
        break;
      case "TaggedTemplateExpression":
        report(node, "no-tagged-template",
          "tagged templates do not parse on Espruino: call the function with the string and values");
        break;
      case "TemplateElement":
        if (/\\[`$]/.test(node.value.raw)) {
          report(node, "template-escape",
            "an escaped ` or $ inside a template literal breaks on Espruino: use a quoted string and +");
        }
        break;
      case "MethodDefinition":
      case "PropertyDefinition":
        if (node.computed) {
          report(node, "no-computed-class-member",
            "computed class member names (`[k]() {}`) do not parse on Espruino: use a fixed name");
        }
        if (node.key && node.key.type === "PrivateIdentifier") {
          report(node, "no-private-fields",
            `private member \`#${node.key.name}\` does not parse on Espruino: use a plain name (e.g. \`_${node.key.name}\`)`);
        }
        break;
      case "StaticBlock":
        report(node, "no-static-block",
          "class static blocks do not parse on Espruino: run that code after the class definition");
        break;
      case "Property":
        if (node.computed && up && up.type === "ObjectExpression") {
          report(node, "no-computed-key",
            "computed keys (`{[k]: v}`) do not parse on Espruino: create the object, then assign `o[k] = v`");
        }
        break;
      case "Literal":
        if (node.bigint !== undefined) {
          report(node, "no-bigint", "BigInt literals do not exist on Espruino: use Numbers below 2^53 or bytes");
        } else if (node.regex) {
          checkRegex(node, node.regex.pattern, node.regex.flags, "literal");
        }
        break;
      case "ImportDeclaration":
      case "ExportNamedDeclaration":
      case "ExportDefaultDeclaration":
      case "ExportAllDeclaration":
      case "ImportExpression":
        report(node, "no-modules",
          "import/export do not exist on Espruino: bundle to a single script (esbuild format iife)");
        break;
      case "MetaProperty":
        if (node.meta.name === "new") {
          report(node, "no-new-target", "`new.target` does not exist on Espruino: pass a flag explicitly");
        } else {
          report(node, "no-modules", "`import.meta` does not exist on Espruino");
        }
        break;
      case "SwitchStatement": {
        const idx = node.cases.findIndex((c: Node) => c.test === null);
        if (idx >= 0 && idx < node.cases.length - 1) {
          report(node.cases[idx + 1], "case-after-default",
            "Espruino rejects a `case` after `default` (\"CASE after DEFAULT unsupported\"): move `default` last");
        }
        break;
      }
      case "ArrayExpression":
        if (node.elements.some((e: Node | null) => e === null)) {
          report(node, "array-hole", "array holes (`[1,,2]`) misparse on Espruino: write `undefined` explicitly");
        }
        break;
      case "UnaryExpression":
        if (node.operator === "typeof") typeofOperands.add(node.argument);
        break;
      case "CallExpression":
      case "NewExpression":
        checkCall(node);
        break;
      case "MemberExpression":
        checkMember(node, up);
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        classNodes.push(node);
        break;
    }
  }

  function isNestedPattern(ancestors: Node[]): boolean {
    for (let i = ancestors.length - 2; i >= 0; i--) {
      const a = ancestors[i]!;
      if (a.type === "ObjectPattern" || a.type === "ArrayPattern") return true;
      if (a.type !== "Property" && a.type !== "AssignmentPattern" && a.type !== "RestElement") return false;
    }
    return false;
  }

  function checkFunction(fn: Node): void {
    if (fn.async) {
      report(fn, "no-async",
        "async functions do not exist on Espruino: return a Promise and chain .then(), or use callbacks");
    }
    if (fn.generator) {
      report(fn, "no-generators", "generators do not exist on Espruino (esbuild also lowers async functions to " +
        "them below es2017): return an array or use a callback");
    }
    for (const p of fn.params as Node[]) {
      const id = p.type === "AssignmentPattern" ? p.left : p;
      if (id.type === "Identifier" && id.name === "undefined") {
        report(id, "undefined-param",
          "a parameter named `undefined` does not parse on Espruino: rename it and use `void 0` in the body");
      }
    }
  }

  function checkLengthAssign(target: Node, at: Node): void {
    if (target.type === "MemberExpression" && propName(target) === "length") {
      report(at, "array-length-assign",
        "assigning `.length` throws on Espruino: truncate with arr.splice(n), empty with arr.splice(0), " +
        "or build a new array");
    }
  }

  function checkMember(node: Node, up: Node | undefined): void {
    const name = propName(node);
    // methods read off a built-in prototype: Array.prototype.slice, Object.prototype.hasOwnProperty.call(...)
    const obj = node.object as Node;
    if (name !== undefined && obj.type === "MemberExpression" && propName(obj) === "prototype" &&
      obj.object.type === "Identifier" && isGlobalName(obj.object) && !isAssignTarget(node, up)) {
      report(node, "prototype-method-read",
        `\`${obj.object.name}.prototype.${name}\` is undefined on Espruino (built-in methods are not ` +
        `properties of the prototype): call it on an instance, e.g. \`${instanceHint(obj.object.name, name)}\``);
    }
    // static members a built-in constructor lacks
    if (name !== undefined && obj.type === "Identifier" && Object.prototype.hasOwnProperty.call(STATIC_MEMBERS, obj.name) &&
      isGlobalName(obj) && !isAssignTarget(node, up) && !(up?.type === "UnaryExpression" && up.operator === "typeof")) {
      const allowed = STATIC_MEMBERS[obj.name]!;
      if (!allowed.includes(name) && !FUNCTION_STATICS.includes(name)) {
        const full = `${obj.name}.${name}`;
        const advice = STATIC_ADVICE[full] ?? "it does not exist there; do without it or write it yourself";
        report(node.property, "missing-member", `\`${full}\` is undefined on Espruino: ${advice}`);
      }
    }
  }

  function checkCall(node: Node): void {
    const callee = node.callee as Node;
    // require("module")
    if (node.type === "CallExpression" && isGlobalName(callee, "require")) requireCalls.push(node);
    // Modules.addCached("name", ...) makes `name` requirable
    if (callee.type === "MemberExpression" && propName(callee) === "addCached" &&
      isGlobalName(callee.object, "Modules")) {
      const n = stringValue(node.arguments[0]);
      if (n !== undefined) addedModules.add(n);
    }
    // new RegExp("pattern", "flags")
    if (isGlobalName(callee, "RegExp") && node.arguments.length > 0) {
      const pattern = stringValue(node.arguments[0]);
      const flags = node.arguments.length > 1 ? stringValue(node.arguments[1]) : "";
      if (pattern !== undefined) checkRegex(node.arguments[0], pattern, flags ?? "", "constructor");
      else if (flags !== undefined && node.arguments[0].type === "Literal" && node.arguments[0].regex) {
        checkRegexFlags(node.arguments[1], flags, "constructor");
      }
    }
    if (callee.type !== "MemberExpression") return;
    const name = propName(callee);
    if (name === undefined) return;
    // Object.create(proto, props)
    if (name === "create" && isGlobalName(callee.object, "Object") && node.arguments.length >= 2) {
      report(callee.property, "missing-member",
        "`Object.create(proto, props)` fails on Espruino: call Object.create(proto), then assign the fields");
    }
    // JSON.stringify(x, replacer) / JSON.parse(s, reviver): Espruino ignores the second argument
    if (isGlobalName(callee.object, "JSON")) {
      const second = node.arguments[1] as Node | undefined;
      if (name === "stringify" && second && !isNullish(second)) {
        report(second, "json-replacer",
          "Espruino ignores JSON.stringify's replacer: filter or map the object before stringifying " +
          "(pass null to give an indent)");
      }
      if (name === "parse" && second) {
        report(second, "json-replacer", "Espruino ignores JSON.parse's reviver: transform the parsed object after");
      }
    }
    // instance methods no built-in has
    if (Object.prototype.hasOwnProperty.call(MISSING_METHODS, name)) {
      report(callee.property, "missing-member", `\`.${name}()\` does not exist on Espruino: ${MISSING_METHODS[name]}`);
    } else if (name === "search" && node.arguments[0]?.type === "Literal" && node.arguments[0].regex) {
      report(callee.property, "missing-member", "`.search()` does not exist on Espruino: use regex.exec(s) and .index");
    } else if (name === "normalize" && (node.arguments.length === 0 ||
      /^NF(K?)[CD]$/.test(stringValue(node.arguments[0]) ?? ""))) {
      report(callee.property, "missing-member", "`.normalize()` does not exist on Espruino: text is bytes there");
    }
  }

  // ---- regular expressions ---------------------------------------------------------------------------------

  function checkRegexFlags(at: Node, flags: string, kind: "literal" | "constructor"): void {
    // measured: g and i work; m, y, u give wrong results; s works only through the constructor (the literal
    // form is a SyntaxError)
    const ok = kind === "literal" ? "gi" : "gis";
    const bad = [...flags].filter((f) => !ok.includes(f));
    if (bad.length > 0) {
      report(at, "regex-flags",
        `regex flag(s) "${bad.join("")}" are not supported on Espruino (only ${[...ok].join(", ")} work` +
        (kind === "literal" ? "; `s` only via new RegExp" : "") + "): drop them and match explicitly");
    }
  }

  function checkRegex(at: Node, pattern: string, flags: string, kind: "literal" | "constructor"): void {
    checkRegexFlags(at, flags, kind);
    // A regex literal sits on one line: point at the offending character (after the opening slash).
    const pos = (offset: number): { line: number; column: number } | Node =>
      kind === "literal" ? { line: at.loc!.start.line, column: at.loc!.start.column + 1 + offset } : at;
    for (const issue of regexIssues(pattern)) report(pos(issue.offset), issue.rule, issue.message);
  }

  // ---- scopes: hoisting, loop closures, arguments in arrows, unknown globals --------------------------------

  /** A function that runs before the expression that creates it completes (IIFE or a synchronous callback). */
  function runsNow(fn: Node): boolean {
    const p = parent.get(fn);
    if (!p) return false;
    if ((p.type === "CallExpression" || p.type === "NewExpression") && p.callee === fn) return true;
    if (p.type === "MemberExpression" && p.object === fn && ["call", "apply"].includes(propName(p) ?? "")) {
      const gp = parent.get(p);
      return gp !== undefined && gp.type === "CallExpression" && gp.callee === p;
    }
    if (p.type === "CallExpression" && p.arguments.includes(fn) && p.callee.type === "MemberExpression" &&
      SYNC_CALLBACK_METHODS.has(propName(p.callee) ?? "")) return true;
    // the Promise executor runs synchronously inside `new Promise(...)`
    if (p.type === "NewExpression" && p.arguments[0] === fn && isGlobalName(p.callee, "Promise")) return true;
    return false;
  }

  /** The function scope whose run evaluates code written in `scope` (immediately-run functions fold outward). */
  function runScope(scope: Scope): Scope {
    let s = scope.variableScope;
    while (s.upper && s.type === "function" && runsNow(s.block as unknown as Node)) s = s.upper.variableScope;
    return s;
  }

  // No hoisting on Espruino: a function declaration, var, let, const or class is undefined until the line that
  // defines it has run. A reference in the same run (same function scope, or inside a function that runs right
  // there: an IIFE, a forEach/map/... callback, a Promise executor) placed before the definition is flagged.
  // References inside other nested functions are not: those run later, when the definition has usually run.
  // (We do not follow calls: `f(); function f(){ g() } function g(){}` reports f only.)
  for (const scope of scopeManager.scopes) {
    if (scope.type === "global" || scope.type === "class" || scope.type === "function-expression-name") continue;
    for (const variable of scope.variables) checkHoisting(variable);
  }

  function checkHoisting(variable: Variable): void {
    const def = variable.defs.find((d) => d.type === "FunctionName" || d.type === "Variable" ||
      d.type === "ClassName");
    if (!def) return;
    if (def.type === "FunctionName" && def.node.type !== "FunctionDeclaration") return;
    if (def.type === "ClassName" && def.node.type !== "ClassDeclaration") return;
    const defAt = Math.min(...variable.defs.map((d) => (d.name as unknown as Node).start));
    const home = runScope(variable.scope);
    const kind = def.type === "FunctionName" ? "function" : def.type === "ClassName" ? "class" :
      (def.parent as ESTree.VariableDeclaration | null)?.kind ?? "var";
    const defLine = (def.name as unknown as Node).loc!.start.line;
    for (const ref of variable.references) {
      const id = ref.identifier as unknown as Node;
      if (id.start >= defAt) continue;
      if (runScope(ref.from) !== home) continue;
      report(id, "no-hoisting",
        `\`${variable.name}\` is used before its ${kind} definition (line ${defLine}); Espruino does not hoist: ` +
        "move the definition above its first use");
    }
  }

  // Loop closures: Espruino shares one binding for `for (let ...)` / `for (const ... of/in)`, so every closure
  // created in the loop sees the last value.
  for (const scope of scopeManager.scopes) {
    if (scope.type !== "for") continue;
    const loop = scope.block as unknown as Node;
    const home = runScope(scope);
    for (const variable of scope.variables) {
      const reported = new Set<Node>();
      for (const ref of variable.references) {
        if (runScope(ref.from) === home) continue;
        const fn = outermostFunctionBelow(ref.from, home);
        if (!fn || reported.has(fn)) continue;
        reported.add(fn);
        report(ref.identifier as unknown as Node, "loop-closure",
          `a function created in the loop at line ${loop.loc!.start.line} captures the loop variable ` +
          `\`${variable.name}\`; Espruino shares one binding across iterations, so it will see the last value: ` +
          `pass the value in (\`arr.forEach(function (${variable.name}) {...})\` or ` +
          `\`(function (${variable.name}) {...})(${variable.name})\`)`);
      }
    }
  }

  function outermostFunctionBelow(from: Scope, home: Scope): Node | undefined {
    let fn: Node | undefined;
    for (let s: Scope | null = from; s && s !== home; s = s.upper) {
      if (s.type === "function" && !runsNow(s.block as unknown as Node)) fn = s.block as unknown as Node;
    }
    return fn;
  }

  // `arguments` inside an arrow function is wrong on Espruino (not the enclosing function's).
  for (const scope of scopeManager.scopes) {
    for (const ref of scope.references) {
      if (ref.identifier.name !== "arguments") continue;
      let s: Scope | null = ref.from;
      while (s && s.type !== "function" && s.type !== "global" && s.type !== "module") s = s.upper;
      if (s && (s.block as unknown as Node).type === "ArrowFunctionExpression") {
        report(ref.identifier as unknown as Node, "arrow-arguments",
          "`arguments` inside an arrow function is wrong on Espruino: use a `function` expression, or read " +
          "`arguments` in the enclosing function into a variable first");
      }
    }
  }

  // Globals the board lacks.
  const implicitGlobals = new Set<string>();
  const globalScope = scopeManager.globalScope!;
  for (const ref of globalScope.through) {
    if (ref.isWriteOnly()) implicitGlobals.add(ref.identifier.name);
  }
  for (const ref of globalScope.through) {
    const id = ref.identifier as unknown as Node;
    const name = id.name as string;
    if (globals.has(name) || implicitGlobals.has(name) || typeofOperands.has(id) || guardedByTypeof(id)) continue;
    if (name === "escape" || name === "unescape") {
      report(id, "no-escape",
        `\`${name}\` does not exist on Espruino: use encodeURIComponent/decodeURIComponent, or handle the bytes ` +
        "directly (E.toUint8Array)");
      continue;
    }
    const advice = GLOBAL_ADVICE[name] ?? "it is not defined on this board; provide it from the bundle or avoid it";
    report(id, "unknown-global", `\`${name}\` is not a global on Espruino (ESP32): ${advice}`);
  }

  /**
   * True when the reference sits in a branch that only runs after a `typeof` test of the same name, or of another
   * name the board lacks (environment detection, as UMD wrappers do: `typeof exports === "object" ?
   * module.exports = f() : ...`, `"undefined" != typeof window && window.crypto`, esbuild's `typeof x > "u"`).
   * `typeof` of an undeclared name works on Espruino, so such code is safe there.
   */
  function guardedByTypeof(id: Node): boolean {
    let child = id;
    for (let p = parent.get(id); p; child = p, p = parent.get(p)) {
      let test: Node | undefined;
      if ((p.type === "IfStatement" || p.type === "ConditionalExpression") && child !== p.test) test = p.test;
      else if (p.type === "LogicalExpression" && child === p.right) test = p.left;
      if (test && someNode(test, (n) => n.type === "UnaryExpression" && n.operator === "typeof" &&
        isGlobalName(n.argument) && (n.argument.name === id.name || !globals.has(n.argument.name)))) return true;
    }
    return false;
  }

  // require() of modules the board does not have.
  for (const call of requireCalls) {
    const arg = call.arguments[0] as Node | undefined;
    const name = stringValue(arg);
    if (name === undefined) {
      report(call, "unknown-module",
        "require() with a non-literal name cannot be checked: write the module name as a string literal");
    } else if (!modules.has(name) && !addedModules.has(name)) {
      const hint = name.startsWith(".") || name.startsWith("/")
        ? "bundle it instead (Espruino has no relative require)"
        : `Espruino's ESP32 build has only: ${[...modules].join(", ")}`;
      report(arg!, "unknown-module", `require("${name}") is not a built-in module on the board: ${hint}`);
    }
  }

  // Class hierarchies: extends of built-ins, and chains deeper than one level.
  for (const cls of classNodes) {
    const sup = cls.superClass as Node | null;
    if (!sup) continue;
    if (sup.type === "Identifier" && isGlobalName(sup) && BUILTIN_CLASSES.has(sup.name)) {
      report(sup, "extends-builtin",
        `extending \`${sup.name}\` is broken on Espruino: use a plain class (or for errors, ` +
        "`var e = new Error(msg); e.code = ...; throw e`) and wrap the built-in instead of extending it");
      continue;
    }
    const base = resolveClass(sup);
    if (base && base.superClass) {
      const baseName = base.id?.name ?? (sup.type === "Identifier" ? sup.name : "its parent");
      report(sup, "extends-depth",
        `this class extends \`${baseName}\`, which itself extends another class: Espruino looks super up from ` +
        "`this`, so hierarchies deeper than one level recurse until the stack overflows. Flatten the hierarchy " +
        "or use composition");
    }
  }

  function resolveClass(expr: Node): Node | undefined {
    if (expr.type === "ClassExpression") return expr;
    if (expr.type !== "Identifier") return undefined;
    const ref = refByIdent.get(expr);
    const v = ref?.resolved;
    if (!v) return undefined;
    for (const d of v.defs) {
      const n = d.node as unknown as Node;
      if (d.type === "ClassName") return n;
      if (d.type === "Variable" && n.init && n.init.type === "ClassExpression") return n.init;
    }
    return undefined;
  }

  out.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

type Parsed = { program: Node } | { error: string; at: { line: number; column: number } };

function parse(source: string): Parsed {
  const base: acorn.Options = {
    ecmaVersion: "latest",
    locations: true,
    ranges: true, // eslint-scope reads node.range
    allowHashBang: true,
    allowReturnOutsideFunction: true,
  };
  try {
    return { program: acorn.parse(source, { ...base, sourceType: "script" }) as unknown as Node };
  } catch (scriptErr) {
    // import/export and top-level await only parse as a module; parse that way so they can be reported by rule
    try {
      return { program: acorn.parse(source, { ...base, sourceType: "module" }) as unknown as Node };
    } catch {
      const e = scriptErr as Error & { loc?: { line: number; column: number } };
      return { error: e.message, at: e.loc ?? { line: 1, column: 0 } };
    }
  }
}

/** Whether `pred` holds for `root` or any node below it. */
function someNode(root: Node, pred: (n: Node) => boolean): boolean {
  if (pred(root)) return true;
  for (const key of Object.keys(root)) {
    if (key === "loc" || key === "range") continue;
    const v = root[key];
    const kids: unknown[] = Array.isArray(v) ? v : [v];
    for (const k of kids) {
      if (k && typeof k === "object" && typeof (k as Node).type === "string" && someNode(k as Node, pred)) return true;
    }
  }
  return false;
}

function isFunction(n: Node): boolean {
  return n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression";
}

/** The property name of a member expression when it is static (`a.b` or `a["b"]`). */
function propName(m: Node): string | undefined {
  if (!m.computed && m.property.type === "Identifier") return m.property.name;
  if (m.computed && m.property.type === "Literal" && typeof m.property.value === "string") return m.property.value;
  return undefined;
}

/** The value of a string literal or of a template literal without substitutions. */
function stringValue(n: Node | undefined): string | undefined {
  if (!n) return undefined;
  if (n.type === "Literal" && typeof n.value === "string") return n.value;
  if (n.type === "TemplateLiteral" && n.expressions.length === 0) return n.quasis[0].value.cooked ?? undefined;
  return undefined;
}

function isNullish(n: Node): boolean {
  if (n.type === "Literal" && n.value === null && !n.regex) return true;
  if (n.type === "Identifier" && n.name === "undefined") return true;
  return n.type === "UnaryExpression" && n.operator === "void";
}

function isAssignTarget(node: Node, up: Node | undefined): boolean {
  if (!up) return false;
  if (up.type === "AssignmentExpression" && up.left === node) return true;
  if (up.type === "UpdateExpression") return true;
  if (up.type === "UnaryExpression" && up.operator === "delete") return true;
  return false;
}

function instanceHint(ctor: string, method: string): string {
  switch (ctor) {
    case "Array": return `[].${method}.call(...)`;
    case "String": return `"".${method}.call(...)`;
    case "Object": return method === "hasOwnProperty" ? "obj.hasOwnProperty(key)" : `({}).${method}.call(...)`;
    case "Function": return `(function () {}).${method}`;
    default: return `instance.${method}(...)`;
  }
}

export interface RegexIssue {
  /** Offset into the pattern source. */
  offset: number;
  rule: "regex-quantifier" | "regex-backreference" | "regex-unsupported";
  message: string;
}

/**
 * Walks a regex pattern the way Espruino's engine (src/jswrap_regexp.c) reads it and returns what it cannot do.
 * Espruino matches single characters, `.`, `[...]` classes, the escapes \d \D \s \S \w \W \f \n \r \t \v \0 \xHH,
 * `*` and `+` after a single character or class, `(`/`)` as capture markers, `^`, `$` and a top-level `|`.
 * Everything else either throws or is taken as a literal character, so the regex silently stops matching.
 */
export function regexIssues(pattern: string): RegexIssue[] {
  const issues: RegexIssue[] = [];
  const add = (offset: number, rule: RegexIssue["rule"], message: string): void => {
    issues.push({ offset, rule, message });
  };
  const NO_Q = "Espruino's regex engine has only `*` and `+` on a single character or class";
  let depth = 0;
  let last: "none" | "atom" | "group" | "quant" = "none";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const e = pattern[i + 1] ?? "";
      if (e >= "1" && e <= "9") {
        add(i, "regex-backreference", "backreferences (`\\1`) throw on Espruino: compare the captured groups in code");
      } else if (e === "k" && pattern[i + 2] === "<") {
        add(i, "regex-backreference", "named backreferences (`\\k<name>`) do not exist on Espruino: compare in code");
      } else if (e === "b" || e === "B") {
        add(i, "regex-unsupported",
          `\`\\${e}\` (word boundary) is not supported on Espruino (\\b matches a backspace): test the neighbouring ` +
          "characters in code");
      } else if (e === "u" || e === "p" || e === "P" || e === "c") {
        add(i, "regex-unsupported",
          `\`\\${e}\` escapes are not understood by Espruino's regex engine: write the character itself or \\xHH`);
      }
      i += e === "x" ? 3 : 1;
      last = "atom";
      continue;
    }
    if (c === "[") {
      // a class runs to the next unescaped `]`
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== "]") {
        if (pattern[j] === "\\") {
          const e = pattern[j + 1] ?? "";
          if (e === "u" || e === "p" || e === "P" || e === "c") {
            add(j, "regex-unsupported",
              `\`\\${e}\` escapes are not understood by Espruino's regex engine: write the character or \\xHH`);
          }
          j++;
        }
        j++;
      }
      i = j;
      last = "atom";
      continue;
    }
    if (c === "(") {
      if (pattern[i + 1] === "?") {
        const kind = pattern.startsWith("(?:", i) ? "non-capturing groups `(?:`"
          : pattern.startsWith("(?=", i) || pattern.startsWith("(?!", i) ? "lookahead"
          : pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i) ? "lookbehind" : "named groups `(?<name>`";
        add(i, "regex-quantifier",
          `${kind} do not work on Espruino (the \`?\` is read as a literal character, so the regex never matches):` +
          " use a plain group or check in code");
        i++; // the `?` belongs to the group syntax, not a quantifier
        if (depth > 0) {
          add(i - 1, "regex-unsupported",
            "nested groups capture the wrong text on Espruino: use one level of groups, or split the match in code");
        }
      } else if (depth > 0) {
        add(i, "regex-unsupported",
          "nested groups capture the wrong text on Espruino: use one level of groups, or split the match in code");
      }
      depth++;
      last = "none";
      continue;
    }
    if (c === ")") {
      if (depth > 0) depth--;
      last = "group";
      continue;
    }
    if (c === "|") {
      if (depth > 0) {
        add(i, "regex-unsupported",
          "`|` inside a group does not work on Espruino (alternation is only understood at the top level): " +
          "use separate regexes or top-level alternatives");
      }
      last = "none";
      continue;
    }
    if (c === "?") {
      add(i, "regex-quantifier",
        (last === "quant" ? "lazy quantifiers (`*?`, `+?`) fail" : "the `?` quantifier silently fails") +
        ` on Espruino (${NO_Q}): write the alternatives out, or validate without a regex`);
      last = "quant";
      continue;
    }
    if (c === "*" || c === "+") {
      if (last === "group") {
        add(i, "regex-quantifier",
          `\`${c}\` after a group silently fails on Espruino (${NO_Q}): repeat in code, or quantify a single class`);
      }
      last = "quant";
      continue;
    }
    if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m) {
        add(i, "regex-quantifier",
          `\`${m[0]}\` quantifiers silently fail on Espruino (${NO_Q}): repeat the class, or check lengths in code`);
        i += m[0].length - 1;
        last = "quant";
        continue;
      }
    }
    last = "atom";
  }
  return issues;
}
