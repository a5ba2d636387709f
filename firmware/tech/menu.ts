/**
 * The technician menu on the terminal, behind the technician unlock (a PIN whose hash the vault holds; a
 * terminal never provisioned has no PIN and opens straight away, having nothing to protect yet).
 *
 *   const menu = openTechMenu({ device, vault, openConsole, closeConsole, onExit });
 *   keypad key -> menu.key(k)        (the flows route keys here while the menu is open)
 *
 * Menu: 1 Open console (the technician tools then run over the cable), 2 Self-test and print the report,
 * 3 Storage and memory, 4 Close console, * Exit. Three wrong PINs lock the menu for five minutes.
 */
import type { Device } from "../../hal/device.ts";
import { bytesToText } from "../settings.ts";
import type { SecretVault } from "./console.ts";
import { checkPin as pinMatches } from "../vault.ts";
import { CFG_FILE, TECH_PIN } from "./console.ts";
import type { DiagnosticsInput, DiagnosticsReport } from "./diagnose.ts";
import { plainTextJob, reportLines, runDiagnostics } from "./diagnose.ts";

export interface TechMenuContext {
  device: Device;
  vault?: SecretVault;
  /** Give the console back to the cable (Platform binding: E.setConsole on the device). */
  openConsole: () => void;
  /** Take it away again (lock-down). */
  closeConsole: () => void;
  /** The menu closed; the flows take the screen and keypad back. */
  onExit: () => void;
  diagnosticsJob?: (r: DiagnosticsReport) => Uint8Array;
  journalState?: () => string;
  /** Wrong-PIN count and lockout end; keep one object across openings so the lockout outlives the menu. */
  lockout?: { until: number; tries: number };
}

export interface TechMenu {
  key(k: string): void;
  /** A code the scanner read while the menu is open (for the scanner self-test). */
  code(text: string): void;
  close(): void;
  /** "pin", "menu", "busy" or "closed". */
  state(): string;
}

const MAX_TRIES = 3;
const LOCKOUT_MS = 5 * 60 * 1000;
const MAX_PIN = 8;

function provisioned(d: Device): boolean {
  const raw = d.storage.read(CFG_FILE);
  if (!raw) return false;
  try {
    const c = JSON.parse(bytesToText(raw));
    return !!(c && c.terminalId);
  } catch (e) {
    return false;
  }
}

export function openTechMenu(ctx: TechMenuContext): TechMenu {
  const d = ctx.device;
  const lock = ctx.lockout || { until: 0, tries: 0 };
  let state = "pin";
  let pin = "";
  let message = "";
  let diag: DiagnosticsInput | null = null;

  const draw = (title: string, lines: string[]) => {
    const c = d.display.canvas;
    c.clear();
    c.setFont("6x8");
    c.setColor(2).fillRect(0, 0, d.display.width - 1, 24);
    c.setColor(0).setFontAlign(-1, -1).drawString(title, 6, 8);
    c.setColor(1);
    for (let i = 0; i < lines.length; i++) c.drawString(lines[i], 6, 34 + i * 16);
    d.display.flip();
  };
  const showPin = () => {
    let stars = "";
    for (let i = 0; i < pin.length; i++) stars += "*";
    draw("TECHNICIAN", ["Enter PIN, # to confirm", stars, message]);
  };
  const showMenu = () => draw("TECHNICIAN MENU", ["1 Open console", "2 Self-test + print", "3 Storage, memory", "4 Close console", "* Exit", message]);

  const enterMenu = () => {
    state = "menu";
    lock.tries = 0;
    message = "";
    showMenu();
  };

  const checkPin = () => {
    if (!ctx.vault) {
      message = "No vault: locked";
      return showPin();
    }
    ctx.vault.get(TECH_PIN, (err, stored) => {
      const ok = !err && pinMatches(d.crypto, stored, pin);
      pin = "";
      if (ok) return enterMenu();
      lock.tries++;
      if (lock.tries >= MAX_TRIES) {
        lock.until = d.clock.now() + LOCKOUT_MS;
        lock.tries = 0;
      }
      message = err ? "Vault error" : "Wrong PIN";
      showPin();
    });
  };

  const close = () => {
    if (state === "closed") return;
    state = "closed";
    ctx.onExit();
  };

  const menu: TechMenu = {
    key(k) {
      if (state === "busy" && diag) return diag.key(k);
      if (state === "closed" || state === "busy") return;
      if (state === "pin") {
        if (d.clock.now() < lock.until) {
          message = "Locked, try later";
          return showPin();
        }
        if (k === "*") return close();
        if (k === "#") return checkPin();
        if (k >= "0" && k <= "9" && pin.length < MAX_PIN) pin += k;
        return showPin();
      }
      if (k === "*") return close();
      if (k === "1") {
        ctx.openConsole();
        message = "Console open";
        return showMenu();
      }
      if (k === "4") {
        ctx.closeConsole();
        message = "Console closed";
        return showMenu();
      }
      if (k === "3") {
        const st = d.storage.stats();
        const m = d.platform.memory();
        return draw("STORAGE", ["Free " + st.freeBytes + " bytes", "Files " + st.fileCount, "Trash " + st.trashBytes, "Memory " + m.used + "/" + m.total, "Firmware " + d.platform.version, "* Exit"]);
      }
      if (k === "2") {
        state = "busy";
        draw("SELF-TEST", ["Press any key,", "scan any code..."]);
        diag = runDiagnostics({ device: d, interactiveMs: 8000, journalState: ctx.journalState, testBle: true }, (r) => {
          diag = null;
          const job = ctx.diagnosticsJob ? ctx.diagnosticsJob(r) : plainTextJob(reportLines(r));
          d.printer.print(job, (err) => {
            state = "menu";
            message = (r.ok ? "PASS" : "FAIL") + (err ? ", print: " + err : ", printed");
            showMenu();
          });
        });
      }
    },
    code(text) {
      if (diag) diag.code(text);
    },
    close: close,
    state: () => state,
  };
  if (!provisioned(d)) enterMenu();
  else showPin();
  return menu;
}
