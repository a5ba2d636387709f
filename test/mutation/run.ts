/**
 * `npm run test:mutation [-- <module>... [--force]]`: StrykerJS mutation testing of the core modules, one
 * config per module (test/mutation/<module>.config.mjs), run one after the other. No module named: all of them.
 * `--force` re-tests every mutant instead of only those the incremental file (reports/mutation/) does not know;
 * `--concurrency=2` runs two mutants at once (2 at most: the machine is shared). `--static` also tests the static mutants (module-level constants), which the routine run ignores (base.mjs).
 * Not part of `npm test` nor `.ci/run`: it takes minutes per module. docs/mutation.md says how to read the result.
 *
 * StrykerJS 10's CLI refuses Node < 22 (its package's `engines`), while this project runs on Node 20.19+ and the
 * same Stryker class works there; so this script starts Stryker through its API (`new Stryker(options)`), loaded by
 * file path because the package entry imports the CLI, whose module body runs the version check.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));

/** Module name → config file, or the reason it has none yet. */
export const MODULES: Record<string, { config?: string; placeholder?: string }> = {
  protocol: { config: "protocol.config.mjs" },
  journal: { config: "journal.config.mjs" },
  limits: { config: "limits.config.mjs" },
  update: { config: "update.config.mjs" },
  vault: { config: "vault.config.mjs" },
  gateway: { config: "gateway.config.mjs" },
  reconcile: { config: "reconcile.config.mjs" },
};

async function main(argv: string[]): Promise<number> {
  const force = argv.includes("--force");
  const withStatic = argv.includes("--static");
  const conc = argv.find((a) => a.startsWith("--concurrency="));
  const concurrency = conc ? Math.min(2, Math.max(1, parseInt(conc.slice(14), 10) || 1)) : undefined;
  const names = argv.filter((a) => !a.startsWith("--"));
  for (const n of names) {
    if (!MODULES[n]) {
      console.error(`unknown module "${n}": one of ${Object.keys(MODULES).join(", ")}`);
      return 2;
    }
  }
  const chosen = names.length ? names : Object.keys(MODULES);
  const require = createRequire(import.meta.url);
  const corePkg = require.resolve("@stryker-mutator/core/package.json");
  require("./mocha12-shim.cjs");
  const strykerJs = join(dirname(corePkg), "dist", "src", "stryker.js");
  if (!existsSync(strykerJs)) throw new Error("StrykerJS not found at " + strykerJs);
  const { Stryker } = (await import(pathToFileURL(strykerJs).href)) as {
    Stryker: new (o: Record<string, unknown>) => { runMutationTest(): Promise<Array<{ status: string }>> };
  };
  const summary: string[] = [];
  for (const name of chosen) {
    const m = MODULES[name];
    if (!m.config) {
      summary.push(`${name}: no config yet (${m.placeholder})`);
      if (names.length) console.error(`${name}: no config yet: ${m.placeholder}`);
      continue;
    }
    const options = (await import(pathToFileURL(resolve(here, m.config)).href)).default as Record<string, unknown>;
    const t0 = Date.now();
    const results = await new Stryker({ ...options, force, ...(withStatic ? { ignoreStatic: false } : {}), ...(concurrency ? { concurrency } : {}) }).runMutationTest();
    const count = (s: string[]) => results.filter((r) => s.includes(r.status)).length;
    const ignored = count(["Ignored"]);
    const detected = count(["Killed", "Timeout"]);
    const undetected = count(["Survived", "NoCoverage"]);
    const score = detected + undetected ? (100 * detected) / (detected + undetected) : 100;
    summary.push(
      `${name}: ${score.toFixed(2)}% (${detected} killed or timed out, ${count(["Survived"])} survived, ` +
        `${count(["NoCoverage"])} no coverage, ${count(["CompileError", "RuntimeError"])} errors, ${ignored} static ignored) in ${Math.round((Date.now() - t0) / 1000)} s`,
    );
  }
  console.log("\nmutation scores\n  " + summary.join("\n  "));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
