/**
 * A connection to an Espruino console through EspruinoTools used as a library (`require("espruino")`): its
 * serial and `tcp://` transports (Espruino.Core.Serial), its prompt handling and expression evaluation
 * (Espruino.Core.Utils.executeExpression), and its Storage upload code (Espruino.Core.Utils.getUploadFileCode).
 * EspruinoTools keeps one connection in globals, so one Link is open at a time.
 *
 *   const link = await openLink({ port: "tcp://127.0.0.1:2323", board: espruinoBoardJson(devkit) });
 *   const env = JSON.parse(await link.expr("process.env"));
 *   await link.close();
 *
 * Offline: ENV_ON_CONNECT is off and the board data comes from the repo's board file (no download from
 * espruino.com); Bluetooth scanning is off.
 */
import { createRequire } from "node:module";
import type { BoardDef } from "../boards/board.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Raised for every failure a technician should read; `code` names the kind. */
export class ToolError extends Error {
  constructor(
    readonly code: "NO_PORT" | "NO_ANSWER" | "WRONG_BOARD" | "OVER_BUDGET" | "VERIFY_FAILED" | "DEVICE_ERROR" | "USAGE",
    message: string,
  ) {
    super(message);
  }
}

/** Board data in the shape EspruinoTools reads from a board JSON (written from the repo's board file). */
export function espruinoBoardJson(def: BoardDef): Record<string, unknown> {
  const p = def.platform;
  return {
    BOARD: p.id,
    VERSION: p.espruinoVersion,
    info: {
      name: p.id,
      default_console: "EV_SERIAL1",
      default_console_baudrate: String(p.console.baud),
      variables: def.budget.jsVars,
      binary_version: p.espruinoVersion,
      builtin_modules: p.builtinModules.slice(),
    },
    chip: {
      part: p.id,
      family: p.id,
      saved_code: { address: p.storage.address, page_size: p.storage.pageSize, pages: p.storage.pages },
    },
  };
}

let espruino: Any = null;
let verbose = false;
const realLog = console.log.bind(console);
const realWarn = console.warn.bind(console);
const realError = console.error.bind(console);

/**
 * EspruinoTools logs from its callbacks too, so while a link is open its console output is dropped (unless
 * verbose); the tools print through `log()`.
 */
function silence(on: boolean): void {
  if (on && !verbose) {
    console.log = () => {};
    console.warn = () => {};
    console.error = () => {};
  } else {
    console.log = realLog;
    console.warn = realWarn;
    console.error = realError;
  }
}

/** EspruinoTools prints every file it loads and every byte it sends; only with `verbose` does that show. */
function quietly<T>(fn: () => T): T {
  const prev = console.log;
  const prevWarn = console.warn;
  const prevErr = console.error;
  if (!verbose) {
    console.log = () => {};
    console.warn = () => {};
    console.error = () => {};
  }
  try {
    return fn();
  } finally {
    console.log = prev;
    console.warn = prevWarn;
    console.error = prevErr;
  }
}

function tools(): Promise<Any> {
  if (espruino) return Promise.resolve(espruino);
  const req = createRequire(import.meta.url);
  const lib = req("espruino");
  return new Promise((resolve) => {
    quietly(() =>
      lib.init(() => {
        espruino = (globalThis as Any).Espruino;
        resolve(espruino);
      }),
    );
  });
}

export interface LinkOptions {
  /** Serial device (e.g. /dev/ttyUSB0) or tcp://host:port. */
  port: string;
  /** Board JSON (espruinoBoardJson) given to EspruinoTools instead of downloading one. */
  board?: Record<string, unknown>;
  /** Give up connecting after this long (default 8 s). */
  connectTimeoutMs?: number;
  /** Show EspruinoTools' own log. */
  verbose?: boolean;
}

export interface Link {
  /** JSON.stringify(expression) evaluated on the device, as text; ToolError NO_ANSWER if no result came. */
  expr(expression: string, timeoutSeconds?: number): Promise<string>;
  /** Send raw console input. */
  write(text: string): Promise<void>;
  /** Wait until the received text (since `since`) contains `marker`; returns the text from the marker on. */
  waitFor(marker: string, timeoutMs: number, since?: number): Promise<string>;
  /** Everything received so far (its length is a position for waitFor). */
  received(): string;
  /** The lines getUploadFileCode makes to write `contents` to Storage file `name`, one per chunk. */
  uploadLines(name: string, contents: string): string[];
  close(): Promise<void>;
}

export async function openLink(o: LinkOptions): Promise<Link> {
  verbose = !!o.verbose;
  const E = await tools();
  silence(true);
  try {
    return await connect(E, o);
  } catch (e) {
    silence(false);
    throw e;
  }
}

async function connect(E: Any, o: LinkOptions): Promise<Link> {
  const S = E.Core.Serial;
  const U = E.Core.Utils;
  E.Config.ENV_ON_CONNECT = false;
  E.Config.BLUETOOTH_LOW_ENERGY = false;
  E.Config.BLUETOOTH_LOW_ENERGY_DBUS = false;
  E.Config.SERIAL_AUDIO = 0;
  E.Config.STORAGE_UPLOAD_METHOD = 1; // we wait for each chunk's answer ourselves
  if (o.port.indexOf("tcp://") === 0) E.Config.SERIAL_TCPIP = [o.port];
  if (o.board) {
    const env = E.Core.Env.getData();
    for (const k in o.board) env[k] = o.board[k];
  }
  let rx = "";
  const waiters: (() => void)[] = [];
  let closed = false;
  let onClosed: (() => void) | null = null;
  const listener = (data: ArrayBuffer) => {
    const b = new Uint8Array(data);
    for (let i = 0; i < b.length; i++) rx += String.fromCharCode(b[i]);
    for (const w of waiters.slice()) w();
  };
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      quietly(() => {
        if (S.isConnected()) S.close();
      });
      reject(new ToolError("NO_ANSWER", `no answer from ${o.port} (nothing accepted the connection)`));
    }, o.connectTimeoutMs ?? 8000);
    quietly(() => {
      S.startListening(listener);
      S.open(
        o.port,
        (status: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (status === undefined || (status && typeof status === "object" && "code" in (status as object))) {
            reject(new ToolError("NO_PORT", `cannot open port ${o.port}: not found or refused`));
          } else resolve();
        },
        () => {
          closed = true;
          if (onClosed) onClosed();
        },
      );
    });
  });
  quietly(() => S.setSlowWrite(false, true));

  const link: Link = {
    expr(expression, timeoutSeconds = 10) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new ToolError("NO_ANSWER", "the connection closed"));
        // EspruinoTools 0.1.67 only starts its own no-answer timer from a write callback it never calls for
        // short writes, so a silent device would be waited on forever: this timer ends the wait.
        let settled = false;
        const noAnswer = () => new ToolError("NO_ANSWER", "no answer from the device console (is its console unlocked? see docs/technician.md)");
        const timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          reject(noAnswer());
        }, timeoutSeconds * 1000 + 1500);
        quietly(() =>
          U.executeExpression(
            expression,
            (r: string | undefined) => {
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              if (r === undefined) reject(noAnswer());
              else resolve(r.trim());
            },
            { maxTimeout: timeoutSeconds, minTimeout: Math.min(timeoutSeconds, 3) },
          ),
        );
      });
    },
    write(text) {
      // (the write callback is not called for short writes, see expr): the bytes are queued in order, give them a moment.
      quietly(() => S.write(text, false));
      return new Promise((resolve) => setTimeout(resolve, 50));
    },
    waitFor(marker, timeoutMs, since = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = rx.indexOf(marker, since);
          if (at < 0) return false;
          done();
          resolve(rx.slice(at));
          return true;
        };
        const timer = setTimeout(() => {
          done();
          reject(new ToolError("NO_ANSWER", `no answer from the device (waited ${timeoutMs} ms for ${JSON.stringify(marker)})`));
        }, timeoutMs);
        const w = () => {
          check();
        };
        const done = () => {
          clearTimeout(timer);
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(w);
        check();
      });
    },
    received: () => rx,
    uploadLines(name, contents) {
      return (U.getUploadFileCode(name, contents) as string).split("\n");
    },
    close() {
      return new Promise<void>((resolve) => {
        if (closed) return resolve();
        onClosed = () => resolve();
        quietly(() => S.close());
        setTimeout(resolve, 1000).unref();
      }).then(() => silence(false));
    },
  };
  return link;
}

export function log(line: string): void {
  realLog(line);
}
