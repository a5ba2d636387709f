/**
 * Runs the Espruino gate over what the build produced: every bundle listed in dist/size-report.json
 * (`{ bundles: [{ file: "dist/devkit.js", ... }] }`) plus dist/selftest.js. `npm test` builds before mocha, so a
 * missing report or bundle is a failure ("run npm run build first"), never a pass.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkBundle } from "./espruino-gate.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const reportFile = "dist/size-report.json";
const alwaysChecked = ["dist/selftest.js"];

/** The bundle files to check, or the reason the list cannot be had. */
function bundleList(): { files: string[] } | { problem: string } {
  const path = join(root, reportFile);
  if (!existsSync(path)) return { problem: `${reportFile} is missing: run npm run build first` };
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return { problem: `${reportFile} is not valid JSON (${(e as Error).message}): run npm run build again` };
  }
  const bundles = (report as { bundles?: unknown }).bundles;
  if (!Array.isArray(bundles) || bundles.length === 0) {
    return { problem: `${reportFile} lists no bundles (expected { bundles: [{ file: "dist/x.js" }] })` };
  }
  const files: string[] = [];
  for (const b of bundles) {
    const file = (b as { file?: unknown } | null)?.file;
    if (typeof file !== "string") return { problem: `${reportFile} has a bundle without a "file": ${JSON.stringify(b)}` };
    if (file.endsWith(".js") && !files.includes(file)) files.push(file);
  }
  for (const f of alwaysChecked) if (!files.includes(f)) files.push(f);
  return { files };
}

describe("Espruino gate over the built bundles", () => {
  const list = bundleList();
  if ("problem" in list) {
    it("finds the build's size report", () => assert.fail(list.problem));
    return;
  }
  for (const file of list.files) {
    it(`${file} passes the gate`, () => {
      const path = join(root, file);
      assert.ok(existsSync(path), `${file} is missing: run npm run build first`);
      const problems = checkBundle(readFileSync(path, "utf8"), file);
      assert.deepEqual(problems.map((d) => `${d.file}:${d.line}:${d.column} ${d.rule} ${d.message}`), []);
    });
  }
});
