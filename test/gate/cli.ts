/**
 * The Espruino gate from the command line: checks built bundles and prints one line per problem,
 * `file:line:col rule message`; exits 1 if there is any problem (or a file cannot be read), 0 otherwise.
 *
 *   tsx test/gate/cli.ts dist/devkit.js dist/selftest.js
 */
import { readFileSync } from "node:fs";
import { checkBundle } from "./espruino-gate.ts";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: tsx test/gate/cli.ts <bundle.js> [more.js ...]");
  process.exit(2);
}
let problems = 0;
for (const file of files) {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (e) {
    console.log(`${file}:1:1 unreadable ${(e as Error).message}`);
    problems++;
    continue;
  }
  for (const d of checkBundle(source, file)) {
    console.log(`${d.file}:${d.line}:${d.column} ${d.rule} ${d.message}`);
    problems++;
  }
}
if (problems > 0) console.error(`espruino gate: ${problems} problem(s) in ${files.length} file(s)`);
process.exit(problems > 0 ? 1 : 0);
