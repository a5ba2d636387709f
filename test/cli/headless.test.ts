/**
 * The headless simulator end to end through its entry point (sim/cli.ts main(), and once as a process): each thing
 * issue 7 asks of `npm run sim -- …` — a named scenario with a JSON summary, the keypad, text and a QR image to the
 * scanner, the display and a receipt as PNGs, a wallet's payment QR as a PNG, Wi-Fi and power — checked on what it
 * printed and what it wrote. Runs the shipped bundle (dist/devkit.js; npm test builds it first).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { main } from "../../sim/cli.ts";
import { decodeQrPng, qrPng } from "../../sim/world.ts";

interface Summary {
  poweredOn: boolean;
  screen: string[];
  paper: string;
  errors: string[];
  switches: { wifi: boolean; gatewayReachable: boolean; paperOut: boolean };
  printedQrs: string[];
  gateway: { ledger: unknown } | null;
  steps: { step: string; ok: boolean; detail?: Record<string, unknown>; error?: string }[];
}

/** Runs `npm run sim -- ARGS` in this process; the exit code and the JSON summary it printed. */
async function sim(...args: string[]): Promise<{ code: number; summary: Summary; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["--quiet", ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, summary: JSON.parse(out) as Summary, err };
}

const detail = (s: Summary, step: string) => {
  const r = s.steps.find((x) => x.step.startsWith(step));
  assert.ok(r, `no step ${step} in ${s.steps.map((x) => x.step).join(", ")}`);
  assert.equal(r.ok, true, r.error);
  return r.detail ?? {};
};

describe("npm run sim (headless), through its entry point", function () {
  this.timeout(60000);
  const dir = mkdtempSync(join(tmpdir(), "sim-headless-"));
  const f = (n: string) => join(dir, n);

  it("runs a named scenario and prints a JSON summary (in process, and as `tsx sim/cli.ts`)", async () => {
    const { code, summary } = await sim("--no-gateway", "--scenario", "keypad");
    assert.equal(code, 0);
    const d = detail(summary, "--scenario keypad");
    assert.ok((d.typed as string[]).some((l) => l.indexOf("12.50") >= 0), JSON.stringify(d));
    assert.deepEqual(summary.errors, []);
    // The real entry point: JSON on stdout, exit code 0.
    const out = execFileSync(process.execPath, ["--import", "tsx", "sim/cli.ts", "--quiet", "--no-gateway", "--scenario", "boot"], { encoding: "utf8" });
    const s = JSON.parse(out) as Summary;
    assert.equal(s.steps[0].step, "--scenario boot");
    assert.equal(s.steps[0].ok, true, s.steps[0].error);
    assert.equal(s.poweredOn, true);
  });

  it("exits 1 with the failed step in the summary, 2 on a usage error", async () => {
    const bad = await sim("--no-gateway", "--scan-payment");
    assert.equal(bad.code, 1);
    assert.match(bad.summary.steps[0].error || "", /no payment made yet/);
    let err = "";
    assert.equal(await main(["--frobnicate"], { out: () => {}, err: (s) => (err += s) }), 2);
    assert.match(err, /unknown option/);
  });

  it("types on the keypad and exports the display as a PNG: the panel's request QR decodes to what the wallet paid", async () => {
    const { code, summary } = await sim("--provision", "--wifi", "off", "--keys", "1250#", "--until", "Scan, then show", "--display-png", f("request.png"), "--wallet", "alice", "--pay", "alice");
    assert.equal(code, 0, JSON.stringify(summary.steps));
    const png = PNG.sync.read(readFileSync(f("request.png")));
    assert.deepEqual([png.width, png.height], [240, 240]);
    const request = detail(summary, "--pay").request as string;
    assert.match(request, /^R2/);
    assert.equal(decodeQrPng(readFileSync(f("request.png"))), request);
  });

  it("feeds text to the scanner: the GM65 sends the code and the CR tail the firmware configured, nothing else", async () => {
    const { code, summary } = await sim("--no-gateway", "--scan-text", "HELLO SIM");
    assert.equal(code, 0);
    assert.equal(detail(summary, "--scan-text").sent, "HELLO SIM\r");
  });

  it("feeds a QR image to the scanner: the module sends the code's bytes", async () => {
    writeFileSync(f("code.png"), qrPng("IMG-42 $%*"));
    const { code, summary } = await sim("--no-gateway", "--scan-image", f("code.png"));
    assert.equal(code, 0);
    const d = detail(summary, "--scan-image");
    assert.equal(d.text, "IMG-42 $%*");
    assert.equal(d.sent, "IMG-42 $%*\r");
    writeFileSync(f("blank.png"), PNG.sync.write(Object.assign(new PNG({ width: 64, height: 64 }), { data: Buffer.alloc(64 * 64 * 4, 255) })));
    const blank = await sim("--no-gateway", "--scan-image", f("blank.png"));
    assert.equal(blank.code, 1);
    assert.match(blank.summary.steps[0].error || "", /no QR code found/);
  });

  it("takes an offline payment by scripted steps: exports the wallet's payment QR and the printed receipt as PNGs that decode", async () => {
    const { code, summary } = await sim(
      "--provision", "--wifi", "off", "--keys", "1250#", "--until", "EUR 12.50", "--wallet", "bob", "--pay", "bob",
      "--wallet-qr-png", f("pay.png"), "--scan-image", f("pay.png"), "--until", "Receipt printed", "--receipt-png", f("receipt.png"),
    );
    assert.equal(code, 0, JSON.stringify(summary.steps));
    const payment = detail(summary, "--pay").payment as string;
    assert.equal(decodeQrPng(readFileSync(f("pay.png"))), payment, "the wallet's QR PNG is its payment");
    assert.equal(detail(summary, "--scan-image").text, payment);
    const receiptQr = decodeQrPng(readFileSync(f("receipt.png")));
    assert.ok(receiptQr, "the receipt PNG has a QR code that decodes");
    assert.equal(receiptQr, summary.printedQrs[summary.printedQrs.length - 1], "the receipt's QR as the printer got it");
    assert.match(summary.paper, /12[.,]50/);
  });

  it("toggles Wi-Fi and power: off and on, and a cut at the next flash write (during the payment) then a boot", async () => {
    const wifi = await sim("--no-gateway", "--wifi", "off");
    assert.equal(wifi.code, 0);
    assert.equal(detail(wifi.summary, "--wifi").wifi, false);
    assert.equal(wifi.summary.switches.wifi, false);
    const cycle = await sim("--no-gateway", "--power", "cut", "--power", "on", "--until", "EUR 0.00");
    assert.equal(cycle.code, 0);
    assert.equal(cycle.summary.steps[0].detail!.poweredOn, false);
    assert.equal(cycle.summary.steps[1].detail!.poweredOn, true);
    assert.equal(cycle.summary.poweredOn, true);
    // Power goes at the journal write of a payment; the state dir keeps the torn flash; the next run boots on it.
    const state = mkdtempSync(join(tmpdir(), "sim-headless-state-"));
    const cut = await sim("--state", state, "--provision", "--wifi", "off", "--keys", "1250#", "--until", "EUR 12.50", "--wallet", "carol", "--pay", "carol", "--power", "cut-at-next-write", "--scan-payment", "--wait", "2000");
    assert.equal(cut.summary.poweredOn, false, "the payment's flash write cut the power: " + cut.summary.screen.join(" | "));
    assert.ok(existsSync(join(state, "journal.bin")));
    const after = await sim("--state", state, "--until", "Ready");
    assert.equal(after.code, 0, JSON.stringify(after.summary.steps) + after.summary.errors.join("\n"));
    assert.equal(after.summary.poweredOn, true);
    assert.deepEqual(after.summary.errors, []);
  });

  it("pays a merchant-presented invoice online and shows the relayed paid confirmation; reads the receipt, then claims fraud", async () => {
    const inv = await sim("--provision", "--wallet", "erin", "--keys", "A3", "--keys", "990#", "--until", "INVOICE", "--pay-online", "erin", "--until", "Paid");
    assert.equal(inv.code, 0, JSON.stringify(inv.summary.steps));
    assert.match(detail(inv.summary, "--pay-online").confirmation as string, /^C1/);
    const w = inv.summary as unknown as { wallets: { name: string; balanceMinor: number }[] };
    assert.equal(w.wallets.find((x) => x.name === "erin")!.balanceMinor, 100000 - 990, "the online balance paid the invoice");
    const claim = await sim(
      "--provision", "--wifi", "off", "--keys", "1250#", "--until", "EUR 12.50", "--wallet", "fred", "--pay", "fred", "--scan-payment",
      "--until", "Receipt printed", "--scan-receipt", "fred", "--wifi", "on", "--until", "pending 0", "--claim", "fred",
    );
    assert.equal(claim.code, 0, JSON.stringify(claim.summary.steps));
    assert.match(detail(claim.summary, "--scan-receipt").txId as string, /^[0-9a-f]{16}$/);
    const answer = detail(claim.summary, "--claim").answer as { status: string; amountMinor: number };
    assert.equal(answer.status, "disputed", "the gateway's ledger row for the payment is disputed");
    assert.equal(answer.amountMinor, 1250);
  });
});
