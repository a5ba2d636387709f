/**
 * docs/technician.md end to end, on the command line: the simulator's TCP console (`sim/tcp-console.ts`) with a
 * blank secure element, `npm run provision` against it (which configured nothing before and failed with "key
 * generation failed: execution": a blank ATECC608 refuses GenKey until its configuration is locked), then
 * `npm run diagnose` against a provisioned terminal started with `--console-open`.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts the simulator's console; resolves once it printed `until`. */
function startConsole(args: string[], until: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "sim/tcp-console.ts", "--board", "devkit", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (b) => (text += b.toString()));
  child.stderr!.on("data", (b) => (text += b.toString()));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (until.test(text)) {
        clearInterval(t);
        resolve({ child, out: () => text });
      } else if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error("tcp-console exited: " + text));
      }
    }, 100);
  });
}

function tool(name: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/" + name + ".ts", ...args], { encoding: "utf8", timeout: 120000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("technician guide against the simulator's TCP console (command line)", function () {
  this.timeout(240000);
  let child: ChildProcess | null = null;
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "tcp-cli-"))));
  afterEach(() => {
    if (child && child.exitCode === null) child.kill();
    child = null;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("provisions a terminal with a blank secure element over tcp://, as the guide says", async () => {
    const port = await freePort();
    const c = await startConsole(["--port", String(port), "--console-open", "--no-provision"], /console open/);
    child = c.child;
    writeFileSync(join(dir, "issuer.hex"), "22".repeat(31) + "01");
    const r = tool("provision", [
      "--board", "devkit", "--port", "tcp://127.0.0.1:" + port,
      "--terminal-id", "7", "--merchant-id", "42", "--merchant-name", "Cafe Blue", "--currency", "EUR",
      "--gateway-url", "https://gateway.example", "--link-key", "11".repeat(64),
      "--issuer-key-file", join(dir, "issuer.hex"), "--issuer-key-id", "1", "--tech-pin", "2580",
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /identity key created in the secure element/);
    assert.match(r.out, /provision: written; receipt printed/);
  });

  it("--console-open starts a provisioned terminal whose diagnose reports the journal and the secure element", async () => {
    const port = await freePort();
    const c = await startConsole(["--port", String(port), "--console-open"], /console open|tcp-console:/);
    child = c.child;
    assert.match(c.out(), /provisioned as terminal 7 of merchant 42/);
    const r = tool("diagnose", ["--board", "devkit", "--port", "tcp://127.0.0.1:" + port, "--no-print"]);
    assert.match(r.out, /Journal pending 0, acked 0, free slots \d+, anomalies 0/, r.out);
    assert.match(r.out, /OK {3}secure element config/, r.out);
  });
});
