/**
 * The reference gateway as a network service: node:https with a configured certificate and key, else node:http,
 * which it only serves on loopback (terminals authenticate every message end to end, but the merchant and wallet
 * APIs rely on TLS for confidentiality).
 *
 *   const s = await startGatewayServer({ port: 8080, host: "127.0.0.1", dbPath: "gateway.db" });
 *   s.url; s.gateway.registerMerchant({ name: "Cafe Blue" }); await s.close();
 *
 * Each TCP/TLS connection is reported to the gateway (address, port, connect and disconnect time), which logs the
 * ones a terminal spoke on.
 */
import { createServer as createHttp } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { availableParallelism } from "node:os";
import type { GatewayClock } from "./clock.ts";
import type { GatewayOptions } from "./gateway.ts";
import { Gateway, json } from "./gateway.ts";
import { openStore } from "./open-store.ts";

/** Largest request body (a full upload of 32 records is about 18 KB). */
export const MAX_BODY = 1 << 20;
/** Requests waiting to be handled beyond this get 503 (the terminal retries with backoff). */
export const MAX_QUEUE = 5000;

export interface GatewayServerOptions {
  port: number;
  /** Default 127.0.0.1. Plain HTTP is refused on any other address. */
  host?: string;
  /** SQLite file (":memory:" for a throwaway one), or a postgres:// URL (gateway/pg-store.ts). */
  dbPath: string;
  /** PEM certificate and key: HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  clock?: GatewayClock;
  /** Anything else the Gateway takes (issuer, link key, admin token, SMS provider, webhook transport). */
  gateway?: Omit<GatewayOptions, "store" | "clock">;
}

export interface GatewayServer {
  url: string;
  gateway: Gateway;
  server: Server;
  /** Stops accepting, ends open connections, closes the database. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

export async function startGatewayServer(o: GatewayServerOptions): Promise<GatewayServer> {
  const host = o.host ?? "127.0.0.1";
  if (!o.tls && !isLoopback(host)) throw new Error("plain HTTP is served on loopback only: give a TLS certificate and key to listen on " + host);
  // uploads' signatures are checked on worker threads while they wait (one thread per spare core, at most 4)
  const verifyThreads = o.gateway?.verifyThreads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
  const gateway = new Gateway({ ...(o.gateway ?? {}), verifyThreads, store: openStore(o.dbPath), clock: o.clock });
  let nextConn = 1;
  const sockets = new Set<Socket>();
  // Requests are handled one per turn of the event loop, first come first served. Handling one inside the socket's
  // read callback (Node's default) lets the connections already talking take every turn while new connections wait
  // to be accepted: with 200 terminals uploading at once, a terminal's first request waited 30 s (bench/gateway.ts).
  const queue: (() => void)[] = [];
  const drain = () => {
    const job = queue.shift();
    if (job) job();
    if (queue.length) setImmediate(drain);
  };
  const enqueue = (job: () => void): boolean => {
    if (queue.length >= MAX_QUEUE) return false;
    queue.push(job);
    if (queue.length === 1) setImmediate(drain);
    return true;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      const send = (r: { status: number; headers?: Record<string, string>; body: string }) => {
        if (res.destroyed) return;
        res.writeHead(r.status, { "content-type": "application/json", ...(r.headers ?? {}), "cache-control": "no-store" });
        res.end(r.body);
      };
      if (tooBig) return send(json(413, { error: "BODY_TOO_LARGE", message: "request bodies are at most " + MAX_BODY + " bytes" }));
      const sock = req.socket as Socket & { gatewayConn?: number };
      const request = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers as Record<string, string | string[] | undefined>,
        body: Buffer.concat(chunks).toString("utf8"),
        remote: { address: sock.remoteAddress ?? "", port: sock.remotePort ?? 0 },
        connection: sock.gatewayConn,
      };
      const queue = () => {
        const queued = enqueue(() => {
          if (res.destroyed || !gateway.store.open) return;
          send(gateway.handleSync(request));
        });
        if (!queued) send({ ...json(503, { error: "BUSY", message: "the gateway is overloaded; retry later" }), headers: { "retry-after": "2" } });
      };
      // a card payment waits on the card processor: its database steps are transactions of their own
      if (gateway.needsAsync(request)) {
        void gateway.handle(request).then(send, () => send(json(500, { error: "INTERNAL", message: "the gateway failed" })));
        return;
      }
      // an upload's signatures are checked on the workers first; its turn comes when they are done
      if (gateway.wantsPreverify(request)) void gateway.preverify(request).then(queue, queue);
      else queue();
    });
  };

  const server: Server = o.tls ? (createHttps({ cert: o.tls.cert, key: o.tls.key }, onRequest) as unknown as Server) : createHttp(onRequest);
  server.keepAliveTimeout = 30000;
  server.requestTimeout = 60000;
  server.on(o.tls ? "secureConnection" : "connection", (sock: Socket & { gatewayConn?: number }) => {
    const id = nextConn++;
    sock.gatewayConn = id;
    sockets.add(sock);
    gateway.connectionOpened(id, { address: sock.remoteAddress ?? "", port: sock.remotePort ?? 0 });
    sock.on("close", () => {
      sockets.delete(sock);
      gateway.connectionClosed(id);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // a deep accept queue: hundreds of terminals connect at once while a request is being handled, and a full queue
    // drops SYNs the client only resends after 1, 3, 7 s
    server.listen({ port: o.port, host, backlog: 4096 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? "[" + addr.address + "]" : addr.address;
  const url = (o.tls ? "https://" : "http://") + shown + ":" + addr.port;

  let closed = false;
  return {
    url,
    gateway,
    server,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await gateway.flush().catch(() => undefined);
      gateway.close();
    },
  };
}
