import assert from "node:assert/strict";
import { decodeTerminalCert } from "../../protocol/messages.ts";
import { Issuer } from "../../gateway/issuer.ts";
import { SimHost } from "../../sim/host.ts";
import { ESPRUINO_IDF4_PARTITIONS, flashPartitionTable, systemAreaOf } from "../../sim/espruino/partitions.ts";
import { consoleHostOptions, startTcpConsole } from "../../sim/tcp-console.ts";
import type { TcpConsole } from "../../sim/tcp-console.ts";
import { diagnose } from "../../tools/diagnose.ts";
import { ToolError } from "../../tools/link.ts";
import { issuerCertify, provision } from "../../tools/provision.ts";
import type { ProvisionOptions } from "../../tools/provision.ts";
import { boardData } from "../update/helpers.ts";
import { fixtureBundle, shippedSecureElement } from "./fixture.ts";

const LINK_KEY = "11".repeat(64);

describe("npm run provision / npm run diagnose against the simulator's TCP console", function () {
  this.timeout(60000);
  let dev: { host: SimHost; con: TcpConsole } | null = null;
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);
  let bundle = "";
  before(async () => {
    bundle = await fixtureBundle();
  });
  afterEach(async () => {
    if (dev) await dev.con.close();
    dev = null;
    lines.length = 0;
  });

  async function terminal(before?: (host: SimHost) => void): Promise<{ host: SimHost; con: TcpConsole }> {
    const opts = consoleHostOptions();
    let host: SimHost | null = null;
    const se = shippedSecureElement(() => (host ? host.sched.now : 0));
    host = new SimHost({ board: boardData(), bundle, ...opts, bootFromStorage: false, secure: se });
    if (before) before(host);
    const con = await startTcpConsole({ host, bindGlobals: opts.bind, timeScale: 20 });
    host.boot();
    return { host, con };
  }

  /** The technician unlock at the keypad: D opens the menu (no PIN on a terminal never provisioned), 1 opens the console. */
  function unlock(host: SimHost, pin?: string): void {
    host.pressKey("D");
    if (pin) {
      for (const k of pin) host.pressKey(k);
      host.pressKey("#");
      host.advance(500);
    }
    host.pressKey("1");
  }

  function options(port: string, iss: Issuer, extra: Partial<ProvisionOptions> = {}): ProvisionOptions {
    return {
      board: "devkit",
      port,
      terminalId: 7,
      merchantId: 42,
      merchantName: "Cafe Blue",
      gatewayUrl: "http://gateway.local:8080",
      linkKey: LINK_KEY,
      certify: issuerCertify(iss, 7, 42, 30000),
      wifi: [{ ssid: "shop-net", password: "very-secret-wifi-pw" }],
      limits: { perTxMinor: 5000, unsyncedMinor: 20000, maxDaysOffline: 3, perWalletMinor: 10000 },
      techPin: "2580",
      merchantPin: "13572468",
      orderKey: Buffer.from("store-order-key-of-merchant-42").toString("hex"),
      out,
      ...extra,
    };
  }

  it("refuses to provision while the console is locked", async () => {
    dev = await terminal();
    await assert.rejects(provision(options(dev.con.url, Issuer.generate(1))), (e: unknown) => e instanceof ToolError && e.code === "NO_ANSWER");
  });

  it("creates the identity in the SE, certifies it, writes the settings, keeps secrets out of Storage and prints a receipt", async () => {
    dev = await terminal();
    unlock(dev.host);
    const iss = Issuer.generate(1);
    const r = await provision(options(dev.con.url, iss));
    assert.equal(r.created, true);
    assert.deepEqual(Array.from(dev.host.secure.publicKeyOf(0)!), Array.from(Buffer.from(r.identity, "hex")));
    const cert = decodeTerminalCert(new Uint8Array(Buffer.from(dev.host.storage.read("cert.bin")!, "latin1")))!;
    assert.equal(cert.terminalId, 7);
    assert.equal(iss.verify(new Uint8Array(Buffer.from(dev.host.storage.read("cert.bin")!, "latin1"))), true);
    const cfg = JSON.parse(dev.host.storage.read("cfg.json")!);
    assert.equal(cfg.terminalId, "7");
    assert.equal(cfg.gatewayUrl, "http://gateway.local:8080");
    assert.equal(cfg.linkKey, LINK_KEY);
    assert.deepEqual(cfg.wifi, ["shop-net"]);
    assert.equal(JSON.parse(dev.host.storage.read("limits.json")!).perTxMinor, 5000);
    const flashText = Buffer.from(dev.host.flash.bytes).toString("latin1");
    assert.equal(flashText.indexOf("very-secret-wifi-pw"), -1, "no Wi-Fi password in Storage");
    assert.equal(flashText.indexOf("store-order-key-of-merchant-42"), -1, "no order key in Storage");
    assert.equal(flashText.indexOf("13572468"), -1, "no merchant PIN in Storage");
    assert.ok(dev.host.storage.list().some((n: string) => n.startsWith("vault.")), "the secrets went to the sealed vault");
    assert.ok(dev.host.secure.publicKeyOf(2), "the storage key (slot 2) was made with the identity");
    assert.ok(r.printed);
    assert.match(dev.host.printer.text(), /TERMINAL PROVISIONED[\s\S]*Terminal 7/);
  });

  it("refuses a malformed merchant PIN or order key before touching the device", async () => {
    dev = await terminal();
    unlock(dev.host);
    const iss = Issuer.generate(1);
    await assert.rejects(provision(options(dev.con.url, iss, { merchantPin: "12a4" })), (e: unknown) => e instanceof ToolError && e.code === "USAGE" && /merchant-pin/.test(e.message));
    await assert.rejects(provision(options(dev.con.url, iss, { orderKey: "abcd" })), (e: unknown) => e instanceof ToolError && e.code === "USAGE" && /order-key/.test(e.message));
    assert.equal(dev.host.storage.read("cfg.json"), undefined);
  });

  it("reads the existing identity when provisioned again", async () => {
    dev = await terminal();
    unlock(dev.host);
    const iss = Issuer.generate(1);
    const first = await provision(options(dev.con.url, iss));
    const again = await provision(options(dev.con.url, iss));
    assert.equal(again.created, false);
    assert.equal(again.identity, first.identity);
  });

  it("rejects a certificate made for another key", async () => {
    dev = await terminal();
    unlock(dev.host);
    const iss = Issuer.generate(1);
    const wrong: ProvisionOptions["certify"] = async () => ({ cert: iss.issueTerminalCert({ terminalId: 7, merchantId: 42, terminalPub: iss.publicKey, expiryDay: 30000 }), issuerKeyId: 1, issuerPub: iss.publicKey });
    await assert.rejects(provision(options(dev.con.url, iss, { certify: wrong })), /not for this terminal's identity key/);
    assert.equal(dev.host.storage.read("cfg.json"), undefined);
  });

  it("opens the console of a provisioned terminal only with the technician PIN", async () => {
    dev = await terminal();
    const host = dev.host;
    unlock(host);
    await provision(options(dev.con.url, Issuer.generate(1)));
    host.reboot(); // the lock-down closes the console again; the PIN is read back from the vault
    host.advance(200);
    assert.equal(host.consoles.serial, null);
    host.pressKey("D");
    assert.match(host.screenText().join("\n"), /Enter PIN/);
    for (const k of "1111#") host.pressKey(k);
    host.advance(500);
    assert.match(host.screenText().join("\n"), /Wrong PIN/);
    host.pressKey("1");
    assert.equal(host.consoles.serial, null, "a wrong PIN leaves the console locked");
    host.pressKey("*"); // leave, come back, and this time the right PIN
    host.pressKey("D");
    for (const k of "2580#") host.pressKey(k);
    host.advance(500);
    host.pressKey("1");
    assert.equal(host.consoles.serial, "Serial1");
  });

  it("locks the technician menu for five minutes after three wrong PINs", async () => {
    dev = await terminal();
    const host = dev.host;
    unlock(host);
    await provision(options(dev.con.url, Issuer.generate(1)));
    host.pressKey("4");
    host.pressKey("*");
    host.pressKey("D");
    for (let i = 0; i < 3; i++) for (const k of "9999#") host.pressKey(k);
    for (const k of "2580#") host.pressKey(k);
    host.pressKey("1");
    assert.equal(host.consoles.serial, null, "the right PIN is refused during the lockout");
    assert.match(host.screenText().join("\n"), /Locked/);
    host.pressKey("*");
    host.advance(5 * 60 * 1000);
    host.pressKey("D");
    for (const k of "2580#") host.pressKey(k);
    host.pressKey("1");
    assert.equal(host.consoles.serial, "Serial1");
  });

  it("diagnoses the terminal: self-tests, Storage, version and memory, printed", async () => {
    dev = await terminal();
    unlock(dev.host);
    await provision(options(dev.con.url, Issuer.generate(1)));
    const r = await diagnose({ board: "devkit", port: dev.con.url, out });
    const parts = r.checks.map((c) => c.part).sort();
    assert.deepEqual(parts, ["bluetooth", "display", "journal flash", "keypad", "printer", "scanner", "secure element", "secure element config", "storage", "wifi"]);
    assert.deepEqual(r.checks.find((c) => c.part === "secure element config"), { part: "secure element config", result: "pass", detail: "locked, ECDH encrypted" });
    assert.deepEqual(r.checks.find((c) => c.part === "journal flash"), { part: "journal flash", result: "pass", detail: "journal 0x190000-0x258000 in ota_0 (app 0x190000+0x180000)" });
    assert.equal(r.checks.find((c) => c.part === "secure element")!.result, "pass");
    assert.equal(r.checks.find((c) => c.part === "printer")!.result, "pass");
    assert.equal(r.version, "fixture-1");
    assert.ok(r.storage.freeBytes > 0);
    assert.ok(r.memory.total > 0);
    assert.equal(r.ok, true);
    assert.ok(r.printed);
    assert.match(dev.host.printer.text(), /TERMINAL DIAGNOSTICS[\s\S]*RESULT: PASS/);
    assert.ok(lines.some((l) => /Storage: \d+ of \d+ bytes free/.test(l)), lines.join("\n"));
  });

  it("reports the journal refused, and fails, on a chip flashed with Espruino's ESP-IDF 4 partition table", async () => {
    dev = await terminal((host) => flashPartitionTable(systemAreaOf(host.journalFlash), ESPRUINO_IDF4_PARTITIONS));
    unlock(dev.host);
    const r = await diagnose({ board: "devkit", port: dev.con.url, out });
    const c = r.checks.find((x) => x.part === "journal flash");
    assert.deepEqual(c, { part: "journal flash", result: "fail", detail: "PT_OVERLAP journal 0x190000-0x258000 overlaps factory (app 0x10000+0x1f4000)" });
    assert.equal(r.checks.find((x) => x.part === "secure element config")!.detail, "SE_UNLOCKED: not set up, no payment", "a blank part, never provisioned");
    assert.equal(r.ok, false);
    assert.ok(lines.includes("diagnose: journal flash failed: PT_OVERLAP journal 0x190000-0x258000 overlaps factory (app 0x10000+0x1f4000)"), lines.join("\n"));
    assert.ok(lines.includes("FAIL journal flash"), lines.join("\n"));
    assert.match(dev.host.printer.text(), /FAIL journal flash[\s\S]*RESULT: FAIL/);
  });
});
