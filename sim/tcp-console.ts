/**
 * The simulator's emulated device on a TCP port, as an Espruino console: what a USB-serial bridge on the devkit's
 * Serial1 would be, so EspruinoTools (`tcp://host:port`) and tools/flash.ts, provision.ts and diagnose.ts run
 * against the simulator exactly as against a board.
 *
 *   const host = new SimHost({ board, bundle: "", bootFromStorage: true, ...consoleHostOptions() });
 *   const con = await startTcpConsole({ host, port: 0 });   // con.url = "tcp://127.0.0.1:<port>"
 *   ...; await con.close();
 *
 * REPL behaviour (measured on Espruino 2v29's Linux build with `--telnet`, and as EspruinoTools expects it):
 * - every byte is echoed (a newline as CR LF) unless the line starts with DLE (0x10, "echo off for this line") or
 *   `echo(0)` is in force;
 * - a line whose brackets are still open continues on the next one (echoed prompt `:`);
 * - a complete line is evaluated in the device's global scope; its value is printed as `=value` (not for DLE
 *   lines, not after `echo(0)`), an error as `Uncaught Error: ...`, then the prompt `>`;
 * - an empty line answers CR LF `>`; Ctrl-C (0x03) drops the line being typed;
 * - `reset()` gives a fresh interpreter without running the saved code, `load()` runs `.bootcde` from Storage,
 *   `E.reboot()` power-cycles (both run the saved code as the board does).
 * The console honours the firmware's lock-down: once the bundle has detached the console (`E.setConsole(null)`),
 * bytes from the wire reach only the bundle's own `Serial1.on("data")` listeners and nothing is evaluated, until
 * the firmware gives the console back (`E.setConsole("Serial1")`, after the technician unlock).
 *
 * The device runs in real time while the console is open (its scheduler follows the wall clock).
 *
 * From a shell (after `npm run build`):
 *   npx tsx sim/tcp-console.ts --board devkit --port 2323 [--blank | --console-open [--no-provision] [--pin 2580]]
 * `--blank` starts a device with nothing flashed (console open), as a board fresh from the factory.
 * `--console-open` (development) starts the firmware provisioned (a fresh issuer key; technician PIN `--pin`,
 * default 2580) with its console opened from the technician menu; `--no-provision` leaves it unprovisioned with its
 * console open, ready for `npm run provision`. The console closes again after 10 minutes without a key, as on a
 * terminal.
 */
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Issuer } from "../gateway/index.ts";
import { readBoard, SimHost } from "./host.ts";
import type { SimHostOptions } from "./host.ts";

export interface TcpConsoleOptions {
  host: SimHost;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1: the console is a door into the device). */
  address?: string;
  /** Drive the device's clock from the wall clock (default true). */
  realTime?: boolean;
  /** Milliseconds between clock steps in real time (default 5). */
  tickMs?: number;
  /** Device milliseconds per wall-clock millisecond (default 1; tests speed up a slow printer with more). */
  timeScale?: number;
}

export interface TcpConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** process.env as an official ESP32 build of Espruino 2v29 reports it (the board check reads BOARD and VERSION). */
export const ESP32_ENV: Record<string, string> = {
  VERSION: "2v29",
  BOARD: "ESP32",
  CONSOLE: "Serial1",
};

/**
 * SimHost options a console-attached device needs: process.env as the real board reports it, and Espruino's
 * console globals (`reset`, `load`, `echo`, `btoa`/`atob`) wired to the console once it is started.
 */
export function consoleHostOptions(): Pick<SimHostOptions, "env" | "onContext" | "bootFromStorage"> & { bind(c: ConsoleGlobals): void } {
  let target: ConsoleGlobals | null = null;
  return {
    env: ESP32_ENV,
    bootFromStorage: true,
    bind(c) {
      target = c;
    },
    onContext(g) {
      g.reset = () => target && target.reset();
      g.load = (f?: string) => target && target.load(f);
      g.echo = (on: unknown) => target && target.echo(!!on);
      if (typeof g.btoa !== "function") g.btoa = (s: string) => Buffer.from(String(s), "latin1").toString("base64");
      if (typeof g.atob !== "function") g.atob = (s: string) => Buffer.from(String(s), "base64").toString("latin1");
    },
  };
}

/** What the console globals of the device call back into. */
export interface ConsoleGlobals {
  reset(): void;
  load(file?: string): void;
  echo(on: boolean): void;
}

/** How many brackets a line leaves open, and whether it ends inside a string or block comment. */
export function needsMoreInput(src: string): boolean {
  let depth = 0;
  let quote = "";
  let block = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (block) {
      if (c === "*" && src[i + 1] === "/") {
        block = false;
        i++;
      }
    } else if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
      else if (c === "\n" && quote !== "`") quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      block = true;
      i++;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
  }
  return depth > 0 || block || quote === "`";
}

/** Espruino-like rendering of a REPL result (`=3`, `="abc"`, `=function () { ... }`, objects as JSON). */
export function replValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "function () { ... }";
  if (v && typeof v === "object") {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

export function startTcpConsole(o: TcpConsoleOptions & { bindGlobals?: (c: ConsoleGlobals) => void }): Promise<TcpConsole> {
  const host = o.host;
  let client: net.Socket | null = null;
  let line = "";
  let pending = "";
  let quiet = false; // this line began with DLE
  let echoOn = true;
  let prompt = false;
  const send = (s: string) => {
    if (client && !client.destroyed) client.write(Buffer.from(s, "latin1"));
  };
  const attached = () => host.consoles.serial === "Serial1";

  // What the bundle prints goes to the console wire while the console is on it.
  host.addPrintListener((l) => {
    if (!attached()) return;
    send((prompt ? "\r\x1b[J" : "") + l + "\r\n");
    if (prompt) send(">");
  });
  // While detached, Serial1 is the firmware's own line: what it writes there goes out raw.
  host.addSerialWriteListener((port, bytes) => {
    if (port === 1 && !attached()) send(Buffer.from(bytes).toString("latin1"));
  });

  const globals: ConsoleGlobals = {
    reset() {
      setImmediate(() => {
        host.resetInterpreter(null);
      });
    },
    load(file?: string) {
      setImmediate(() => {
        if (file) host.resetInterpreter(host.storage.read(file) ?? null, file);
        else host.boot();
      });
    },
    echo(on: boolean) {
      echoOn = on;
    },
  };
  if (o.bindGlobals) o.bindGlobals(globals);

  const execute = (code: string, silent: boolean) => {
    prompt = false;
    const r = host.evalInDevice(code);
    if (!r.ok) send("Uncaught " + r.error + "\r\n");
    else if (!silent && echoOn) send("=" + replValue(r.value) + "\r\n");
    if (!silent || !r.ok) {
      send(">");
      prompt = true;
    }
  };

  const input = (data: Buffer) => {
    const s = data.toString("latin1");
    if (!attached()) {
      // Locked down: nothing is evaluated; the firmware's Serial1 listeners (if any) get the bytes.
      host.serialInput(1, new Uint8Array(data));
      return;
    }
    if (host.consoles.locked) return; // E.lockConsole() with a password set: nothing is evaluated
    for (const ch of s) {
      if (ch === "\x03") {
        line = "";
        pending = "";
        quiet = false;
        send("\r\n>");
        prompt = true;
        continue;
      }
      if (ch === "\x10" && line === "") {
        quiet = true;
        continue;
      }
      if (ch === "\r") continue; // CR LF and LF both end a line
      if (ch === "\n") {
        const src = pending + line;
        line = "";
        if (!quiet && echoOn) send("\r\n");
        if (needsMoreInput(src)) {
          pending = src + "\n";
          if (!quiet && echoOn) send(":");
          continue;
        }
        pending = "";
        const silent = quiet || !echoOn;
        quiet = false;
        if (src.trim() === "") {
          if (!silent) {
            send(">");
            prompt = true;
          }
          continue;
        }
        execute(src, silent);
        continue;
      }
      if (ch === "\x08" || ch === "\x7f") {
        line = line.slice(0, -1);
        continue;
      }
      line += ch;
      if (!quiet && echoOn) send(ch);
    }
  };

  const realTime = o.realTime !== false;
  const tickMs = o.tickMs ?? 5;
  const scale = o.timeScale ?? 1;
  let last = Date.now();
  const timer = realTime
    ? setInterval(() => {
        const now = Date.now();
        const dt = now - last;
        last = now;
        if (dt > 0) host.advance(dt * scale);
      }, tickMs)
    : null;

  const server = net.createServer((sock) => {
    // One wire: whoever opens the port last has it (a probe that has not closed yet is dropped).
    if (client && !client.destroyed) client.destroy();
    client = sock;
    line = "";
    pending = "";
    quiet = false;
    prompt = false;
    sock.setNoDelay(true);
    sock.on("data", input);
    sock.on("error", () => sock.destroy());
    sock.on("close", () => {
      if (client === sock) client = null;
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.address ?? "127.0.0.1", () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        url: "tcp://" + (o.address ?? "127.0.0.1") + ":" + addr.port,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            if (timer) clearInterval(timer);
            if (client) client.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * The technician's unlock on the device's own keypad: D, the PIN and # when the menu asks one, then 1 (Open console).
 * True when the console is open.
 */
export function openConsoleByKeys(host: SimHost, pin?: string): boolean {
  host.pressKey("D");
  host.advance(200);
  if (pin && /PIN/.test(host.screenText().join("\n"))) {
    for (const k of pin + "#") host.pressKey(k);
    host.advance(800);
  }
  host.pressKey("1");
  host.advance(200);
  return host.consoles.serial === "Serial1";
}

/**
 * `--console-open`: boots the firmware, provisions it through its own console as `npm run provision` does (a new
 * issuer key, a link key of no gateway, technician PIN `pin`), reboots it and opens its console again. With
 * `provision` false the terminal stays unprovisioned (its menu asks no PIN). Prints what the technician needs.
 */
async function startOpen(host: SimHost, url: string, pin: string, doProvision: boolean, say: (l: string) => void): Promise<void> {
  host.boot();
  host.advance(1500);
  if (!openConsoleByKeys(host)) throw new Error("the console did not open: " + host.screenText().join(" | "));
  if (doProvision) {
    const { provision, issuerCertify } = await import("../tools/provision.ts");
    const iss = Issuer.generate(1);
    const link = Issuer.generate(2);
    await provision({
      board: "devkit",
      port: url,
      terminalId: 7,
      merchantId: 42,
      merchantName: "Dev shop",
      gatewayUrl: "http://127.0.0.1:8080",
      linkKey: Buffer.from(link.publicKey).toString("hex"),
      certify: issuerCertify(iss, 7, 42, Math.floor(Date.now() / 86400000) + 365),
      techPin: pin,
      out: say,
    });
    host.reboot();
    host.advance(1500);
    if (!openConsoleByKeys(host, pin)) throw new Error("the console did not open again after provisioning: " + host.screenText().join(" | "));
    say("provisioned as terminal 7 of merchant 42 (issuer key " + Buffer.from(iss.privateKey).toString("hex") + "), technician PIN " + pin);
  }
  say("console open");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (k: string) => {
    const i = process.argv.indexOf("--" + k);
    return i < 0 ? undefined : process.argv[i + 1] && !process.argv[i + 1].startsWith("--") ? process.argv[i + 1] : "true";
  };
  const { board, bundle } = readBoard(arg("board") ?? "devkit");
  const opts = consoleHostOptions();
  const host = new SimHost({ board, bundle: arg("blank") ? "" : bundle, ...opts, onPrint: (l) => process.stdout.write("[device] " + l + "\n") });
  const say = (l: string) => process.stdout.write(l + "\n");
  startTcpConsole({ host, port: Number(arg("port") ?? 2323), bindGlobals: opts.bind }).then(async (c) => {
    say("Espruino console of the simulated " + board.name + " on " + c.url);
    if (!arg("console-open")) return host.boot();
    try {
      await startOpen(host, c.url, arg("pin") ?? "2580", !arg("no-provision"), say);
    } catch (e) {
      say("tcp-console: " + (e instanceof Error ? e.message : String(e)));
      process.exit(1);
    }
  });
}
