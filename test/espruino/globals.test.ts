/**
 * The bundle's top level is the interpreter's global scope (build.ts ESPRUINO_GLOBALS says why): none of its
 * names may hide one of the interpreter's own (`E`, `D4`, `Serial2`…), and the build's list of those must be the
 * interpreter's. The second check runs on the real interpreter (ESPRUINO=…) and skips, saying so, without it.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@babel/parser";
import { compile, ESPRUINO_GLOBALS } from "../../build.ts";
import { interpreter, runOnInterpreter } from "./interpreter.ts";

/** Names the program declares at its top level, also inside top-level blocks (the boot stub's `if`). */
function topLevelNames(code: string): string[] {
  const names: string[] = [];
  const visit = (body: { type: string }[]) => {
    for (const n of body as Array<Record<string, unknown> & { type: string }>) {
      if (n.type === "VariableDeclaration") for (const d of n.declarations as { id: { type: string; name: string } }[]) if (d.id.type === "Identifier") names.push(d.id.name);
      if ((n.type === "FunctionDeclaration" || n.type === "ClassDeclaration") && n.id) names.push((n.id as { name: string }).name);
      if (n.type === "BlockStatement") visit(n.body as { type: string }[]);
      if (n.type === "IfStatement") {
        for (const b of [n.consequent, n.alternate] as ({ type: string; body?: { type: string }[] } | null)[]) if (b && b.type === "BlockStatement") visit(b.body as { type: string }[]);
      }
    }
  };
  visit(parse(code, { sourceType: "script" }).program.body);
  return names;
}

describe("the bundle's top level is the interpreter's global scope", function () {
  this.timeout(60000);

  it("declares hundreds of short names there, none of them one of the interpreter's", () => {
    const names = topLevelNames(readFileSync("dist/devkit.js", "latin1"));
    // a bundle wrapped in a function would declare a handful here (the literal constants the build writes where
    // they are used are not declared at all: build.ts inlineLiteralConstants)
    assert.ok(names.length > 200, names.length + " top-level names");
    const reserved = new Set(ESPRUINO_GLOBALS);
    assert.deepEqual(names.filter((n) => reserved.has(n)), []);
  });

  it("keeps a name the code declares at the top level off the interpreter's even when it is one of theirs (E, D4)", async () => {
    // a module whose own top-level names are the interpreter's: the build renames them
    const dir = mkdtempSync(join(tmpdir(), "globals-"));
    writeFileSync(join(dir, "m.ts"), "export const E = 1; export function D4() { return 2; }\n");
    const code = await compile(`import { E, D4 } from ${JSON.stringify(join(dir, "m.ts"))};\nprint(E + D4());\n`, "g.entry.ts", []);
    const names = topLevelNames(code);
    assert.ok(!names.includes("E") && !names.includes("D4"), names.join(","));
  });

  it("has the interpreter's own global names in the build's list (ESPRUINO=…)", async function () {
    const bin = interpreter();
    if (!bin) {
      console.log("      skipped: ESPRUINO is unset; with it, this reads the interpreter's global names");
      return this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), "globals-"));
    const f = join(dir, "g.js");
    writeFileSync(f, 'print("NAMES "+JSON.stringify(Object.getOwnPropertyNames(global)));\nquit();\n');
    const r = await runOnInterpreter(bin, f, 20000);
    const line = r.lines.find((l) => l.startsWith("NAMES "));
    assert.ok(line, r.lines.join("\n"));
    const theirs = JSON.parse(line.slice(6)) as string[];
    assert.ok(theirs.length > 100);
    const mine = new Set(ESPRUINO_GLOBALS);
    assert.deepEqual(theirs.filter((n) => !mine.has(n)), []);
  });
});
