import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OnLoadArgs, OnLoadResult, PluginBuild } from "esbuild";
import { cryptoJsForEspruino } from "../../build.ts";

/** The plugin's onLoad callback, without running esbuild. */
function loader(): (path: string) => string {
  let cb: ((a: OnLoadArgs) => OnLoadResult) | null = null;
  cryptoJsForEspruino().setup({ onLoad: (_o: unknown, f: (a: OnLoadArgs) => OnLoadResult) => (cb = f) } as unknown as PluginBuild);
  return (path) => String((cb as (a: OnLoadArgs) => OnLoadResult)({ path } as OnLoadArgs).contents);
}

describe("crypto-js patched for Espruino at build time", () => {
  const load = loader();

  it("puts SHA-256's constants in as FIPS 180-4 tables instead of computing them", () => {
    const src = load("node_modules/crypto-js/sha256.js");
    const K = JSON.parse(/var K = (\[[^\]]*\]);/.exec(src)![1]) as number[];
    const H = JSON.parse(/var H = (\[[^\]]*\]);/.exec(src)![1]) as number[];
    assert.equal(K.length, 64);
    assert.equal(K[0] >>> 0, 0x428a2f98);
    assert.equal(K[63] >>> 0, 0xc67178f2);
    assert.equal(H[0] >>> 0, 0x6a09e667);
    assert.equal(H[7] >>> 0, 0x5be0cd19);
    assert.match(src, /\(function \(\) \{ return;/); // the code that computed them no longer runs
  });

  it("replaces the array-length assignment, the undefined parameter and escape/unescape", () => {
    const core = load("node_modules/crypto-js/core.js");
    assert.doesNotMatch(core, /words\.length = /);
    assert.doesNotMatch(core, /\bescape\(|\bunescape\(/);
    assert.doesNotMatch(load("node_modules/crypto-js/cipher-core.js"), /function \(undefined\)/);
  });

  it("fails the build when a patch target is missing (a crypto-js upgrade moved the code)", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "cjs-")), "crypto-js");
    mkdirSync(dir);
    writeFileSync(join(dir, "core.js"), "var words = []; // nothing to patch here\n");
    assert.throws(() => load(join(dir, "core.js")), /patch target not found exactly once/);
  });
});
