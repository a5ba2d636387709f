/**
 * npm run diagnose -- --board devkit --port <serial | tcp://host:port> [--no-print] [--interactive 10] [--ble]
 *
 * With the terminal's console open (technician menu, "Open console"): runs the terminal's self-tests (secure
 * element, printer, scanner, display, keypad, Bluetooth, Wi-Fi), reports Storage health (free space, files,
 * space to compact, journal state), firmware version, running update slot and memory, and has the terminal
 * print the report. `--interactive N` gives N seconds to press a key and scan a code on the terminal.
 * Exits 1 when a check failed.
 */
import { fileURLToPath } from "node:url";
import type { DiagnosticsReport } from "../firmware/tech/diagnose.ts";
import { reportLines } from "../firmware/tech/diagnose.ts";
import { checkBoard } from "./flash.ts";
import { checkPort, defaultOut, loadBoardDef, runMain } from "./common.ts";
import { espruinoBoardJson, openLink, ToolError } from "./link.ts";
import { techCall } from "./tech.ts";

export const DIAGNOSE_USAGE = [
  "usage: npm run diagnose -- --board BOARD --port PORT [--interactive SECONDS] [--ble] [--no-print] [--verbose]",
  "  --board        the board (devkit)",
  "  --port         a serial device (/dev/ttyUSB0) or the simulator's console (tcp://127.0.0.1:2323)",
  "  --interactive  seconds to press a key and scan a code on the terminal",
  "  --ble          start and stop Bluetooth advertising",
  "  --no-print     do not print the report on the terminal's printer",
  "Reports every part, the secure element's configuration, Storage, the journal (pending, acknowledged, free",
  "slots, anomalies), version and memory; exits 1 when a check failed. The console must be open: docs/technician.md.",
].join("\n");

export interface DiagnoseOptions {
  board: string;
  port: string;
  print?: boolean;
  interactiveSeconds?: number;
  ble?: boolean;
  verbose?: boolean;
  out?: (line: string) => void;
}

export async function diagnose(o: DiagnoseOptions): Promise<DiagnosticsReport & { printed: boolean }> {
  const out = o.out ?? defaultOut;
  const def = await loadBoardDef(o.board);
  const port = await checkPort(o.port);
  const link = await openLink({ port, board: espruinoBoardJson(def), verbose: o.verbose });
  try {
    const env = await checkBoard(link, def.platform.id, def.platform.espruinoVersion, out);
    out("diagnose: " + port + " is " + env.BOARD + ", Espruino " + env.VERSION);
    const wait = Math.max(0, Math.floor((o.interactiveSeconds ?? 0) * 1000));
    if (wait) out("diagnose: press a key and scan a code on the terminal within " + wait / 1000 + " s");
    const r = await techCall(link, { op: "diagnose", interactiveMs: wait, print: o.print !== false, testBle: !!o.ble }, 30000 + wait);
    const report = r.report as DiagnosticsReport;
    for (const l of reportLines(report)) out(l);
    // the printed lines are cut to the paper's width: a failed check's whole reason here
    for (const c of report.checks) if (c.result === "fail") out("diagnose: " + c.part + " failed: " + c.detail);
    out("Storage: " + report.storage.freeBytes + " of " + report.storage.totalBytes + " bytes free, " + report.storage.fileCount + " files, " + report.storage.trashBytes + " bytes to compact");
    out(o.print === false ? "diagnose: report not printed (--no-print)" : r.printed ? "diagnose: report printed on the terminal" : "diagnose: the terminal could not print the report (" + r.printError + ")");
    return { ...report, printed: !!r.printed };
  } finally {
    await link.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMain("diagnose", async (a) => {
    const r = await diagnose({ board: a.board, port: a.port, print: a.print !== "false", interactiveSeconds: a.interactive ? Number(a.interactive) : 0, ble: a.ble === "true", verbose: a.verbose === "true" });
    if (!r.ok) throw new ToolError("DEVICE_ERROR", "a self-test failed");
  }, DIAGNOSE_USAGE);
}
