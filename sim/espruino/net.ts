/**
 * Espruino's `require("Wifi")` and `require("http")` as the simulator's world sees them. The world says which
 * access points are in range and where HTTP requests go; the modules behave like Espruino's on ESP32: Wifi.connect
 * reports only "Bad password" and keeps retrying when the network is absent; an http request needs `end()`.
 */
import type { Scheduler } from "./scheduler.ts";

export interface WifiWorld {
  /** Access points in range: SSID -> password. */
  networks: Record<string, string>;
  /** Radio switched on at all (the UI's Wi-Fi switch). */
  enabled: boolean;
  /** Milliseconds an association plus DHCP takes. */
  connectMs: number;
}

export interface HttpExchange {
  method: string;
  protocol: string;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}
export type HttpHandler = (req: HttpExchange) => Promise<{ status: number; body: string }>;

type Listener = (...args: unknown[]) => void;

class Emitter {
  private listeners: Record<string, Listener[]> = {};
  on(ev: string, fn: Listener): void {
    (this.listeners[ev] ||= []).push(fn);
  }
  emit(ev: string, ...args: unknown[]): void {
    for (const fn of this.listeners[ev] || []) fn(...args);
  }
  removeAllListeners(ev?: string): void {
    if (ev) delete this.listeners[ev];
    else this.listeners = {};
  }
}

export class WifiModule extends Emitter {
  private ssid: string | null = null;
  private status: "off" | "connecting" | "connected" = "off";
  private pendingTimer = 0;
  private attempt: { ssid: string; password: string; cb?: (err: string | null) => void } | null = null;

  constructor(
    private world: WifiWorld,
    private sched: Scheduler,
  ) {
    super();
  }

  get connected(): boolean {
    return this.status === "connected";
  }

  connect(ssid: string, options: { password?: string } | undefined, cb?: (err: string | null) => void): void {
    this.disconnectQuietly();
    this.attempt = { ssid, password: (options && options.password) || "", cb };
    this.status = "connecting";
    this.tryAssociate();
  }

  /** Espruino's ESP32 Wifi keeps retrying an absent network; a wrong password is reported once. */
  private tryAssociate(): void {
    const a = this.attempt;
    if (!a) return;
    this.pendingTimer = this.sched.at(this.world.connectMs, () => {
      this.pendingTimer = 0;
      if (this.attempt !== a) return;
      const known = this.world.enabled ? this.world.networks[a.ssid] : undefined;
      if (known === undefined) return this.tryAssociate();
      this.attempt = null;
      if (known !== a.password) {
        this.status = "off";
        if (a.cb) a.cb("Bad password");
        return;
      }
      this.status = "connected";
      this.ssid = a.ssid;
      this.emit("associated", { ssid: a.ssid });
      this.emit("connected", { ip: "192.0.2.10", netmask: "255.255.255.0", gw: "192.0.2.1" });
      if (a.cb) a.cb(null);
    });
  }

  private disconnectQuietly(): void {
    if (this.pendingTimer) this.sched.cancel(this.pendingTimer);
    this.pendingTimer = 0;
    this.attempt = null;
  }

  disconnect(cb?: () => void): void {
    this.disconnectQuietly();
    const was = this.status;
    this.status = "off";
    this.ssid = null;
    if (was === "connected") this.emit("disconnected", { reason: 8 });
    if (cb) this.sched.post(cb);
  }

  /** The world changed (switch off, access point gone): drop the link as the radio would. */
  worldChanged(): void {
    if (this.status === "connected" && (!this.world.enabled || this.world.networks[this.ssid as string] === undefined)) {
      this.status = "off";
      this.ssid = null;
      this.emit("disconnected", { reason: 201 });
    }
  }

  getDetails(cb?: (d: unknown) => void) {
    const d = { status: this.status === "connected" ? "connected" : this.status === "connecting" ? "connecting" : "off", ssid: this.ssid };
    if (cb) this.sched.post(() => cb(d));
    return d;
  }

  getIP(cb?: (err: unknown, info: unknown) => void) {
    const info = { ip: this.connected ? "192.0.2.10" : "0.0.0.0", netmask: "255.255.255.0", gw: "192.0.2.1", mac: "24:0a:c4:00:00:01" };
    if (cb) this.sched.post(() => cb(null, info));
    return info;
  }
}

export function createHttpModule(wifi: WifiModule, sched: Scheduler, handler: () => HttpHandler | null) {
  return {
    request(opts: Record<string, unknown>, cb: (res: Emitter & { statusCode: number; headers: object }) => void) {
      const req = new Emitter() as Emitter & { write(d: string): void; end(d?: string): void };
      let body = "";
      req.write = (d: string) => {
        body += d;
      };
      req.end = (d?: string) => {
        if (d !== undefined) body += d;
        const fail = (message: string) => sched.post(() => req.emit("error", { code: -1, message }));
        if (!wifi.connected) return fail("no connection");
        const h = handler();
        if (!h) return fail("connection refused");
        const ex: HttpExchange = {
          method: String(opts.method || "GET"),
          protocol: String(opts.protocol || "http:"),
          host: String(opts.host || ""),
          port: Number(opts.port || 80),
          path: String(opts.path || "/"),
          headers: (opts.headers as Record<string, string>) || {},
          body,
        };
        h(ex).then(
          (r) =>
            sched.post(() => {
              const res = new Emitter() as Emitter & { statusCode: number; headers: object };
              res.statusCode = r.status;
              res.headers = {};
              cb(res);
              // Espruino delivers the body in chunks, then 'close'.
              for (let i = 0; i < r.body.length; i += 512) res.emit("data", r.body.slice(i, i + 512));
              res.emit("close", false);
            }),
          (e: Error) => fail(e.message),
        );
      };
      return req;
    },
  };
}
