/** The headless simulator (npm run sim -- …): steps on a World in memory, files it writes, usage errors. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, runSteps, UsageError } from "../../sim/cli.ts";
import { decodeQrPng, qrPng, World } from "../../sim/world.ts";

describe("npm run sim (headless simulator)", function () {
  this.timeout(30000);
  const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));

  it("parses steps in order and refuses unknown options and missing values", () => {
    const o = parse(["--quiet", "--keys", "12#", "--wifi", "off", "--scan-payment"]);
    assert.deepEqual(o.steps, [{ name: "--keys", arg: "12#" }, { name: "--wifi", arg: "off" }, { name: "--scan-payment" }]);
    assert.throws(() => parse(["--frobnicate"]), UsageError);
    assert.throws(() => parse(["--keys"]), UsageError);
  });

  it("boots the bundle, types on the keypad and exports the display as a PNG that shows the typed amount", async () => {
    const w = World.open({ stateDir: null });
    const file = join(dir, "display.png");
    const r = await runSteps(w, [{ name: "--scenario", arg: "boot" }, { name: "--keys", arg: "125" }, { name: "--display-png", arg: file }]);
    assert.deepEqual(r.map((s) => s.ok), [true, true, true]);
    assert.ok(w.screenText().some((l) => l.indexOf("1.25") >= 0), w.screenText().join("|"));
    const png = readFileSync(file);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.equal(w.host.errors.length, 0, w.host.errors.join("\n"));
  });

  it("records a failed step and stops there (a key the keypad lacks)", async () => {
    const w = World.open({ stateDir: null });
    const r = await runSteps(w, [{ name: "--keys", arg: "1x" }, { name: "--keys", arg: "2" }]);
    assert.equal(r.length, 1);
    assert.equal(r[0].ok, false);
    assert.match(r[0].error || "", /no key "x"/);
  });

  it("refuses --scan-payment before any payment, with a reason", async () => {
    const w = World.open({ stateDir: null });
    const r = await runSteps(w, [{ name: "--scan-payment" }]);
    assert.equal(r[0].ok, false);
    assert.match(r[0].error || "", /no payment made yet/);
  });

  it("exports a QR as a PNG that an independent decoder (jsqr) reads back", () => {
    const text = "P1" + "ABC123$%*+-./: ".repeat(10);
    assert.equal(decodeQrPng(qrPng(text)), text);
  });

  it("gives each wallet an issuer-signed allowance and keeps it across runs in the state dir", async () => {
    const state = mkdtempSync(join(tmpdir(), "sim-state-"));
    const a = World.open({ stateDir: state });
    await a.wallet("alice", 15000);
    a.persist();
    a.powerCut();
    const b = World.open({ stateDir: state });
    assert.equal(b.walletInfo("alice").capMinor, 15000);
    assert.ok(b.issuer.verify(b.wallets.alice.allowanceMessage()));
  });

  it("moves the device's clock forward by days without running days of event loop", () => {
    const w = World.open({ stateDir: null, wallClockMs: Date.UTC(2026, 10, 23, 9) });
    const before = w.now();
    w.fastForward(3 * 86400000);
    assert.ok(w.now() - before >= 3 * 86400000);
    assert.ok(w.host.sched.now < 10000);
  });
});
