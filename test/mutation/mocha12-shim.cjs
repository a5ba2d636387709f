// @stryker-mutator/mocha-runner 10.1 requires mocha's CLI helpers without a file extension
// (`mocha/lib/cli/run-helpers`, `options`, `collect-files`); mocha 12 ships them as `.cjs`, which `require` does not
// try on its own. This preload lets a missing `mocha/lib/cli/<name>` resolve to `<name>.cjs`. Loaded in Stryker's
// own process (test/mutation/run.ts) and in its test-runner processes (testRunnerNodeArgs in base.mjs).
// Remove it once the mocha runner resolves mocha 12's files itself.
"use strict";
const Module = require("node:module");
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  try {
    return original.call(this, request, parent, isMain, options);
  } catch (e) {
    if (/[\\/]mocha[\\/]lib[\\/]cli[\\/][a-z-]+$/.test(request)) return original.call(this, request + ".cjs", parent, isMain, options);
    throw e;
  }
};
