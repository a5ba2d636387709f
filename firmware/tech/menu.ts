/**
 * The technician menu on the terminal, behind the technician unlock (a PIN whose hash the vault holds; a
 * terminal never provisioned has no PIN and opens straight away, having nothing to protect yet). Whether it is
 * provisioned is asked of the vault (ctx.provisioned; by default: the vault, sealed under the secure element's
 * key, holds a technician PIN), never of a settings file a power cut or an attacker can remove.
 *
 *   const menu = openTechMenu({ device, vault, openConsole, closeConsole, onExit });
 *   keypad key -> menu.key(k)        (the flows route keys here while the menu is open)
 *
 * Menu: 1 Open console (the technician tools then run over the cable), 2 Self-test and print the report,
 * 3 Storage and memory, 4 Close console, * Exit. Wrong PINs lock the menu with a growing back-off kept across
 * reboots (./pin-tries.ts), each one logged. Leaving the menu (* or TECH_IDLE_MS without a key) closes the console.
 */
import type { Device } from "../../hal/device.ts";
import type { SecretVault } from "./console.ts";
import { checkPin as pinMatches } from "../vault.ts";
import { TECH_PIN } from "./console.ts";
import { PinTries } from "./pin-tries.ts";
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
  /** Wrong-PIN counts, kept on flash (by default one made here over device.storage). */
  tries?: PinTries;
  /** Whether the terminal is provisioned (a PIN is required); by default: the vault holds a technician PIN. */
  provisioned?: (done: (yes: boolean) => void) => void;
}

export interface TechMenu {
  key(k: string): void;
  /** A code the scanner read while the menu is open (for the scanner self-test). */
  code(text: string): void;
  close(): void;
  /** "pin", "menu", "busy" or "closed". */
  state(): string;
}

const MAX_PIN = 8;
/** The menu closes itself, and the console with it, after this long without a key. */
export const TECH_IDLE_MS = 10 * 60000;

export function openTechMenu(ctx: TechMenuContext): TechMenu {
  const d = ctx.device;
  const tries = ctx.tries || new PinTries(d.storage, d.clock);
  let state = "pin";
  // keys typed while the vault is asked whether a PIN is needed: replayed on the menu when none is
  let early: string[] | null = [];
  let idle = 0;
  let pin = "";
  let message = "";
  let diag: DiagnosticsInput | null = null;

  const draw = (title: string, lines: string[]) => {
    d.display.paint(0, d.display.height - 1, (c, top) => {
      c.setFont("6x8", 1);
      c.setColor(2).fillRect(0, -top, d.display.width - 1, 24 - top);
      c.setColor(0).setFontAlign(-1, -1, 0).drawString(title, 6, 8 - top);
      c.setColor(1);
      for (let i = 0; i < lines.length; i++) c.drawString(lines[i], 6, 34 + i * 16 - top);
    });
  };
  const showPin = () => {
    let stars = "";
    for (let i = 0; i < pin.length; i++) stars += "*";
    draw("TECHNICIAN", ["Enter PIN, # to confirm", stars, message]);
  };
  const showMenu = () => draw("TECHNICIAN MENU", ["1 Open console", "2 Self-test + print", "3 Storage, memory", "4 Close console", "* Exit", message]);

  const enterMenu = () => {
    state = "menu";
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
      if (ok) {
        tries.ok(0);
        return enterMenu();
      }
      tries.fail(0);
      message = err ? "Vault error" : "Wrong PIN";
      showPin();
    });
  };

  const close = () => {
    if (state === "closed") return;
    state = "closed";
    if (idle) d.clock.clear(idle);
    ctx.closeConsole();
    ctx.onExit();
  };

  const menu: TechMenu = {
    key(k) {
      arm();
      if (state === "busy" && diag) return diag.key(k);
      if (state === "closed" || state === "busy") return;
      if (state === "pin") {
        if (early) early.push(k);
        if (tries.locked(0)) {
          message = "Locked, try later";
          return showPin();
        }
        if (k === "*") return close();
        if (k === "#") return early ? undefined : checkPin();
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
  const arm = () => {
    if (idle) d.clock.clear(idle);
    idle = d.clock.setTimeout(() => {
      idle = 0;
      if (state === "busy") return arm();
      close();
    }, TECH_IDLE_MS);
  };
  const decide = (yes: boolean) => {
    const keys = early || [];
    early = null;
    if (state !== "pin") return;
    if (yes) return keys.indexOf("#") >= 0 && !tries.locked(0) ? checkPin() : undefined;
    pin = "";
    enterMenu();
    for (let i = 0; i < keys.length; i++) menu.key(keys[i]);
  };
  arm();
  showPin();
  if (ctx.provisioned) ctx.provisioned(decide);
  else if (ctx.vault) ctx.vault.get(TECH_PIN, (err, v) => decide(!err && !!v));
  else decide(false);
  return menu;
}
