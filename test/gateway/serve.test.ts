/**
 * `npm run gateway` (gateway/serve.ts) as a user starts it: it prints its URL and keys, serves HTTPS with the
 * certificate it is given, keeps its database across a restart, and stops cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installApiContractHook, noteResponse } from "../helpers/api-contract.ts";
import { testDb } from "./helpers.ts";

// the spawned gateway's answers are checked as received (test/helpers/api-contract.ts)
installApiContractHook();

const TSX = join(process.cwd(), "node_modules", ".bin", "tsx");

interface Started {
  child: ChildProcess;
  info: { url: string; db: string; adminToken: string; issuerPublicKey: string; linkPublicKey: string; movableClock: boolean };
}

function serve(args: string[]): Promise<Started> {
  const child = spawn(TSX, ["gateway/serve.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no start-up output: " + err)), 30000);
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      try {
        const info = JSON.parse(out);
        clearTimeout(timer);
        resolve({ child, info });
      } catch {
        // not all of it yet
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error("exited " + code + ": " + err));
    });
  });
}

function stop(s: Started): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.removeAllListeners("exit");
    s.child.on("exit", (code) => resolve(code));
    s.child.kill("SIGTERM");
  });
}

function get(url: string, path: string, ca: Buffer, o: { method?: string; token?: string; body?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = https.request({ host: u.hostname, port: u.port, path, method: o.method ?? "GET", ca, headers: o.token ? { authorization: "Bearer " + o.token } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        noteResponse(o.method ?? "GET", path, { status: res.statusCode ?? 0, headers: { "content-type": String(res.headers["content-type"] ?? "") }, body });
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) });
      });
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

describe("npm run gateway", function () {
  this.timeout(90000);

  it("serves HTTPS with the given certificate on any address, keeps its keys and books across a restart, and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-serve-"));
    try {
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
        { stdio: "ignore" },
      );
      const ca = readFileSync(join(dir, "cert.pem"));
      // the suite's database: a SQLite file, or a PostgreSQL database under GATEWAY_TEST_DB=postgres
      const db = testDb(join(dir, "gw.db"));
      const args = ["--port", "0", "--host", "0.0.0.0", "--db", db, "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--movable-clock", "--sms-file", join(dir, "sms.jsonl")];
      const a = await serve(args);
      assert.match(a.info.url, /^https:\/\/0\.0\.0\.0:[0-9]+$/);
      assert.match(a.info.adminToken, /^adm_[0-9a-f]+$/);
      assert.match(a.info.linkPublicKey, /^[0-9a-f]{128}$/);
      assert.equal(a.info.movableClock, true);
      assert.equal(a.info.db, db, "it serves from the database it is given");
      const url = a.info.url.replace("0.0.0.0", "127.0.0.1");
      assert.equal((await get(url, "/v1/health", ca)).status, 200);
      const m = await get(url, "/v1/merchants", ca, { method: "POST", token: a.info.adminToken, body: JSON.stringify({ name: "Kiosk" }) });
      assert.equal(m.status, 201);
      const c = await get(url, "/v1/admin/clock", ca, { method: "POST", token: a.info.adminToken, body: JSON.stringify({ advanceMs: 1000 }) });
      assert.equal(c.status, 200);
      assert.equal(await stop(a), 0);

      const b = await serve(args);
      try {
        assert.equal(b.info.adminToken, a.info.adminToken, "the admin token is kept in the database");
        assert.equal(b.info.issuerPublicKey, a.info.issuerPublicKey);
        assert.equal(b.info.linkPublicKey, a.info.linkPublicKey, "provisioned terminals still reach it");
        const url2 = b.info.url.replace("0.0.0.0", "127.0.0.1");
        const s = await get(url2, "/v1/merchants/" + m.json.merchantId + "/settings", ca, { token: m.json.apiKey as string });
        assert.equal(s.json.name, "Kiosk");
      } finally {
        assert.equal(await stop(b), 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to serve plain HTTP off loopback, with a message", async () => {
    await assert.rejects(serve(["--port", "0", "--host", "0.0.0.0", "--db", testDb()]), /loopback only/);
  });
});
