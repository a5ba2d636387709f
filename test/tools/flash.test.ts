import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOOT_STUB, BOOT_STUB_END } from "../../firmware/update/boot-stub.ts";
import { SimHost } from "../../sim/host.ts";
import { consoleHostOptions, startTcpConsole } from "../../sim/tcp-console.ts";
import type { TcpConsole } from "../../sim/tcp-console.ts";
import { flash } from "../../tools/flash.ts";
import { ToolError } from "../../tools/link.ts";
import { boardData } from "../update/helpers.ts";

async function simDevice(bundle: string, env?: Record<string, string>): Promise<{ host: SimHost; con: TcpConsole }> {
  const opts = consoleHostOptions();
  const host = new SimHost({ board: boardData(), bundle, ...opts, env: { ...opts.env, ...env } });
  const con = await startTcpConsole({ host, bindGlobals: opts.bind });
  host.boot();
  return { host, con };
}

function bundleFile(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "flash-test-"));
  const f = join(dir, "bundle.js");
  writeFileSync(f, BOOT_STUB + body + BOOT_STUB_END, "latin1");
  return f;
}

async function rejectsWith(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ToolError, "a ToolError, got " + String(e));
    assert.equal(e.code, code);
    assert.match(e.message, text);
    return true;
  });
}

describe("npm run flash (tools/flash.ts) against the simulator's TCP console", function () {
  this.timeout(60000);
  let dev: { host: SimHost; con: TcpConsole } | null = null;
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);
  afterEach(async () => {
    if (dev) await dev.con.close();
    dev = null;
    lines.length = 0;
  });

  it("writes the bundle as .bootcde, verifies it by SHA-256 and boots it", async () => {
    dev = await simDevice("");
    const f = bundleFile('print("flashed firmware up"); var up = 1;' + "/*" + "z".repeat(5000) + "*/");
    const r = await flash({ board: "devkit", port: dev.con.url, bundlePath: f, out });
    const expected = createHash("sha256").update(readFileSync(f)).digest("hex");
    assert.equal(r.sha256, expected);
    assert.equal(createHash("sha256").update(Buffer.from(dev.host.storage.read(".bootcde")!, "latin1")).digest("hex"), expected);
    assert.ok(lines.some((l) => /verified/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /writing \.bootcde \d+\/\d+ bytes \(100%\)/.test(l)), "shows progress: " + lines.join("\n"));
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(dev.host.output.includes("flashed firmware up"), "the flashed bundle booted");
  });

  it("flashes the real devkit bundle, which then locks the console", async () => {
    dev = await simDevice("");
    await flash({ board: "devkit", port: dev.con.url, bundlePath: join(process.cwd(), "dist/devkit.js"), out });
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(dev.host.consoles.serial, null);
  });

  it("removes update slots so the flashed bundle is what boots", async () => {
    dev = await simDevice("");
    dev.host.storage.write("fw.a.st", "x", 0, 48);
    const f = bundleFile("var up = 1;");
    await flash({ board: "devkit", port: dev.con.url, bundlePath: f, out, boot: false });
    assert.deepEqual(dev.host.storage.list().filter((n: string) => n.startsWith("fw.")), []);
  });

  it("fails on a device whose board is not the one named", async () => {
    dev = await simDevice("", { BOARD: "PICO_R1_3" });
    await rejectsWith(flash({ board: "devkit", port: dev.con.url, bundlePath: bundleFile("1;"), out }), "WRONG_BOARD", /wrong board.*PICO_R1_3.*ESP32/);
    assert.equal(dev.host.storage.read(".bootcde"), undefined);
  });

  it("fails on a serial port that does not exist", async () => {
    await rejectsWith(flash({ board: "devkit", port: "/dev/ttyDOESNOTEXIST0", bundlePath: bundleFile("1;"), out }), "NO_PORT", /\/dev\/ttyDOESNOTEXIST0.*no such device/);
  });

  it("fails when no port is given", async () => {
    await rejectsWith(flash({ board: "devkit", port: undefined as unknown as string, bundlePath: bundleFile("1;"), out }), "USAGE", /missing --port/);
  });

  it("fails on a TCP port nothing listens on", async () => {
    const closed = await simDevice("");
    const url = closed.con.url;
    await closed.con.close();
    await rejectsWith(flash({ board: "devkit", port: url, bundlePath: bundleFile("1;"), out }), "NO_PORT", /connection refused/);
  });

  it("fails when the device does not answer (firmware running with its console locked)", async () => {
    dev = await simDevice('E.setConsole(null,{force:true});');
    await rejectsWith(flash({ board: "devkit", port: dev.con.url, bundlePath: bundleFile("1;"), out }), "NO_ANSWER", /no answer/);
  });

  it("fails on a bundle over the board's budget before touching the port", async () => {
    const f = bundleFile("/*" + "y".repeat(boardData().budget.bundleBytes) + "*/");
    await rejectsWith(flash({ board: "devkit", port: "/dev/ttyDOESNOTEXIST0", bundlePath: f, out }), "OVER_BUDGET", /over budget/);
  });

  it("fails on an unknown board name", async () => {
    await rejectsWith(flash({ board: "nosuch", port: "tcp://127.0.0.1:1", out }), "USAGE", /unknown board "nosuch".*devkit/);
  });
});
