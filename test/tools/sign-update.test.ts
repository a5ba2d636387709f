/** tools/sign-update.ts as a command: usage, a new firmware key, an offer the gateway and the terminal accept. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { verifyBody } from "../../gateway/issuer.ts";
import { firmwareBody } from "../../protocol/firmware.ts";

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/sign-update.ts", ...args], { encoding: "utf8", timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("tools/sign-update.ts", function () {
  this.timeout(60000);
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "sign-update-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints its usage with --help and exits 0", () => {
    const r = run(["--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: .*--key .*--key-id .*--board .*--version/);
  });

  it("refuses to sign without a key ID, board or version (exit 2), printing the usage", () => {
    writeFileSync(join(dir, "k.hex"), "11".repeat(32));
    const r = run(["--key", join(dir, "k.hex"), "--version", "1.0.0"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing --key, --key-id, --board or --version/);
    assert.equal(r.stdout, "");
  });

  it("makes a firmware key and signs a bundle's board, version and hash with it", () => {
    const key = join(dir, "fw.hex");
    const made = run(["--new-key", key]);
    assert.equal(made.status, 0, made.stderr);
    const pub = new Uint8Array(Buffer.from(made.stdout.trim(), "hex"));
    assert.equal(pub.length, 64);
    assert.equal(run(["--new-key", key]).status, 2, "an existing key file is never overwritten");
    const bundleFile = join(dir, "b.js");
    writeFileSync(bundleFile, 'print("hi");');
    const r = run(["--key", key, "--key-id", "3", "--board", "devkit", "--version", "0.2.0", "--bundle", bundleFile]);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    const sha = createHash("sha256").update(readFileSync(bundleFile)).digest();
    assert.deepEqual({ ...o, sig: undefined }, { version: "0.2.0", board: "devkit", key: 3, size: 12, sha256: sha.toString("hex"), sig: undefined });
    assert.ok(verifyBody(pub, firmwareBody("devkit", "0.2.0", new Uint8Array(sha)), Buffer.from(o.sig, "hex")));
    assert.ok(!verifyBody(pub, firmwareBody("other", "0.2.0", new Uint8Array(sha)), Buffer.from(o.sig, "hex")), "the board is signed");
  });
});
