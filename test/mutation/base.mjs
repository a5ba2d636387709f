import { fileURLToPath } from "node:url";

// Shared StrykerJS settings of the per-module mutation configs (docs/mutation.md says how to run and read them).
// Each module's config names the product files it mutates and the mocha spec files that test them: only those
// run, so a module takes minutes. `npm run test:mutation -- <module>` runs one; see test/mutation/run.ts.
/**
 * @param {string} name   module name: the report and incremental files are named after it
 * @param {string[]} mutate product files mutated
 * @param {string[]} spec   mocha test files run against each mutant
 * @param {{ needsBuild?: boolean, grep?: string }} [opts] needsBuild: the tests read dist/ (run `npm run build` first);
 *   grep: a regular expression (source text) the tests' full titles must match, to leave out a slow test whose
 *   behaviours a smaller test in the spec covers
 * @returns {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
const shim = fileURLToPath(new URL("./mocha12-shim.cjs", import.meta.url));

export function moduleConfig(name, mutate, spec, opts = {}) {
  return {
    packageManager: "npm",
    testRunner: "mocha",
    plugins: ["@stryker-mutator/mocha-runner"],
    // The tests run TypeScript through tsx, as `.mocharc.json` does with node-option import=tsx.
    // mocha12-shim.cjs: see that file.
    testRunnerNodeArgs: ["--require", shim, "--import", "tsx"],
    mochaOptions: { spec, "no-config": true, "no-package": true, "no-opts": true, extension: ["ts"], ...(opts.grep ? { grep: opts.grep } : {}) },
    mutate,
    // tsx strips types without checking them, so Stryker need not add "// @ts-nocheck" to the sandbox's files
    // (it would also break test/protocol/vectors.test.ts, which compares a generated file with the committed one).
    disableTypeChecks: false,
    // The machine is shared (2 cores): one mutant at a time (`--concurrency=2` at most, when nobody else works),
    // and generous time for each: 3 times what the covering tests took in the first run, plus 10 s. A mutant
    // that loops forever counts as detected (Timeout); a long wait on each cost most of a run.
    concurrency: 1,
    timeoutMS: 10000,
    timeoutFactor: 3,
    coverageAnalysis: "perTest",
    // A static mutant (a module-level constant: the Base45 alphabet, a reject message, a page magic) can only be
    // tested by reloading every test file and running every test: 166 of them made the protocol run take hours.
    // They are left out of the routine run (reported as Ignored); `npm run test:mutation -- <module> --static`
    // runs them too. The vectors tests pin those constants byte for byte.
    ignoreStatic: true,
    // A run after a small change only re-tests mutants of changed code or of changed tests. The file is
    // committed (reports/mutation/): the next run on any checkout starts from the last recorded run;
    // `npm run test:mutation -- <module> --force` re-runs every mutant.
    incremental: true,
    incrementalFile: `reports/mutation/${name}.incremental.json`,
    reporters: ["clear-text", "progress-append-only", "json"],
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
    // Everything the tests do not need stays out of the sandbox copy.
    ignorePatterns: [...(opts.needsBuild ? [] : ["dist"]), ".sim-state", "reports", ".stryker-tmp", "*.log", "espruino.flash"],
    tempDirName: `.stryker-tmp/${name}`,
    cleanTempDir: true,
    thresholds: { high: 90, low: 85, break: null },
  };
}
