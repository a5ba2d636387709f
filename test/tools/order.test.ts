import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { parseOrderLink } from "../../protocol/order-link.ts";

const TSX = ["--import", "tsx", "tools/order.ts"];
const KEY = "6f726465722d6b65792d6d65726368616e742d3432";

describe("npm run order (tools/order.ts)", function () {
  this.timeout(30000);

  it("--help prints the usage and exits 0", () => {
    const r = spawnSync(process.execPath, [...TSX, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: npm run order -- link/);
  });

  it("link prints a link the terminal's parser takes, and its PNG decodes to the same text", () => {
    const dir = mkdtempSync(join(tmpdir(), "order-"));
    const png = join(dir, "o.png");
    const out = execFileSync(process.execPath, [...TSX, "link", "--key", KEY, "--merchant", "77001", "--ref", "ORD-7", "--amount", "25.9", "--callback", "https://shop.example/paid", "--png", png], { encoding: "utf8" }).trim();
    const p = parseOrderLink(out);
    assert.ok(p);
    assert.equal(p.callback, "https://shop.example/paid");
    assert.equal(p.order[18] * 2 ** 24 + p.order[19] * 65536 + p.order[20] * 256 + p.order[21], 2590);
    const img = PNG.sync.read(readFileSync(png));
    assert.equal(jsQR(new Uint8ClampedArray(img.data), img.width, img.height)?.data, out);
  });

  it("refuses bad input with exit code 2 and a reason", () => {
    const r = spawnSync(process.execPath, [...TSX, "link", "--key", KEY, "--merchant", "77001", "--ref", "ORD-7", "--amount", "25.999", "--callback", "https://shop.example/paid"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--amount: a number with at most 2 decimals/);
  });

  it("verify accepts the gateway's signature and refuses a changed body", () => {
    const dir = mkdtempSync(join(tmpdir(), "order-"));
    const secret = "ab".repeat(32);
    const body = JSON.stringify({ event: "order.paid", orderRef: "ORD-7" });
    const t = Date.now();
    const sig = "t=" + t + ",v1=" + createHmac("sha256", Buffer.from(secret, "hex")).update(t + "." + body).digest("hex");
    writeFileSync(join(dir, "b.json"), body);
    const ok = spawnSync(process.execPath, [...TSX, "verify", "--secret", secret, "--signature", sig, "--body", join(dir, "b.json")], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^valid: .*order\.paid/);
    writeFileSync(join(dir, "b.json"), body.replace("7", "8"));
    const bad = spawnSync(process.execPath, [...TSX, "verify", "--secret", secret, "--signature", sig, "--body", join(dir, "b.json")], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not the gateway's/);
  });
});
