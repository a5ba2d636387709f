/**
 * What the technician tools share: argument parsing, board lookup (boards/ in the repo, so nothing is fetched),
 * port checks, and the failure report.
 */
import { existsSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BoardDef } from "../boards/board.ts";
import { BOARDS } from "../build.ts";
import { ToolError } from "./link.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `--name value` and `--flag` arguments into a record ("no-x" flags as x: "false"). */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new ToolError("USAGE", "unexpected argument " + JSON.stringify(a));
    const key = a.slice(2);
    const eq = key.indexOf("=");
    if (eq >= 0) out[key.slice(0, eq)] = key.slice(eq + 1);
    else if (key.startsWith("no-")) out[key.slice(3)] = "false";
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out[key] = argv[++i];
    else out[key] = "true";
  }
  return out;
}

/** The board file of `name` (boards/*.ts, listed in build.ts). */
export async function loadBoardDef(name: string | undefined): Promise<BoardDef> {
  const names = BOARDS.map((b) => b.name);
  if (!name) throw new ToolError("USAGE", "missing --board (one of: " + names.join(", ") + ")");
  const b = BOARDS.find((x) => x.name === name);
  if (!b) throw new ToolError("USAGE", "unknown board " + JSON.stringify(name) + " (one of: " + names.join(", ") + ")");
  const mod = await import(pathToFileURL(join(ROOT, b.file)).href);
  return mod[b.export] as BoardDef;
}

/** Fails fast and clearly when the port is not there: a serial device path that does not exist, a refused TCP port. */
export async function checkPort(port: string | undefined): Promise<string> {
  if (!port || port === "true") throw new ToolError("USAGE", "missing --port (a serial device such as /dev/ttyUSB0, or tcp://host:port)");
  if (port.startsWith("tcp://")) {
    let hostPort = port.slice(6);
    let p = 23;
    const i = hostPort.lastIndexOf(":");
    if (i >= 0) {
      p = parseInt(hostPort.slice(i + 1), 10);
      hostPort = hostPort.slice(0, i) || "localhost";
    }
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(p, hostPort);
      s.setTimeout(5000);
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("timeout", () => {
        s.destroy();
        reject(new ToolError("NO_ANSWER", "no answer from " + port + " (connection timed out)"));
      });
      s.once("error", (e: NodeJS.ErrnoException) => {
        s.destroy();
        reject(new ToolError("NO_PORT", "cannot open port " + port + ": " + (e.code === "ECONNREFUSED" ? "connection refused" : e.message)));
      });
    });
    return port;
  }
  if (!existsSync(port)) throw new ToolError("NO_PORT", "cannot open port " + port + ": no such device (is the terminal plugged in?)");
  return port;
}

/**
 * Runs a tool's main; prints `<tool> failed: <message>` and exits 1 on a failure (2 on a usage error). With `--help`
 * or `-h` it prints `usage` and exits 0.
 */
export function runMain(tool: string, main: (args: Record<string, string>) => Promise<void>, usage?: string): void {
  if (usage && (process.argv.indexOf("--help") >= 0 || process.argv.indexOf("-h") >= 0)) {
    process.stdout.write(usage + "\n");
    process.exit(0);
  }
  let args: Record<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(tool + " failed: " + (e as Error).message);
    process.exit(2);
  }
  main(args).then(
    () => process.exit(0),
    (e) => {
      console.error(tool + " failed: " + (e && e.message ? e.message : String(e)));
      process.exit(e instanceof ToolError && e.code === "USAGE" ? 2 : 1);
    },
  );
}

/** A progress line: on a terminal it redraws in place, otherwise it prints at each quarter. */
export function progress(out: (l: string) => void, label: string): (done: number, total: number) => void {
  let lastQuarter = -1;
  const tty = process.stdout.isTTY && out === defaultOut;
  return (done, total) => {
    const pct = total ? Math.floor((done * 100) / total) : 100;
    const text = label + " " + done + "/" + total + " bytes (" + pct + "%)";
    if (tty) {
      process.stdout.write("\r" + text + (done >= total ? "\n" : ""));
      return;
    }
    const q = Math.floor(pct / 25);
    if (q !== lastQuarter) {
      lastQuarter = q;
      out(text);
    }
  };
}

export const defaultOut = (l: string): void => {
  process.stdout.write(l + "\n");
};
