/**
 * npm run flash -- --board <board> --port <serial device | tcp://host:port> [--no-build] [--no-boot] [--verbose]
 *
 * Builds the bundle, checks it is within the board's budget and that the port's board is the one named, writes it
 * to Storage as `.bootcde` (the factory image the boot stub falls back to) with EspruinoTools' upload code, shows
 * progress, reads it back in chunks and compares SHA-256, then boots it. Any update slots are removed, so the
 * flashed bundle is what runs. Works offline: the board data comes from boards/ in the repo.
 * The device's console must be open: a terminal running the firmware has it locked until the technician unlock
 * (technician menu, "Open console"; docs/technician.md).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAll } from "../build.ts";
import { checkPort, defaultOut, loadBoardDef, progress, ROOT, runMain } from "./common.ts";
import { espruinoBoardJson, openLink, ToolError } from "./link.ts";
import type { Link } from "./link.ts";

export const FLASH_USAGE = [
  "usage: npm run flash -- --board BOARD --port PORT [--no-build] [--file BUNDLE] [--no-boot] [--verbose]",
  "  --board    the board (devkit)",
  "  --port     a serial device (/dev/ttyUSB0) or the simulator's console (tcp://127.0.0.1:2323)",
  "  --no-build flash dist/<board>.js as it is; --file flashes another bundle",
  "  --no-boot  do not boot the new bundle when done",
  "The terminal's console must be open (technician menu, 1): docs/technician.md.",
].join("\n");

export interface FlashOptions {
  board: string;
  port: string;
  /** Build first (default true); false flashes dist/<board>.js as it is. */
  build?: boolean;
  /** Flash this file instead of dist/<board>.js. */
  bundlePath?: string;
  /** Boot the new bundle when done (default true). */
  boot?: boolean;
  verbose?: boolean;
  out?: (line: string) => void;
}

export interface FlashResult {
  bytes: number;
  sha256: string;
  deviceBoard: string;
  deviceVersion: string;
}

/** Bytes of Storage read back per request (a multiple of 3, so each chunk is whole base64). */
const READ_CHUNK = 768;
export const BOOT_FILE = ".bootcde";

/** process.env of the device on `link`, checked against the board's Espruino id. */
export async function checkBoard(link: Link, boardId: string, expectedVersion: string, out: (l: string) => void): Promise<{ BOARD: string; VERSION: string }> {
  let env: { BOARD?: string; VERSION?: string };
  try {
    env = JSON.parse(await link.expr("process.env", 4));
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new ToolError("NO_ANSWER", "the device answered, but not with its process.env");
  }
  if (!env || env.BOARD !== boardId) {
    throw new ToolError("WRONG_BOARD", "wrong board: the device on this port is " + JSON.stringify(env && env.BOARD) + ", this board needs " + JSON.stringify(boardId));
  }
  if (!String(env.VERSION || "").startsWith(expectedVersion)) out("warning: the device runs Espruino " + env.VERSION + ", the board file expects " + expectedVersion);
  return { BOARD: env.BOARD, VERSION: String(env.VERSION) };
}

/** SHA-256 of a Storage file read back over the console in chunks, and its length. */
export async function readBackSha256(link: Link, name: string, onProgress: (done: number, total: number) => void): Promise<{ length: number; sha256: string }> {
  const fn = JSON.stringify(name);
  const len = Number(await link.expr(`(require("Storage").read(${fn})||"").length`));
  const h = createHash("sha256");
  for (let off = 0; off < len; off += READ_CHUNK) {
    const n = Math.min(READ_CHUNK, len - off);
    const b64 = JSON.parse(await link.expr(`btoa(require("Storage").read(${fn},${off},${n}))`));
    const chunk = Buffer.from(String(b64), "base64");
    if (chunk.length !== n) throw new ToolError("VERIFY_FAILED", "read-back of " + name + " at " + off + " gave " + chunk.length + " bytes, expected " + n);
    h.update(chunk);
    onProgress(off + n, len);
  }
  return { length: len, sha256: h.digest("hex") };
}

export async function flash(o: FlashOptions): Promise<FlashResult> {
  const out = o.out ?? defaultOut;
  const def = await loadBoardDef(o.board);
  if (!o.port || o.port === "true") await checkPort(o.port); // a missing --port fails before the build
  if (o.build !== false && !o.bundlePath) {
    out("flash: building");
    const reports = await buildAll();
    const r = reports.find((x) => x.name === def.name);
    if (r && !r.ok) throw new ToolError("OVER_BUDGET", "bundle over budget: " + r.file + " is " + r.bytes + " bytes (budget " + r.budgetBytes + ")" + (r.jsVars !== null ? ", " + r.jsVars + " JsVars idle (budget " + r.budgetJsVars + ")" : ""));
  }
  const file = o.bundlePath ?? join(ROOT, "dist", def.name + ".js");
  const code = readFileSync(file, "latin1");
  const bytes = Buffer.byteLength(code, "latin1");
  if (bytes > def.budget.bundleBytes) throw new ToolError("OVER_BUDGET", "bundle over budget: " + file + " is " + bytes + " bytes, the " + def.name + " takes at most " + def.budget.bundleBytes);
  const sha256 = createHash("sha256").update(code, "latin1").digest("hex");
  out("flash: " + file + ", " + bytes + " bytes, sha256 " + sha256);

  const port = await checkPort(o.port);
  const link = await openLink({ port, board: espruinoBoardJson(def), verbose: o.verbose });
  try {
    const env = await checkBoard(link, def.platform.id, def.platform.espruinoVersion, out);
    out("flash: " + port + " is " + env.BOARD + ", Espruino " + env.VERSION);
    // A clean interpreter (nothing running writes Storage meanwhile), as EspruinoTools does before an upload.
    await link.write("\x10reset();\n");
    await new Promise((r) => setTimeout(r, 300));
    const free = Number(await link.expr(`require("Storage").getFree()+(require("Storage").read(${JSON.stringify(BOOT_FILE)})||"").length`));
    if (!(free > bytes)) throw new ToolError("DEVICE_ERROR", "not enough room in the device's Storage: " + free + " bytes for a " + bytes + "-byte bundle");
    // Update slots would boot instead of the flashed bundle: remove them.
    await link.expr(`require("Storage").list().filter(function(n){return n.indexOf("fw.")==0;}).map(function(n){require("Storage").erase(n);return n;}).length`);
    const lines = link.uploadLines(BOOT_FILE, code);
    const up = progress(out, "flash: writing " + BOOT_FILE);
    let sent = 0;
    for (const line of lines) {
      const r = await link.expr(line);
      if (r !== "true") throw new ToolError("DEVICE_ERROR", "the device refused a Storage write at byte " + sent + ": " + r);
      sent = Math.min(bytes, sent + 384);
      up(sent, bytes);
    }
    const rb = await readBackSha256(link, BOOT_FILE, progress(out, "flash: verifying"));
    if (rb.length !== bytes || rb.sha256 !== sha256) {
      throw new ToolError("VERIFY_FAILED", "verify failed: read back " + rb.length + " bytes with sha256 " + rb.sha256 + ", wrote " + bytes + " bytes with sha256 " + sha256);
    }
    out("flash: verified (sha256 matches)");
    if (o.boot !== false) {
      await link.write("\x10load();\n");
      out("flash: booting the new firmware");
    }
    return { bytes, sha256, deviceBoard: env.BOARD, deviceVersion: env.VERSION };
  } finally {
    await link.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMain("flash", async (a) => {
    await flash({ board: a.board, port: a.port, build: a.build !== "false", boot: a.boot !== "false", bundlePath: a.file, verbose: a.verbose === "true" });
  }, FLASH_USAGE);
}
