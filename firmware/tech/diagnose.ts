/**
 * Terminal self-tests for the technician: secure element (and its configuration, ../se-ready.ts), printer, scanner, display, keypad, Bluetooth, Wi-Fi,
 * Storage health, the journal's flash region against the partition table, firmware version and memory. Each part is tested through the same `device` interfaces the
 * payment flows use; parts that need a person (a key press, a scanned code, a look at the screen) are given a
 * chance to prove themselves within a window and otherwise report "manual".
 *
 *   const input = runDiagnostics(deps, (report) => print(reportLines(report)));
 *   // while it runs: keypad key -> input.key(k), scanned code -> input.code(text)
 */
import type { Device } from "../../hal/device.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import { checkJournalPlace } from "../journal/place.ts";
import { runningSlot } from "../update/slots.ts";
import { seReady } from "../se-ready.ts";

export type CheckResult = "pass" | "fail" | "manual";

export interface Check {
  part: string;
  result: CheckResult;
  detail: string;
}

export interface DiagnosticsReport {
  version: string;
  board: string;
  /** Update slot running ("" = factory bundle). */
  slot: string;
  memory: { used: number; total: number };
  storage: { totalBytes: number; freeBytes: number; fileCount: number; trashBytes: number };
  journal: string;
  checks: Check[];
  /** True when every automatic check passed (manual ones do not count against it). */
  ok: boolean;
}

export interface DiagnoseDeps {
  device: Device;
  /** How long to wait for a key press / a scanned code before calling the check "manual" (ms; 0 = do not wait). */
  interactiveMs?: number;
  /** One line on the journal's state (helper B's journal), if wired. */
  journalState?: () => string;
  /** Whether this run may light up the Bluetooth radio (not while a payment session is open). */
  testBle?: boolean;
}

/** What journalLine reads of the journal (firmware/journal/journal.ts). */
interface JournalView {
  stats(): { pending: number; acked: number; slotsLeft: number };
  anomalies(): unknown[];
}

/** The journal's state as diagnose reports it: pending, acknowledged, free slots (largest records), anomalies. */
export function journalLine(j: JournalView): string {
  const s = j.stats();
  return "pending " + s.pending + ", acked " + s.acked + ", free slots " + s.slotsLeft + ", anomalies " + j.anomalies().length;
}

type Step = (next: () => void) => void;

/** Runs steps one after another, each calling next() when done (no recursion through the stack beyond one level). */
function sequence(steps: Step[], done: () => void): void {
  let i = 0;
  const next = () => {
    if (i >= steps.length) return done();
    const s = steps[i++];
    s(next);
  };
  next();
}

/** Feeds the key presses and scanned codes the caller receives while the diagnostics run. */
export interface DiagnosticsInput {
  key(k: string): void;
  code(text: string): void;
}

export function runDiagnostics(d: DiagnoseDeps, done: (r: DiagnosticsReport) => void): DiagnosticsInput {
  const dev = d.device;
  const checks: Check[] = [];
  const add = (part: string, result: CheckResult, detail: string) => {
    checks.push({ part: part, result: result, detail: detail });
  };
  const wait = d.interactiveMs || 0;
  // Key presses and scans arriving while the diagnostics run.
  let keySeen = "";
  let codeSeen = "";
  const steps: Step[] = [
    (next) => {
      dev.secure.info((err, rev) => {
        if (err || !rev) {
          add("secure element", "fail", "no answer: " + err);
          return next();
        }
        dev.secure.publicKey(0, (kerr, pub) => {
          add("secure element", "pass", "rev " + toHex(rev) + (kerr || !pub ? ", no identity key yet" : ", identity " + toHex(pub).slice(0, 16) + "..."));
          next();
        });
      });
    },
    (next) =>
      seReady(dev, (code) => {
        add("secure element config", code ? "fail" : "pass", code ? code + ": not set up, no payment" : "locked, ECDH encrypted");
        next();
      }),
    (next) => {
      dev.printer.status((s) => {
        add("printer", s === "ready" ? "pass" : "fail", s);
        next();
      });
    },
    (next) => {
      try {
        const w = dev.display.width;
        const h = dev.display.height;
        dev.display.paint(0, h - 1, (c, top) => {
          c.setFont("6x8", 1);
          c.setColor(2).fillRect(0, -top, w - 1, 29 - top);
          c.setColor(1).setFontAlign(0, 0, 0).drawString("DISPLAY TEST", w / 2, h / 2 - top);
          c.drawRect(0, -top, w - 1, h - 1 - top);
        });
        add("display", "manual", "test pattern drawn: check the screen");
      } catch (e) {
        add("display", "fail", String(e));
      }
      next();
    },
    (next) => {
      try {
        // Keys and codes come in through the returned handle: the flows own the keypad and scanner listeners.
        dev.scanner.trigger();
      } catch (e) {
        add("scanner", "fail", String(e));
      }
      if (!wait) return next();
      dev.clock.setTimeout(next, wait);
    },
    (next) => {
      add("keypad", keySeen ? "pass" : "manual", keySeen ? "key " + keySeen + " seen" : "no key pressed");
      if (!checks.some((c) => c.part === "scanner")) add("scanner", codeSeen ? "pass" : "manual", codeSeen ? "read " + codeSeen.length + " characters" : "triggered; no code scanned");
      next();
    },
    (next) => {
      if (!d.testBle) {
        add("bluetooth", "manual", "not started (a payment session may be using it)");
        return next();
      }
      try {
        dev.ble.start({ service: "fe59", name: "TERMINAL-TEST", characteristics: [] });
        dev.ble.stop();
        add("bluetooth", "pass", "advertised and stopped");
      } catch (e) {
        add("bluetooth", "fail", String(e));
      }
      next();
    },
    (next) => {
      const s = dev.wifi.state();
      add("wifi", s === "connected" ? "pass" : "manual", s);
      next();
    },
  ];
  const input: DiagnosticsInput = {
    key(k) {
      if (!keySeen) keySeen = k;
    },
    code(text) {
      if (!codeSeen) codeSeen = text;
    },
  };
  sequence(steps, () => {
    const st = dev.storage.stats();
    const storageOk = st.freeBytes > 16384;
    add("storage", storageOk ? "pass" : "fail", st.freeBytes + " bytes free, " + st.fileCount + " files, " + st.trashBytes + " bytes to compact");
    // the journal's region against the chip's partition table, as the boot checks it (firmware/journal/place.ts)
    const place = checkJournalPlace(dev.flash);
    add("journal flash", place.code ? "fail" : "pass", place.code ? place.code + " " + place.message : place.message);
    const mem = dev.platform.memory();
    let ok = true;
    for (let i = 0; i < checks.length; i++) if (checks[i].result === "fail") ok = false;
    done({
      version: dev.platform.version,
      board: dev.board,
      slot: runningSlot(dev.storage),
      memory: mem,
      storage: { totalBytes: st.totalBytes, freeBytes: st.freeBytes, fileCount: st.fileCount, trashBytes: st.trashBytes },
      journal: d.journalState ? d.journalState() : "not reported",
      checks: checks,
      ok: ok,
    });
  });
  return input;
}

/** The report as short lines (32 columns: the 58 mm printer's width). */
export function reportLines(r: DiagnosticsReport): string[] {
  const lines = [
    "TERMINAL DIAGNOSTICS",
    "Firmware " + r.version,
    "Board " + r.board + (r.slot ? " (update " + r.slot + ")" : " (factory)"),
    "Memory " + r.memory.used + "/" + r.memory.total + " vars",
    "Storage free " + r.storage.freeBytes,
    "Journal " + r.journal,
  ];
  for (let i = 0; i < r.checks.length; i++) {
    const c = r.checks[i];
    lines.push((c.result === "pass" ? "OK   " : c.result === "fail" ? "FAIL " : "?    ") + c.part);
    lines.push("  " + c.detail.slice(0, 30));
  }
  lines.push(r.ok ? "RESULT: PASS" : "RESULT: FAIL");
  return lines;
}

/**
 * A plain ESC/POS text job (ESC @, the lines, feed): what is printed when no richer receipt builder
 * (firmware/receipt diagnosticsJob) is wired in.
 */
export function plainTextJob(lines: string[]): Uint8Array {
  let n = 2 + 3;
  for (let i = 0; i < lines.length; i++) n += lines[i].length + 1;
  const out = new Uint8Array(n);
  let p = 0;
  out[p++] = 0x1b;
  out[p++] = 0x40;
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i];
    for (let j = 0; j < s.length; j++) out[p++] = s.charCodeAt(j) & 0x7f;
    out[p++] = 0x0a;
  }
  out[p++] = 0x1b;
  out[p++] = 0x64;
  out[p++] = 4;
  return out;
}
