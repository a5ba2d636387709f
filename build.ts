/**
 * TypeScript -> one Espruino file per board, plus dist/selftest.js, each within its board's budget.
 *
 * Pipeline (verified on the interpreter, see ../shared/espruino-notes.md "A build that runs there"):
 *   esbuild, bundle at target es2015 (no ES5 class lowering, which Espruino cannot run)
 *   -> Babel with only the destructuring, spread and parameters transforms, assumptions set so no helpers appear
 *   -> terser with compress.unused off (it would move `var`s, and Espruino does not hoist).
 *
 *   npx tsx build.ts            build every board and the self-test; fail if a bundle is over budget
 *   ESPRUINO=/path/espruino     also measure JsVars on that interpreter
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transformSync, types as t } from "@babel/core";
import type { NodePath, PluginObj } from "@babel/core";
import { build as esbuild } from "esbuild";
import type { Plugin } from "esbuild";
import { minify } from "terser";
import type { BoardDef } from "./boards/board.ts";
import { BOOT_STUB, BOOT_STUB_END } from "./firmware/update/boot-stub.ts";
import { partLoader, partMark } from "./firmware/update/part-loader.ts";
import { PART_ORDERS, PART_PRINT, PART_SCREENS, PART_SESSIONS } from "./firmware/parts.ts";
import type { PartPlace } from "./firmware/update/part-loader.ts";
import { cutParts, PART_BEGIN, splitParts } from "./build-parts.ts";
import type { CutParts, PartSpec } from "./build-parts.ts";
import { bootOnInterpreter, interpreter } from "./test/espruino/interpreter.ts";
import { espruinoName } from "./sim/engine/engine.ts";

const ROOT = dirname(fileURLToPath(import.meta.url));
const DIST = join(ROOT, "dist");

/**
 * Each board: its file in boards/, the name of its exported BoardDef and of the function that makes its device (the
 * bundle's entry calls that alone, so the board's descriptive data stays out of the device's RAM). Adding a board
 * is one line here.
 */
export const BOARDS: { name: string; file: string; export: string; device: string }[] = [
  { name: "devkit", file: "boards/devkit.ts", export: "devkit", device: "createDevkit" },
];

/**
 * Module groups a board bundle evaluates from flash only while a flow needs them, and lets go at idle
 * (firmware/update/part-loader.ts; docs/architecture.md "Memory"). Their functions cost no JsVars at idle.
 */
export const PARTS: PartSpec[] = [
  {
    name: "sessions",
    files: [
      "firmware/app/pay.ts",
      "firmware/app/session-radio.ts",
      "protocol/qr-session.ts",
      "protocol/ble-session.ts",
      "protocol/ble-frames.ts",
      "protocol/messages.ts",
      "protocol/entry.ts",
      "firmware/app/limits.ts",
      "protocol/check.ts",
      "protocol/ids.ts",
      "protocol/rules.ts",
    ],
  },
  // receipts and printouts: each job is made whole (bytes) before the printer takes it
  {
    name: "print",
    files: ["firmware/receipt/receipt.ts", "firmware/receipt/common.ts", "firmware/receipt/report.ts", "hal/escpos.ts"],
  },
  // the screens that are not idle's, each open only while the merchant or technician uses it
  {
    name: "screens",
    files: [
      "firmware/screens/menu.ts",
      "firmware/screens/order.ts",
      "firmware/screens/refund.ts",
      "firmware/screens/report.ts",
      "firmware/screens/tech.ts",
      "firmware/screens/update.ts",
      "firmware/app/refund.ts",
      "firmware/update/updater.ts",
      "firmware/tech/diagnose.ts",
      "firmware/tech/menu.ts",
      "firmware/update/min-version.ts",
    ],
  },
  // invoices and store orders: a wallet payment does not need them, so a payment lets them go as it opens
  {
    name: "orders",
    files: ["firmware/app/invoice.ts", "firmware/app/order.ts", "protocol/order-link.ts"],
  },
];
// firmware/parts.ts names the parts by their place here (the terminal lets some go alone)
const PART_ORDER: [number, string][] = [[PART_SESSIONS, "sessions"], [PART_PRINT, "print"], [PART_SCREENS, "screens"], [PART_ORDERS, "orders"]];
if (PART_ORDER.some(([k, name]) => !PARTS[k] || PARTS[k].name !== name))
  throw new Error("build.ts PARTS: not in the order firmware/parts.ts names them");

export interface BundleReport {
  name: string;
  file: string;
  bytes: number;
  budgetBytes: number;
  /** JsVars in use once loaded and idle, measured on an interpreter; null when none was given. */
  jsVars: number | null;
  budgetJsVars: number | null;
  note: string;
  ok: boolean;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  let sha = "dev";
  try {
    sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  return pkg.version + "+" + sha;
}

/** SHA-256's initial hash values and round constants (FIPS 180-4 §4.2.2, §5.3.3), as crypto-js computes them. */
function sha256Constants(): { H: number[]; K: number[] } {
  const H: number[] = [];
  const K: number[] = [];
  const frac = (x: number) => ((x - (x | 0)) * 0x100000000) | 0;
  for (let n = 2, p = 0; p < 64; n++) {
    let prime = true;
    for (let f = 2; f * f <= n; f++) if (n % f === 0) prime = false;
    if (!prime) continue;
    if (p < 8) H.push(frac(Math.sqrt(n)));
    K.push(frac(Math.cbrt(n)));
    p++;
  }
  return { H, K };
}

/**
 * crypto-js 4.2.0 as Espruino can run it (espruino-notes.md "Crypto on the device"), patched while it is bundled:
 * SHA-256's constants as literal tables (Espruino's Math.sqrt/Math.pow are inexact, so crypto-js computes wrong
 * round constants and even misjudges 9 as prime), `words.length = n` (throws on Espruino) as a splice, the
 * `function (undefined)` wrapper (a parameter Espruino cannot parse), and the UTF-8 helpers, which need
 * escape/unescape (absent; the firmware passes bytes). Every patch must match exactly once, so an upgrade of
 * crypto-js that moves the code fails the build instead of shipping unpatched.
 */
export function cryptoJsForEspruino(): Plugin {
  const { H, K } = sha256Constants();
  const patches: Record<string, [string, string][]> = {
    "core.js": [
      ["words.length = Math.ceil(sigBytes / 4);", "words.splice(Math.ceil(sigBytes / 4));"],
      ["return decodeURIComponent(escape(Latin1.stringify(wordArray)));", "throw new Error('crypto-js Utf8: not on Espruino');"],
      ["return Latin1.parse(unescape(encodeURIComponent(utf8Str)));", "throw new Error('crypto-js Utf8: not on Espruino');"],
    ],
    "cipher-core.js": [["CryptoJS.lib.Cipher || (function (undefined) {", "CryptoJS.lib.Cipher || (function () {"]],
    "sha256.js": [
      ["var H = [];", `var H = ${JSON.stringify(H)};`],
      ["var K = [];", `var K = ${JSON.stringify(K)};`],
      ["// Compute constants\n\t    (function () {", "// Constants: literal tables above (patched for Espruino)\n\t    (function () { return;"],
    ],
  };
  return {
    name: "crypto-js-for-espruino",
    setup(b) {
      b.onLoad({ filter: /[\\/]crypto-js[\\/][a-z0-9-]+\.js$/ }, (args) => {
        const name = args.path.split(/[\\/]/).pop() as string;
        let text = readFileSync(args.path, "utf8");
        for (const [from, to] of patches[name] || []) {
          const at = text.indexOf(from);
          if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`crypto-js ${name}: patch target not found exactly once: ${from}`);
          text = text.slice(0, at) + to + text.slice(at + from.length);
        }
        return { contents: text, loader: "js" };
      });
    },
  };
}

/**
 * The interpreter's global names: Espruino 2v29's `Object.getOwnPropertyNames(global)` (measured on the
 * ESP32-shaped build, test/espruino/globals.test.ts checks the list against it), the ESP32's pins D0..D39 and the
 * ESP32 build's objects. The bundle's top level runs in the interpreter's global scope, not in a function of its
 * own, and terser gives its top-level names short names that are none of these, so the bundle never hides one.
 *
 * Why no wrapper function: a function defined inside another keeps a link to that function's scope, one JsVar for
 * each of the bundle's ~850 top-level functions and class methods; defined at the global level it needs none
 * (measured: 100 functions take 5 JsVars each inside a function, 4 at the top level; the devkit bundle idled at
 * 7,125 JsVars wrapped, 6,274 not). A wrapper also made every stack trace print the whole bundle as the name of
 * its frame, unless called through `.call` (Espruino 2v29, jslPrintStackTrace -> jsvGetString on the function).
 */
export const ESPRUINO_GLOBALS: string[] = [
  "quit", "JSON", "Function", "Object", "AES", "Array", "ArrayBuffer", "ArrayBufferView", "Boolean", "DataView", "Date", "E", "Error", "File",
  "Float32Array", "Float64Array", "Graphics", "HIGH", "I2C", "I2C1", "I2C2", "I2C3", "Infinity", "Int16Array", "Int32Array", "Int8Array",
  "InternalError", "LOW", "LoopbackA", "LoopbackB", "Math", "Modules", "NaN", "Number", "OneWire", "Pin", "Promise", "ReferenceError", "RegExp",
  "SPI", "SPI1", "SPI2", "SPI3", "Serial", "Serial1", "Serial2", "Serial3", "Serial4", "Serial5", "Serial6", "Server", "Socket", "StorageFile",
  "String", "SyntaxError", "TFMicroInterpreter", "Telnet", "TypeError", "USB", "Uint16Array", "Uint24Array", "Uint32Array", "Uint8Array",
  "Uint8ClampedArray", "Waveform", "analogRead", "analogWrite", "arguments", "atob", "btoa", "changeInterval", "clearInterval", "clearTimeout",
  "clearWatch", "console", "decodeURIComponent", "dgramSocket", "digitalPulse", "digitalRead", "digitalWrite", "dump", "echo", "edit",
  "encodeURIComponent", "eval", "getPinMode", "getSerial", "getTime", "global", "globalThis", "httpCRq", "httpCRs", "httpSRq", "httpSRs",
  "httpSrv", "isFinite", "isNaN", "load", "parseFloat", "parseInt", "peek16", "peek32", "peek8", "pinMode", "poke16", "poke32", "poke8",
  "print", "process", "require", "reset", "save", "setBusyIndicator", "setInterval", "setSleepIndicator", "setTime", "setTimeout", "setWatch",
  "shiftOut", "trace", "url",
  // the ESP32 build's own
  "NRF", "ESP32", "LED1", "BTN1", "Wifi", "Bluetooth",
].concat(Array.from({ length: 40 }, (_, i) => "D" + i));

/**
 * A Babel plugin: a top-level name of the bundle that is one of the interpreter's (a module's own `E` or `D4`) is
 * renamed, so that it cannot hide the interpreter's; terser then never makes one of them either (its `reserved`).
 */
function keepOffEspruinoGlobals(): { visitor: { Program(path: { scope: { bindings: Record<string, unknown>; rename(name: string): void } }): void } } {
  const theirs = new Set(ESPRUINO_GLOBALS);
  return {
    visitor: {
      Program(path) {
        for (const name of Object.keys(path.scope.bindings)) if (theirs.has(name)) path.scope.rename(name);
      },
    },
  };
}

/** Longest string constant written where it is used (an error code, a file name), not kept declared. */
const INLINE_STRING_MAX = 12;

/** A number, a boolean, null or a short string, as a literal (`-1` too). */
function isPlainLiteral(n: t.Node | null | undefined): n is t.Expression {
  if (!n) return false;
  if (t.isNumericLiteral(n) || t.isBooleanLiteral(n) || t.isNullLiteral(n)) return true;
  if (t.isStringLiteral(n)) return n.value.length <= INLINE_STRING_MAX;
  return t.isUnaryExpression(n) && (n.operator === "-" || n.operator === "!") && t.isNumericLiteral(n.argument);
}

/**
 * A Babel plugin: a top-level constant whose value is a number, a boolean, null or a string of at most
 * INLINE_STRING_MAX characters (`const USED = 1`, never assigned again) is written where it is used and its
 * declaration dropped. On Espruino each top-level name is a JsVar for as long as the program runs, and a string's
 * value one more or two; some 150 of them were such constants (the journal's states, the drivers' registers, error
 * codes, file names), which terser writes where they are used but keeps declared (its `unused` is off: on, it drops
 * unused variables in functions too, which broke crypto-js's AES on the interpreter). A longer string (an alphabet a
 * codec reads in its loop) stays declared: written where used, it would be made again at every use.
 */
function inlineLiteralConstants(): PluginObj {
  return {
    visitor: {
      Program(path) {
        for (const st of path.get("body")) {
          if (!st.isVariableDeclaration()) continue;
          for (const d of st.get("declarations") as NodePath<t.VariableDeclarator>[]) {
            const { id, init } = d.node;
            if (!t.isIdentifier(id) || !isPlainLiteral(init)) continue;
            const b = path.scope.getBinding(id.name);
            if (!b || !b.constant || b.constantViolations.length) continue;
            for (const r of b.referencePaths) r.replaceWith(t.cloneNode(init));
            // the statement goes with its last declarator: its comments (esbuild's module markers, which the
            // parts are found by) go to the next statement
            const next = st.node.declarations.length === 1 ? st.getSibling((st.key as number) + 1) : null;
            if (next && next.node && st.node.leadingComments) t.addComments(next.node, "leading", st.node.leadingComments);
            d.remove();
          }
        }
      },
    },
  };
}

/** Whether code under `path` (nested arrows included, other functions not) reads `arguments`. */
function readsArguments(path: NodePath): boolean {
  let reads = false;
  path.traverse({
    Identifier(p) {
      if (p.node.name === "arguments") reads = true;
    },
  });
  return reads;
}

/**
 * A Babel plugin: a function at the top level (a declaration, a class's method or constructor, a function or
 * method of an object: no other function around it) takes its parameters from `arguments` at the start of its body
 * (`function f(a, b) {…}` becomes `function f() { var a = arguments[0], b = arguments[1]; …}`). On Espruino each
 * declared parameter is a JsVar of the function for as long as it is defined (measured: 100 functions of three
 * parameters evaluated from Storage take 701 JsVars, of none 401); read from `arguments`, they exist only during a
 * call. A call costs a little more (the body is longer: about 5% for a function with a loop, a third for one that
 * only adds its arguments, on the interpreter).
 *
 * Espruino 2v29 resolves `arguments` in a nested function to the enclosing function's when that one has made its
 * own (`function f() { var k = arguments[0]; return function () { return arguments[0]; }; }`: `f(5)(6)` is 5), so a
 * function none of whose nested functions reads `arguments` is the only one of its chain that takes this form.
 * Left as they are: arrows (they have no `arguments`), getters and setters (a setter takes one parameter by
 * grammar), async functions and generators, and parameters that are not plain names.
 */
export function paramsFromArguments(): PluginObj {
  return {
    visitor: {
      Function(path) {
        const n = path.node;
        if (t.isArrowFunctionExpression(n) || !n.params.length || n.async || n.generator) return;
        if ((t.isClassMethod(n) || t.isObjectMethod(n)) && (n.kind === "get" || n.kind === "set")) return;
        if (!n.params.every((p) => t.isIdentifier(p))) return;
        if (path.findParent((p) => p.isFunction() && !p.isArrowFunctionExpression())) return;
        if (readsArguments(path)) return;
        const names = (n.params as t.Identifier[]).map((p) => p.name);
        n.params = [];
        // two or more through a local name for `arguments`, which terser shortens: `var r=arguments,a=r[0],b=r[1]`
        const args = names.length > 1 ? path.scope.generateUidIdentifier("args") : t.identifier("arguments");
        const decls = names.map((name, i) => t.variableDeclarator(t.identifier(name), t.memberExpression(t.cloneNode(args), t.numericLiteral(i), true)));
        if (names.length > 1) decls.unshift(t.variableDeclarator(args, t.identifier("arguments")));
        (path.get("body") as NodePath<t.BlockStatement>).unshiftContainer("body", t.variableDeclaration("var", decls));
      },
    },
  };
}

/** Compile one entry (TypeScript source text) to Espruino-ready JavaScript. */
export async function compile(
  entrySource: string,
  entryName: string,
  builtinModules: string[],
  defines: Record<string, string> = {},
): Promise<string> {
  return (await compileParts(entrySource, entryName, builtinModules, defines, [])).core;
}

/** Compile one entry, its `parts` cut out of the core (build-parts.ts). */
export async function compileParts(
  entrySource: string,
  entryName: string,
  builtinModules: string[],
  defines: Record<string, string>,
  parts: PartSpec[],
): Promise<CutParts> {
  const bundled = await esbuild({
    stdin: { contents: entrySource, resolveDir: ROOT, loader: "ts", sourcefile: entryName },
    bundle: true,
    write: false,
    // "cjs" keeps `require("x")` of a built-in module a plain call (iife adds a shim that reads `Proxy`). The
    // output is not wrapped in a function: see ESPRUINO_GLOBALS for why its top level is the interpreter's.
    format: "cjs",
    target: "es2015",
    platform: "neutral",
    charset: "ascii",
    legalComments: "none",
    treeShaking: true,
    define: defines,
    // The interpreter's own modules stay `require("x")` calls, resolved on the device.
    external: builtinModules,
    // qrcode-generator's "import" entry is ES2015 .mjs; its ES5 build is what runs on Espruino.
    alias: { "qrcode-generator": join(ROOT, "node_modules/qrcode-generator/dist/qrcode.js") },
    plugins: [cryptoJsForEspruino()],
    logLevel: "silent",
  });
  const found = new Set<string>();
  const lowered = transformSync(bundled.outputFiles[0].text, {
    babelrc: false,
    configFile: false,
    sourceType: "script",
    compact: false,
    assumptions: {
      iterableIsArray: true,
      arrayLikeIsIterable: false,
      objectRestNoSymbols: true,
      ignoreFunctionLength: true,
      noNewArrows: true,
    },
    plugins: [
      "@babel/plugin-transform-destructuring",
      "@babel/plugin-transform-spread",
      "@babel/plugin-transform-parameters",
      keepOffEspruinoGlobals,
      inlineLiteralConstants,
      splitParts(parts, found),
    ],
  });
  // after the parameters' lowering (defaults and rest read `arguments`), in a pass of its own
  const params = transformSync(lowered?.code ?? "", { babelrc: false, configFile: false, sourceType: "script", compact: false, plugins: [paramsFromArguments] });
  if (!lowered?.code || !params?.code) throw new Error("babel produced nothing for " + entryName);
  for (const p of parts) for (const f of p.files) if (!found.has(f)) throw new Error(`part ${p.name}: ${f} is not in the bundle`);
  const min = await minify(params.code, {
    ecma: 2015,
    // with parts, sequences off: terser moves function declarations ahead of the statements it joins, across part
    // markers. Without parts they stay on: off, terser leaves crypto-js's `var`s after their first use, which
    // Espruino does not hoist (the gate, test/gate/bundles.test.ts, refuses it)
    // `arguments` off: it would turn paramsFromArguments' reads back into parameters
    compress: { unused: false, hoist_funs: false, hoist_vars: false, sequences: !parts.length, passes: 1, arguments: false },
    // the top level's names too, never to one of the interpreter's own (ESPRUINO_GLOBALS)
    mangle: { toplevel: true, reserved: [...ESPRUINO_GLOBALS, ...PART_NAMES] },
    format: { ascii_only: true, comments: false },
  });
  if (!min.code) throw new Error("terser produced nothing for " + entryName);
  return parts.length ? cutParts(min.code, parts.length) : { core: min.code, parts: [] };
}

/** The part loader's names and the build's marker: never given to one of the bundle's own. */
const PART_NAMES = [PART_BEGIN, "__P", "__PD", "__PL", "__PR"];

/**
 * A board's file: the boot stub, the part loader, the core, the stub's end, then the parts inside a comment (never
 * run at boot; evaluated from flash by `__P`), each with the text that drops it again. Ends with a newline. The
 * loader comes first so that the core's own start may already call into a part (the deny list's load, at boot).
 */
export function assembleBundle(c: CutParts): string {
  if (!c.parts.length) return BOOT_STUB + c.core + BOOT_STUB_END + "\n";
  const id = createHash("sha256").update(JSON.stringify(c.parts)).digest("hex").slice(0, 8);
  const regions = c.parts.map((p, k) => ({ code: partMark(k, id) + p.code + "\n", drop: partMark(k, id) + p.drop + "\n" }));
  const tail = "/*\n" + regions.map((r) => r.code + r.drop).join("") + "*/\n";
  const places: PartPlace[] = [];
  let at = 3; // "/*\n"
  for (const r of regions) {
    const fromEnd = tail.length - at;
    places.push({ fromEnd, length: r.code.length, dropFromEnd: fromEnd - r.code.length, dropLength: r.drop.length });
    at += r.code.length + r.drop.length;
  }
  return BOOT_STUB + partLoader(places, id) + c.core + "\n" + BOOT_STUB_END + tail;
}

async function loadBoard(b: (typeof BOARDS)[number]): Promise<BoardDef> {
  const mod = await import(pathToFileURL(join(ROOT, b.file)).href);
  const def = mod[b.export] as BoardDef | undefined;
  if (!def) throw new Error(`${b.file} does not export ${b.export}`);
  return def;
}

/** JsVars in use once a bundle has booted and gone idle, on a real interpreter (ESPRUINO=...), if one is given. */
async function measureJsVars(bundleFile: string): Promise<{ vars: number | null; note: string }> {
  const bin = interpreter();
  if (!bin) return { vars: null, note: "no interpreter (set ESPRUINO to measure JsVars)" };
  const r = await bootOnInterpreter(bin, bundleFile);
  if (r.usage === null || r.run.errors.length) {
    return { vars: null, note: "did not boot on the interpreter: " + r.run.lines.slice(-3).join(" | ") };
  }
  const where = r.inFlash ? "code in flash, as on the ESP32" : "code copied to RAM: upper bound";
  return { vars: r.usage, note: "measured on " + espruinoName() + " (total " + r.total + ", " + where + ")" };
}

export async function buildAll(): Promise<BundleReport[]> {
  mkdirSync(DIST, { recursive: true });
  const ver = version();
  const reports: BundleReport[] = [];
  for (const b of BOARDS) {
    const def = await loadBoard(b);
    const entry =
      `import { ${b.device} } from "./${b.file}";\n` +
      `import { start } from "./firmware/main.ts";\n` +
      `start(${b.device}(__VERSION__));\n`;
    // The boot-loader stub (firmware/update/boot-stub.ts) runs first and boots a verified update instead, if any.
    const code = assembleBundle(
      await compileParts(entry, b.name + ".entry.ts", def.platform.builtinModules, { __VERSION__: JSON.stringify(ver) }, PARTS),
    );
    const file = join(DIST, b.name + ".js");
    writeFileSync(file, code);
    const boardData = {
      name: def.name,
      description: def.description,
      version: ver,
      wiring: def.wiring,
      platform: def.platform,
      budget: def.budget,
    };
    writeFileSync(join(DIST, b.name + ".board.json"), JSON.stringify(boardData, null, 2) + "\n");
    const bytes = Buffer.byteLength(code);
    const m = await measureJsVars(file);
    const okBytes = bytes <= def.budget.bundleBytes;
    // With an interpreter given, a bundle that does not boot on it fails as surely as one over budget.
    const okVars = m.vars === null ? !interpreter() : m.vars <= def.budget.idleJsVars;
    reports.push({
      name: b.name,
      file: "dist/" + b.name + ".js",
      bytes,
      budgetBytes: def.budget.bundleBytes,
      jsVars: m.vars,
      budgetJsVars: def.budget.idleJsVars,
      note: m.note,
      ok: okBytes && okVars,
    });
  }
  // Self-tests run once and exit; they are never flashed with the firmware, but the same size budget keeps them
  // loadable on the interpreter.
  const selftestBudget = (await loadBoard(BOARDS[0])).budget.bundleBytes;
  const selftest = async (name: string, note: string, entry: string) => {
    const code = await compile(entry, name + ".entry.ts", ["crypto"]);
    writeFileSync(join(DIST, name + ".js"), code + "\n");
    const bytes = Buffer.byteLength(code) + 1;
    reports.push({ name, file: "dist/" + name + ".js", bytes, budgetBytes: selftestBudget, jsVars: null, budgetJsVars: null, note, ok: bytes <= selftestBudget });
  };
  const cases = (factory: string, backend: string, list: string) =>
    `import { runCases } from "./firmware/selftest/runner.ts";\n` +
    `import { coreCases } from "./firmware/selftest/core.ts";\n` +
    `import { primitiveCases } from "./firmware/selftest/vectors.ts";\n` +
    `import { journalCases } from "./firmware/selftest/journal.ts";\n` +
    `import { protocolCases } from "./firmware/selftest/protocol.ts";\n` +
    `import { ${factory} } from "${backend}";\n` +
    `const c = ${factory}();\n` +
    `runCases(${list}, (l) => print(l));\n`;
  await selftest(
    "selftest",
    "runs once and exits (npm run test:espruino)",
    cases("builtinCrypto", "./hal/espruino/crypto.ts", "coreCases().concat(primitiveCases(c), journalCases(c), protocolCases(c))"),
  );
  // The same primitive vectors on crypto-js, the backend for a board whose Espruino has no `crypto` module.
  await selftest("selftest-cryptojs", "crypto vectors on the crypto-js backend", cases("cryptoJsBackend", "./hal/cryptojs.ts", "primitiveCases(c)"));
  writeFileSync(join(DIST, "size-report.json"), JSON.stringify({ version: ver, bundles: reports }, null, 2) + "\n");
  return reports;
}

function table(reports: BundleReport[]): string {
  const rows = [["bundle", "bytes", "budget", "JsVars idle", "budget", "ok", "note"]];
  for (const r of reports) {
    rows.push([
      r.file,
      String(r.bytes),
      String(r.budgetBytes),
      r.jsVars === null ? "-" : String(r.jsVars),
      r.budgetJsVars === null ? "-" : String(r.budgetJsVars),
      r.ok ? "yes" : "OVER",
      r.note,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildAll().then(
    (reports) => {
      console.log(table(reports));
      const over = reports.filter((r) => !r.ok);
      if (over.length) {
        console.error("over budget: " + over.map((r) => r.file).join(", "));
        process.exit(1);
      }
    },
    (err) => {
      console.error(err && err.message ? err.message : err);
      process.exit(1);
    },
  );
}
