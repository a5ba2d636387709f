/**
 * A real Kannel on loopback for tests: bearerbox, smsbox and the fake SMSC (Debian's `kannel` and `kannel-extras`),
 * on free ports, with their configuration and logs in a temporary folder, stopped by PID.
 *
 *   const k = kannelBinaries();                 // null when Kannel is not installed: the test skips, saying so
 *   const kn = await startKannel({ dir });       // kn.sendsmsUrl, kn.user, kn.password
 *   await kn.waitForMessage(/Paid/);             // what reached the fake SMSC: "<from> <to> text <text>"
 *   await kn.stop();
 *
 * The fake SMSC (Kannel's test/fakesmsc) prints each message it receives as `Got message N: <from to text ...>`.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";

export interface KannelBinaries {
  bearerbox: string;
  smsbox: string;
  fakesmsc: string;
}

/** Kannel's binaries where Debian installs them (or under $KANNEL_PREFIX), else null. */
export function kannelBinaries(): KannelBinaries | null {
  const pre = process.env.KANNEL_PREFIX || "";
  const b = { bearerbox: pre + "/usr/sbin/bearerbox", smsbox: pre + "/usr/sbin/smsbox", fakesmsc: pre + "/usr/lib/kannel/test/fakesmsc" };
  return existsSync(b.bearerbox) && existsSync(b.smsbox) && existsSync(b.fakesmsc) ? b : null;
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once("error", () => done(false));
    s.connect(port, "127.0.0.1", () => done(true));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface KannelPorts {
  admin: number;
  smsbox: number;
  smsc: number;
  sendsms: number;
}

export interface Kannel {
  ports: KannelPorts;
  sendsmsUrl: string;
  user: string;
  password: string;
  /** Lines the fake SMSC printed for messages it received: "<from> <to> text <text>". */
  received(): string[];
  waitForMessage(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops the fake SMSC, smsbox and bearerbox by their PIDs (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Picks free ports for a Kannel to be started later (the "Kannel is down" test knows its URL before it runs). */
export async function kannelPorts(): Promise<KannelPorts> {
  return { admin: await freePort(), smsbox: await freePort(), smsc: await freePort(), sendsms: await freePort() };
}

/** Kannel's configuration: core, one fake SMSC, smsbox, a sendsms user, the default sms-service (Kannel wants one). */
export function kannelConfig(dir: string, p: KannelPorts, user: string, password: string): string {
  return [
    "group = core",
    "admin-port = " + p.admin,
    'admin-password = "' + password + '"',
    "smsbox-port = " + p.smsbox,
    'box-allow-ip = "127.0.0.1"',
    'admin-allow-ip = "127.0.0.1"',
    'log-file = "' + join(dir, "bearerbox.log") + '"',
    "log-level = 1",
    "",
    "group = smsc",
    "smsc = fake",
    "smsc-id = FAKE",
    "port = " + p.smsc,
    "connect-allow-ip = 127.0.0.1",
    "",
    "group = smsbox",
    "bearerbox-host = 127.0.0.1",
    "bearerbox-port = " + p.smsbox,
    "sendsms-port = " + p.sendsms,
    'sendsms-interface = "127.0.0.1"',
    'log-file = "' + join(dir, "smsbox.log") + '"',
    "log-level = 1",
    "",
    "group = sendsms-user",
    "username = " + user,
    "password = " + password,
    "",
    "group = sms-service",
    "keyword = default",
    'text = "no service"',
    "",
  ].join("\n");
}

async function stopProc(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  const gone = new Promise<void>((r) => c.once("exit", () => r()));
  process.kill(c.pid, "SIGTERM");
  const t = setTimeout(() => {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, "SIGKILL");
  }, 5000);
  await gone;
  clearTimeout(t);
}

/** Starts bearerbox, smsbox and the fake SMSC (in that order) and waits until sendsms answers and the SMSC is connected. */
export async function startKannel(o: { dir: string; ports?: KannelPorts; user?: string; password?: string; bin?: KannelBinaries; timeoutMs?: number }): Promise<Kannel> {
  const bin = o.bin ?? kannelBinaries();
  if (!bin) throw new Error("Kannel is not installed (apt-get install kannel kannel-extras)");
  const ports = o.ports ?? (await kannelPorts());
  const user = o.user ?? "gw";
  const password = o.password ?? "pw" + Math.random().toString(36).slice(2, 10);
  const conf = join(o.dir, "kannel.conf");
  writeFileSync(conf, kannelConfig(o.dir, ports, user, password));
  const procs: ChildProcess[] = [];
  const lines: string[] = [];
  let fakeOut = "";
  const deadline = Date.now() + (o.timeoutMs ?? 15000);
  const stop = async () => {
    for (const c of procs.slice().reverse()) await stopProc(c);
  };
  const start = (file: string, args: string[]) => {
    const c = spawn(file, args, { cwd: o.dir, stdio: ["ignore", "pipe", "pipe"] });
    procs.push(c);
    return c;
  };
  try {
    const bb = start(bin.bearerbox, [conf]);
    bb.stdout?.resume();
    bb.stderr?.resume();
    while (!(await portOpen(ports.smsbox))) {
      if (Date.now() > deadline || bb.exitCode !== null) throw new Error("bearerbox did not start (see " + join(o.dir, "bearerbox.log") + ")");
      await sleep(100);
    }
    const sb = start(bin.smsbox, [conf]);
    sb.stdout?.resume();
    sb.stderr?.resume();
    while (!(await portOpen(ports.sendsms))) {
      if (Date.now() > deadline || sb.exitCode !== null) throw new Error("smsbox did not start (see " + join(o.dir, "smsbox.log") + ")");
      await sleep(100);
    }
    // fakesmsc: -i 1 -m 0: send nothing of its own (0 messages), poll each second; it prints what it receives
    const fs = start(bin.fakesmsc, ["-H", "127.0.0.1", "-r", String(ports.smsc), "-i", "1", "-m", "0", "x x text x"]);
    const take = (b: Buffer) => {
      fakeOut += b.toString("utf8");
      let i: number;
      while ((i = fakeOut.indexOf("\n")) >= 0) {
        const line = fakeOut.slice(0, i);
        fakeOut = fakeOut.slice(i + 1);
        const m = /Got message [0-9]+: <(.*)>\s*$/.exec(line);
        if (m) lines.push(m[1]);
      }
    };
    fs.stdout?.on("data", take);
    fs.stderr?.on("data", take);
    // connected once bearerbox's admin status lists the SMSC online
    for (;;) {
      let online = false;
      try {
        const r = await fetch("http://127.0.0.1:" + ports.admin + "/status.txt?password=" + encodeURIComponent(password), { signal: AbortSignal.timeout(1000) });
        online = /FAKE.*online/i.test(await r.text());
      } catch {
        online = false;
      }
      if (online) break;
      if (Date.now() > deadline || fs.exitCode !== null) throw new Error("the fake SMSC did not connect (see " + join(o.dir, "bearerbox.log") + ")");
      await sleep(200);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    ports,
    sendsmsUrl: "http://127.0.0.1:" + ports.sendsms,
    user,
    password,
    received: () => lines.slice(),
    async waitForMessage(re: RegExp, timeoutMs = 10000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => re.test(l));
        if (hit) return hit;
        if (Date.now() > end) throw new Error("no message matching " + re + " reached the fake SMSC; it got: " + JSON.stringify(lines));
        await sleep(100);
      }
    },
    stop,
  };
}
