/**
 * Espruino bindings of hal/net.ts over `require("Wifi")` and `require("http")` on ESP32.
 * Wifi.connect only ever reports "Bad password"; a missing access point just retries, so connect() has its own
 * timeout (hardware-notes.md section 5).
 */
import type { Clock } from "../clock.ts";
import type { Http, Wifi, WifiState } from "../net.ts";

export function wifi(clock: Clock, connectTimeoutMs: number): Wifi {
  const W = require("Wifi");
  let state: WifiState = "off";
  let listener: ((s: WifiState) => void) | null = null;
  function set(s: WifiState) {
    if (s === state) return;
    state = s;
    if (listener) listener(s);
  }
  W.on("connected", () => set("connected"));
  W.on("disconnected", () => set("off"));
  return {
    connect(ssid, password, onDone) {
      set("connecting");
      let done = false;
      const timer = clock.setTimeout(() => {
        if (done) return;
        done = true;
        W.disconnect();
        set("off");
        onDone("timeout");
      }, connectTimeoutMs);
      W.connect(ssid, { password: password }, (err: string | null) => {
        if (done) return;
        done = true;
        clock.clear(timer);
        if (err) set("off");
        else set("connected");
        onDone(err ? String(err) : null);
      });
    },
    disconnect() {
      W.disconnect();
      set("off");
    },
    state: () => state,
    onChange(fn) {
      listener = fn;
    },
  };
}

/** "http://host:port/path" into Espruino's request options. */
function parseUrl(url: string): { protocol: string; host: string; port: number; path: string } {
  const scheme = url.indexOf("://");
  const protocol = scheme > 0 ? url.slice(0, scheme + 1) : "http:";
  const rest = scheme > 0 ? url.slice(scheme + 3) : url;
  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const colon = hostPort.indexOf(":");
  return {
    protocol: protocol,
    host: colon < 0 ? hostPort : hostPort.slice(0, colon),
    port: colon < 0 ? (protocol === "https:" ? 443 : 80) : parseInt(hostPort.slice(colon + 1), 10),
    path: slash < 0 ? "/" : rest.slice(slash),
  };
}

export function http(clock: Clock): Http {
  const H = require("http");
  return {
    request(req, onDone) {
      let finished = false;
      function finish(err: string | null, status?: number, body?: string) {
        if (finished) return;
        finished = true;
        clock.clear(timer);
        if (err) onDone(err);
        else onDone(null, { status: status as number, body: body as string });
      }
      const timer = clock.setTimeout(() => finish("timeout"), req.timeoutMs);
      const opts: any = parseUrl(req.url);
      opts.method = req.method;
      opts.headers = req.headers || {};
      if (req.body !== undefined) opts.headers["Content-Length"] = req.body.length;
      const r = H.request(opts, (res: any) => {
        let body = "";
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("close", () => finish(null, res.statusCode | 0, body));
        res.on("error", (e: any) => finish("http " + (e && e.message)));
      });
      r.on("error", (e: any) => finish("net " + (e && e.message)));
      r.end(req.body);
    },
  };
}
