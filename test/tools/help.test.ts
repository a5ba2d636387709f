/** The technician's commands print their usage with --help and exit 0, touching no device. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function help(tool: string, flag = "--help"): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/" + tool + ".ts", flag], { encoding: "utf8", timeout: 30000 });
  return { status: r.status, stdout: r.stdout };
}

describe("technician tools: --help", function () {
  this.timeout(60000);

  for (const [tool, words] of [
    ["flash", /usage: npm run flash -- --board BOARD --port PORT/],
    ["provision", /usage: npm run provision -- --board BOARD --port PORT --terminal-id N[\s\S]*LOCKS the secure element/],
    ["diagnose", /usage: npm run diagnose -- --board BOARD --port PORT[\s\S]*journal/],
    ["sign-update", /usage: npx tsx tools\/sign-update.ts --key/],
  ] as const) {
    it(tool + " --help prints its usage and exits 0", () => {
      const r = help(tool);
      assert.equal(r.status, 0);
      assert.match(r.stdout, words);
    });
  }

  it("-h does the same", () => {
    const r = help("flash", "-h");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: npm run flash/);
  });
});
