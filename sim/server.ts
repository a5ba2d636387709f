/**
 * The simulator page's HTTP server: a World in real time (its event loop follows the wall clock), a small JSON API
 * the page calls, and a Server-Sent Events stream (/events) that tells the page when the panel, the paper roll or
 * the state changed, so the page fetches a new frame only when there is one. Tests start it on a free port (port 0)
 * with an in-memory world.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeQrPngBytes } from "./render/qr-decode.ts";
import { PAGE } from "./ui/page.ts";
import { qrPng, World } from "./world.ts";
import { isEspruino } from "./engine/engine.ts";
import { BUS_CHANNELS } from "./bus-log.ts";
import type { BusChannel } from "./bus-log.ts";
import { journalView } from "./journal-view.ts";
import type { GatewayLike, WorldOptions } from "./world.ts";

export interface PageServerOptions extends WorldOptions {
  port: number;
  host?: string;
  /** Attach a gateway (its HTTP handler becomes the terminal's peer) and show its books on the page. */
  gateway?: (world: World) => Promise<GatewayLike | null>;
  /** Provision the terminal at start when this world has not yet (needs the technician menu in the firmware). */
  provision?: boolean;
  log?: (line: string) => void;
}

export interface PageServer {
  url: string;
  world: World;
  close(): Promise<void>;
}

const HOUR = 3600000;
/**
 * Device time a key stays down at least, whatever the browser and the network did meanwhile: a key's down and up
 * can reach the server between two turns of the event loop on a busy machine, and the firmware's keypad scan would
 * then never see it. A finger's press is longer than the driver's debounce.
 */
export const KEY_HOLD_MS = 100;
/** Device time between a key's release and the next key's press (the firmware sees the release first). */
export const KEY_GAP_MS = 40;
/** How long a code shown to the scanner stays in front of it (ms of device time), unless shown again meanwhile. */
const SHOW_MS = 800;
/**
 * Fast mode: wall-clock ms of each 20 ms turn spent running the terminal (the rest is left to the server, the
 * gateway and the page). The device then runs as fast as the machine allows.
 */
const FAST_BUDGET_MS = 14;
/** Wall-clock ms between two paper events at most (a receipt printed in fast mode changes the roll every turn). */
const PAPER_PUSH_MS = 250;

/** jsQR's browser build, served to the page for the camera (decoded in the browser, frames never leave it). */
let jsqrSource: string | null = null;
function jsqrBrowserBuild(): string {
  if (jsqrSource === null) jsqrSource = readFileSync(createRequire(import.meta.url).resolve("jsqr"), "utf8");
  return jsqrSource;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > 4 * 1024 * 1024) {
        reject(new Error("request body over 4 MB"));
        req.destroy();
      } else parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

export async function startPageServer(o: PageServerOptions): Promise<PageServer> {
  const log = o.log ?? (() => {});
  const world = World.open({ board: o.board, bundle: o.bundle, secure: o.secure, stateDir: o.stateDir, wallClockMs: o.wallClockMs, engine: o.engine, espruino: o.espruino, maxLifetimeS: o.maxLifetimeS ?? 86400, onPrint: (l) => log("[device] " + l) });
  const gateway = o.gateway ? await o.gateway(world) : null;
  if (gateway) world.attachGateway(gateway);
  if (o.provision && !world.provisioned) {
    try {
      await world.provision();
    } catch (e) {
      log("[sim] " + (e instanceof Error ? e.message : String(e)));
    }
  }
  let lastPayment: string | null = null;
  /** Every payment a wallet made on this page, for the scanner's picker (scan one again: a replay). */
  const payments: { label: string; qr: string; wallet: string }[] = [];
  let lastConfirmation: string | null = null;
  let last = Date.now();
  let timer: ReturnType<typeof setInterval> | null = null;

  // What the page is told about: versions bump when the panel's pixels or the paper roll change.
  const versions = { display: 0, paper: 0 };
  let displayHash = "";
  let paperLen = -1;
  const streams = new Set<ServerResponse>();
  // Count receipts again only when the roll grew (the jobs, without rendering them).
  let counted = { items: -1, n: 0 };
  const receiptCount = () => {
    const items = world.host.printer.paper.length;
    if (items !== counted.items) counted = { items, n: world.host.printer.receipts().length };
    return counted.n;
  };
  /** The page fetches the whole roll on each paper event: at most one every PAPER_PUSH_MS while lines keep coming. */
  let paperPushedAt = 0;
  const push = (event: string, data: unknown) => {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.write(msg);
  };
  const watch = () => {
    const f = world.host.display.frame();
    const h = createHash("sha1").update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength)).digest("hex") + (world.host.display.on ? "1" : "0");
    if (h !== displayHash) {
      displayHash = h;
      versions.display++;
      push("display", { v: versions.display });
    }
    const n = world.host.printer.paper.length;
    if (n !== paperLen && Date.now() - paperPushedAt >= PAPER_PUSH_MS) {
      paperPushedAt = Date.now();
      paperLen = n;
      versions.paper++;
      push("paper", { v: versions.paper, receipts: receiptCount() });
    }
  };

  /**
   * "real": device time follows the wall clock. "fast": while the terminal works on its own (the printer printing
   * a receipt), device time runs as fast as the machine allows; while it waits for a person (a key, a scan, the
   * phone) or for the gateway (whose reply comes in wall-clock time: racing on would time the request out), in
   * real time, so no screen's timeout runs out under the user's hand. V8 engine only.
   */
  let speed: "real" | "fast" = "real";
  const fastNow = () => {
    const h = world.host;
    return !isEspruino(h) && h.poweredOn && world.httpInFlight === 0 && h.printer.printing;
  };
  const tick = () => {
    const now = Date.now();
    const dt = Math.min(now - last, 1000);
    last = now;
    try {
      world.wait(dt);
      releaseKeys();
      takeAway();
      // fast: then as far ahead as the turn's budget goes (never slower than real time: a busy machine gives the
      // turn late, and dt covers that)
      const end = Date.now() + FAST_BUDGET_MS;
      while (speed === "fast" && Date.now() < end && fastNow()) {
        world.wait(20);
        releaseKeys();
        takeAway();
      }
      if (streams.size) watch();
    } catch (e) {
      log("[sim] " + (e instanceof Error ? e.message : String(e)));
    }
  };
  const startLoop = () => {
    last = Date.now();
    if (!timer) timer = setInterval(tick, 20);
  };
  const stopLoop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  // Keys: the page's downs and ups in the order they came, each applied once the device is ready for it in its own
  // time: an up once the key has been held KEY_HOLD_MS, a down KEY_GAP_MS after the last up. Fast typing on a
  // slow machine then still reaches the firmware key by key (two keys down together stay possible: a chord).
  const keyDownAt = new Map<string, number>();
  const keyQueue: { key: string; down: boolean }[] = [];
  let lastUpAt = -Infinity;
  const releaseKeys = () => {
    const now = world.host.sched.now;
    while (keyQueue.length) {
      const e = keyQueue[0];
      if (e.down) {
        if (keyDownAt.has(e.key)) {
          keyQueue.shift();
          continue;
        }
        if (now - lastUpAt < KEY_GAP_MS) return;
        keyDownAt.set(e.key, now);
        world.host.keyDown(e.key);
      } else {
        const at = keyDownAt.get(e.key);
        if (at !== undefined) {
          if (now - at < KEY_HOLD_MS) return;
          keyDownAt.delete(e.key);
          lastUpAt = now;
          world.host.keyUp(e.key);
        }
      }
      keyQueue.shift();
    }
  };
  function takeAway(): void {
    if (removeAt !== null && world.host.sched.now >= removeAt) {
      removeAt = null;
      world.host.scanner.removeCode();
    }
  }
  startLoop();
  const persist = setInterval(() => world.persist(), 5000);
  const stateTimer = setInterval(() => {
    if (streams.size) push("state", state());
  }, 500);
  // On the interpreter, its JsVars in use live (process.memory(false): no garbage collection forced on the device).
  const memTimer = setInterval(() => {
    const h = world.host;
    if (isEspruino(h) && h.poweredOn) h.memory({ gc: false }).catch(() => {});
  }, 1000);

  const state = () => ({
    ...world.summary(),
    nowMs: world.now(),
    wifi: world.host.wifiWorld.enabled,
    gatewayUp: world.gatewayReachable,
    keysHeld: [...new Set([...keyDownAt.keys(), ...keyQueue.map((e) => e.key)])],
    paperOut: world.host.printer.paperOut,
    advertising: !!world.host.ble.advertising,
    consoles: world.host.consoles,
    lastPayment,
    receipts: receiptCount(),
    versions,
    speed,
    busNext: world.bus.next,
  });

  /** Runs `fn` with the real-time loop stopped (it drives the event loop itself: Bluetooth, provisioning). */
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    stopLoop();
    try {
      return await fn();
    } finally {
      startLoop();
    }
  };
  /**
   * The phone's and the merchant's actions one at a time, in the order they came (two clicks must not make the
   * same wallet twice, or pay while provisioning runs).
   */
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };
  /**
   * A code held in front of the scanner (the GM65 emulator decides what it sends and when), then taken away after
   * SHOW_MS of device time (in fast mode too: the module's same-code delay must not see it held for seconds).
   */
  let removeAt: number | null = null;
  const show = (code: string | Uint8Array) => {
    world.host.scanner.present(code);
    removeAt = world.host.sched.now + SHOW_MS;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url || "/", "http://localhost");
    const send = (status: number, type: string, data: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(data);
    };
    const json = (status: number, v: unknown) => send(status, "application/json", JSON.stringify(v));
    const fail = (status: number, e: unknown) => json(status, { error: e instanceof Error ? e.message : String(e) });
    const p = url.pathname;
    const q = (k: string) => url.searchParams.get(k) || "";
    // the gateway's own pages and API, as a customer's phone reaches them: the hosted pay page the invoice QR opens
    if ((p === "/pay" || p.startsWith("/pay/") || p.startsWith("/v1/")) && world.gateway) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await world.gateway.handle({ method: req.method || "GET", path: req.url || "/", headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8"), remote: { address: req.socket.remoteAddress || "", port: req.socket.remotePort || 0 } });
      res.writeHead(r.status, { "content-type": "application/json", ...(r.headers ?? {}), "cache-control": "no-store" });
      res.end(r.body);
      return;
    }
    if (req.method === "GET") {
      if (p === "/") return send(200, "text/html; charset=utf-8", PAGE);
      if (p === "/vendor/jsQR.js") return send(200, "text/javascript; charset=utf-8", jsqrBrowserBuild());
      if (p === "/display.png") return send(200, "image/png", world.displayPng());
      if (p === "/paper.png") return send(200, "image/png", world.paperPng());
      const m = /^\/receipt\/(\d+|last)\.png$/.exec(p);
      if (m) {
        const all = world.receiptPngs();
        const i = m[1] === "last" ? all.length - 1 : Number(m[1]);
        return i >= 0 && i < all.length ? send(200, "image/png", all[i]) : send(404, "text/plain", "no such receipt");
      }
      if (p === "/phone.png") {
        const shown = q("what") === "confirmation" ? lastConfirmation : lastPayment;
        return shown ? send(200, "image/png", qrPng(shown, 3)) : send(404, "text/plain", "nothing shown");
      }
      if (p === "/state") return json(200, state());
      if (p === "/bus") {
        // ?since=ID (entries from that id on: the newest may have grown), &ch=i2c,spi (channels), &q=text
        const ch = q("ch") ? (q("ch").split(",").filter((c) => (BUS_CHANNELS as string[]).indexOf(c) >= 0) as BusChannel[]) : undefined;
        return json(200, { next: world.bus.next, entries: world.bus.entries({ since: Number(q("since")) || 0, channels: ch, text: q("q"), max: Number(q("max")) || 500 }) });
      }
      if (p === "/journal") {
        try {
          return json(200, journalView(world.host));
        } catch (e) {
          return fail(500, e);
        }
      }
      if (p === "/payments") return json(200, payments.map((x, i) => ({ index: i, label: x.label })));
      if (p === "/events") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
        res.write("retry: 1000\n\n");
        streams.add(res);
        req.on("close", () => streams.delete(res));
        displayHash = "";
        paperLen = -1;
        watch();
        res.write(`event: state\ndata: ${JSON.stringify(state())}\n\n`);
        return;
      }
      return send(404, "text/plain", "not found");
    }
    if (req.method !== "POST") return send(405, "text/plain", "method not allowed");
    switch (p) {
      case "/key/down":
      case "/key/up": {
        const key = q("k");
        if (key.length !== 1 || world.board.wiring.keypad.keys.indexOf(key) < 0) return json(400, { error: "no such key" });
        keyQueue.push({ key, down: p === "/key/down" });
        releaseKeys();
        return json(200, { ok: true });
      }
      case "/scan/text": {
        const t = (await body(req)).toString("utf8");
        if (!t) return json(400, { error: "nothing to scan" });
        show(t);
        return json(200, { text: t });
      }
      case "/scan/bytes": {
        // What the page's camera decoded (jsQR in the browser): the code's bytes, as the module reads them.
        const b = await body(req);
        if (!b.length) return json(400, { error: "nothing to scan" });
        show(new Uint8Array(b));
        return json(200, { text: b.toString("utf8"), bytes: b.length });
      }
      case "/scan/image": {
        const png = await body(req);
        try {
          const code = decodeQrPngBytes(png);
          if (code === null) return json(422, { error: "no QR code found in the image" });
          show(code.bytes);
          return json(200, { text: code.text, bytes: code.bytes.length });
        } catch (e) {
          return fail(422, e);
        }
      }
      case "/provision":
        try {
          const s = await exclusive(() => world.provision());
          return json(200, { terminalId: s.terminalId, merchantId: s.merchantId });
        } catch (e) {
          return fail(422, e);
        }
      case "/wallet/create": {
        const name = q("name") || "customer";
        await world.wallet(name, Number(q("cap")) || 20000);
        return json(200, world.walletInfo(name));
      }
      case "/wallet/info": {
        const name = q("name") || "customer";
        if (!world.wallets[name]) return json(404, { error: `no wallet "${name}"` });
        return json(200, { ...world.walletInfo(name), payments: world.wallets[name].state().payments });
      }
      case "/wallet/pay-qr": {
        const name = q("name") || "customer";
        const reqQr = world.displayQr();
        if (!reqQr) return json(409, { error: "the terminal shows no QR code to pay" });
        try {
          lastPayment = await world.pay(name, reqQr);
          const info = world.wallets[name].state().payments;
          const rec = info[info.length - 1];
          payments.push({ label: `${name} #${rec ? rec.counter : payments.length + 1}: ${rec ? (rec.amountMinor / 100).toFixed(2) : "?"} to terminal ${rec ? rec.terminalId : "?"}`, qr: lastPayment, wallet: name });
          return json(200, { payment: lastPayment, wallet: world.walletInfo(name) });
        } catch (e) {
          return fail(422, e);
        }
      }
      case "/scan/payment": {
        const i = Number(q("index"));
        if (!(i >= 0 && i < payments.length)) return json(404, { error: "no such payment" });
        show(payments[i].qr);
        return json(200, { text: payments[i].qr });
      }
      case "/wallet/show": {
        if (!lastPayment) return json(409, { error: "no payment to show" });
        show(lastPayment);
        return json(200, { ok: true });
      }
      case "/wallet/pay-ble": {
        const name = q("name") || "customer";
        try {
          return json(200, await exclusive(() => world.payOverBluetooth(name)));
        } catch (e) {
          return fail(422, e);
        }
      }
      case "/wallet/paid-confirmation": {
        const name = q("name") || "customer";
        try {
          lastConfirmation = await world.paidConfirmation(name);
          show(lastConfirmation);
          return json(200, { confirmation: lastConfirmation });
        } catch (e) {
          return fail(422, e);
        }
      }
      case "/wallet/scan-receipt": {
        // The phone's camera on the last receipt printed: the wallet checks it is for one of its payments and keeps
        // its transaction ID (what a fraud claim names).
        const name = q("name") || "customer";
        const w = world.wallets[name];
        if (!w) return json(404, { error: `no wallet "${name}"` });
        const qrs = world.printedQrs();
        if (!qrs.length) return json(409, { error: "no receipt with a QR code printed yet" });
        const receipt = qrs[qrs.length - 1];
        const mine = payments.filter((x) => x.wallet === name).reverse();
        for (const x of mine) {
          const bytes = world.paymentBytes(x.qr);
          if (!bytes) continue;
          try {
            const r = await w.checkReceipt(receipt, bytes);
            world.persist();
            return json(200, { text: "receipt " + r.utr + " kept", utr: r.utr, txId: r.txId });
          } catch (e) {
            if (!(e instanceof Error && /different payment/.test(e.message))) return fail(422, e);
          }
        }
        return json(422, { error: "the last receipt is not for a payment this wallet made on this page" });
      }
      case "/wallet/claim": {
        const name = q("name") || "customer";
        try {
          return json(200, await world.claimFraud(name, q("reason") || "not my payment"));
        } catch (e) {
          return fail(422, e);
        }
      }
      case "/switch/wifi":
        world.setWifi(q("on") === "1");
        return json(200, { ok: true });
      case "/switch/gateway":
        world.setGatewayReachable(q("up") === "1");
        return json(200, { ok: true });
      case "/switch/paper":
        world.setPaperOut(q("out") === "1");
        return json(200, { ok: true });
      case "/power/cut":
        world.powerCut();
        return json(200, { ok: true });
      case "/power/cut-next-write":
        world.powerCutAtNextWrite();
        return json(200, { ok: true });
      case "/power/on":
        world.powerOn();
        return json(200, { ok: true });
      case "/speed": {
        const m = q("mode");
        if (m !== "real" && m !== "fast") return json(400, { error: "mode is real or fast" });
        if (m === "fast" && isEspruino(world.host)) return json(409, { error: "the interpreter runs in real time: fast mode needs the V8 engine" });
        speed = m;
        return json(200, { speed });
      }
      case "/factory-reset":
        try {
          world.factoryReset();
          counted = { items: -1, n: 0 };
          return json(200, { ok: true, text: "factory reset: the terminal is as shipped (provision it)" });
        } catch (e) {
          return fail(409, e);
        }
      case "/clock/forward": {
        const hours = q("hours") ? Number(q("hours")) : Number(q("days")) * 24;
        if (!(hours > 0 && hours <= 24 * 30)) return json(400, { error: "move the clock forward by 1 hour to 30 days" });
        world.fastForward(hours * HOUR);
        return json(200, { nowMs: world.now() });
      }
    }
    return send(404, "text/plain", "not found");
  };

  const server = createServer((req, res) => {
    const path = (req.url || "/").split("?")[0];
    const queued = req.method === "POST" && (path.startsWith("/wallet/") || path === "/provision" || path === "/factory-reset");
    (queued ? serial(() => handle(req, res)) : handle(req, res)).catch((e) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
    });
  });
  await new Promise<void>((r) => server.listen(o.port, o.host ?? "127.0.0.1", r));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    world,
    close: () =>
      new Promise<void>((r) => {
        stopLoop();
        clearInterval(persist);
        clearInterval(stateTimer);
        clearInterval(memTimer);
        for (const s of streams) s.end();
        streams.clear();
        world.persist();
        server.close(() => world.close().then(() => r()));
        server.closeAllConnections();
      }),
  };
}
