/**
 * The flash tool's link, upload and read-back against a real Espruino console: the Linux interpreter's Telnet
 * console (`espruino --telnet`, port 2323). Runs only when ESPRUINO names an interpreter.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoardDef } from "../../tools/common.ts";
import { flash, readBackSha256 } from "../../tools/flash.ts";
import { espruinoBoardJson, openLink, ToolError } from "../../tools/link.ts";
import { interpreter } from "../espruino/interpreter.ts";

const PORT = 2323; // fixed by the Linux build

function portFree(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(PORT, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

async function waitListening(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (!(await portFree())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("espruino --telnet did not start listening");
}

describe("flash against a real Espruino console (ESPRUINO=..., Telnet)", function () {
  // the ~150 KB bundle through the interpreter's Telnet console takes about a minute on a loaded 2-core machine
  this.timeout(180000);
  const bin = interpreter();
  let proc: ChildProcess | null = null;
  before(async function () {
    if (!bin || !(await portFree())) return this.skip();
    // stdin stays open: at end-of-file the Linux build reads garbage into its console (espruino-binary.md).
    proc = spawn(bin, ["--telnet"], { cwd: mkdtempSync(join(tmpdir(), "espruino-telnet-")), stdio: ["pipe", "ignore", "ignore"] });
    await waitListening();
  });
  after(() => {
    // The Linux build ignores SIGTERM.
    if (proc) proc.kill("SIGKILL");
  });

  it("uploads a bundle with EspruinoTools' Storage code and reads it back with a matching SHA-256", async () => {
    const code = readFileSync(join(process.cwd(), "dist/devkit.js"), "latin1");
    const link = await openLink({ port: "tcp://127.0.0.1:" + PORT, board: espruinoBoardJson(await loadBoardDef("devkit")) });
    try {
      for (const l of link.uploadLines(".bootcde", code)) assert.equal(await link.expr(l), "true");
      const rb = await readBackSha256(link, ".bootcde", () => {});
      assert.equal(rb.length, Buffer.byteLength(code, "latin1"));
      assert.equal(rb.sha256, createHash("sha256").update(code, "latin1").digest("hex"));
    } finally {
      await link.close();
    }
  });

  it("refuses the Linux interpreter as the wrong board for the devkit", async () => {
    await assert.rejects(flash({ board: "devkit", port: "tcp://127.0.0.1:" + PORT, build: false, out: () => {} }), (e: unknown) => e instanceof ToolError && e.code === "WRONG_BOARD" && /LINUX/.test(e.message));
  });
});
