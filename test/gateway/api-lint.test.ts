/**
 * docs/gateway-api.yaml passes the Redocly linter (its `recommended` rules: OpenAPI 3.0 structure, operationIds,
 * security, 4xx responses, resolvable $refs) with no error. Warnings are printed, not failed on.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The Redocly CLI's entry script, from the installed package (no npx download, no network). */
function redoclyBin(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve("@redocly/cli/package.json");
  const bin = (req(pkgPath) as { bin: string | Record<string, string> }).bin;
  return join(dirname(pkgPath), typeof bin === "string" ? bin : (bin.redocly ?? Object.values(bin)[0]));
}

interface LintResult {
  code: number;
  out: string;
}

function lint(file: string): Promise<LintResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [redoclyBin(), "lint", file, "--format", "json"], { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** The problems of a lint run in JSON format. */
function problems(r: LintResult): { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[] {
  const at = r.out.indexOf("{");
  assert.ok(at >= 0, "no JSON from redocly lint:\n" + r.out.slice(0, 2000));
  const json = JSON.parse(r.out.slice(at, r.out.lastIndexOf("}") + 1)) as { problems: ReturnType<typeof problems> };
  return json.problems;
}

describe("gateway API description: lint", function () {
  this.timeout(120000);

  it("docs/gateway-api.yaml has no lint error", async () => {
    const r = await lint("docs/gateway-api.yaml");
    const found = problems(r);
    const errors = found.filter((p) => p.severity === "error");
    const warnings = found.filter((p) => p.severity !== "error");
    if (warnings.length) console.log("      redocly warnings: " + warnings.map((w) => w.ruleId + " " + (w.location?.[0]?.pointer ?? "")).join("; "));
    assert.deepEqual(errors.map((e) => e.ruleId + " at " + (e.location?.[0]?.pointer ?? "?") + ": " + e.message), []);
    assert.equal(r.code, 0, r.out.slice(0, 2000));
  });

  it("fails a description with an error (the lint is not a no-op)", async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "api-lint-"));
    try {
      // an operation that lost its responses
      const broken = readFileSync(join(root, "docs/gateway-api.yaml"), "utf8").replace(/(operationId: health\n(?:.*\n)*?)      responses:\n/, "$1      x-responses:\n");
      const file = join(dir, "broken.yaml");
      writeFileSync(file, broken);
      const r = await lint(file);
      assert.ok(problems(r).some((p) => p.severity === "error"), r.out.slice(0, 2000));
      assert.notEqual(r.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
