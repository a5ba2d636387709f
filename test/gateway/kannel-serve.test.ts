/**
 * `npm run gateway -- --kannel-url … --kannel-user … --kannel-password … --sms-from …`: the service sends its SMS
 * through a real Kannel (bearerbox, smsbox and the fake SMSC on loopback) and records Kannel's delivery reports,
 * called back at its own URL. Options it cannot use stop it with a clear message.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBase64 } from "../../protocol/sync.ts";
import { kannelBinaries, startKannel } from "../helpers/kannel.ts";
import type { Kannel } from "../helpers/kannel.ts";
import { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import { httpLink, httpText, testDb } from "./helpers.ts";

const TSX = join(process.cwd(), "node_modules", ".bin", "tsx");
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serve(args: string[]): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
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

describe("npm run gateway with Kannel", function () {
  this.timeout(90000);

  it("refuses Kannel options it cannot use, naming them", () => {
    const run = (args: string[]) => spawnSync(TSX, ["gateway/serve.ts", "--port", "0", "--db", testDb(), ...args], { encoding: "utf8", timeout: 30000 });
    const a = run(["--kannel-url", "not a url", "--kannel-user", "u", "--kannel-password", "p"]);
    assert.equal(a.status, 1);
    assert.match(a.stderr, /Kannel options .*: url: Kannel's sendsms base URL/);
    const b = run(["--kannel-user", "u"]);
    assert.equal(b.status, 1);
    assert.match(b.stderr, /need --kannel-url/);
  });

  describe("against a real Kannel", () => {
    const bin = kannelBinaries();
    let dir = "";
    let kannel: Kannel | null = null;
    let child: ChildProcess | null = null;

    before(function () {
      if (!bin) {
        console.log("    skipped: Kannel not found (/usr/sbin/bearerbox, /usr/sbin/smsbox, /usr/lib/kannel/test/fakesmsc); apt-get install kannel kannel-extras");
        this.skip();
      }
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "kannel-serve-"));
    });
    afterEach(async () => {
      if (child && child.exitCode === null) {
        const c = child;
        await new Promise<void>((r) => {
          c.removeAllListeners("exit");
          c.once("exit", () => r());
          c.kill("SIGTERM");
        });
      }
      child = null;
      if (kannel) await kannel.stop();
      kannel = null;
      rmSync(dir, { recursive: true, force: true });
    });

    it("texts the payer of an uploaded offline payment through Kannel and records the delivery report Kannel calls back", async () => {
      kannel = await startKannel({ dir });
      const s = await serve(["--port", "0", "--db", testDb(join(dir, "gw.db")), "--kannel-url", kannel.sendsmsUrl, "--kannel-user", kannel.user, "--kannel-password", kannel.password, "--sms-from", "GATEWAY"]);
      child = s.child;
      const url = s.info.url as string;
      assert.deepEqual(s.info.sms, { kannel: kannel.sendsmsUrl, user: kannel.user, from: "GATEWAY", dlrUrl: url });
      const port = Number(new URL(url).port);
      const agent = new http.Agent({ keepAlive: false });
      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const r = await httpText(port, agent, method, path, { authorization: "Bearer " + token, "content-type": "application/json" }, body === undefined ? undefined : JSON.stringify(body));
        return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
      };
      const admin = s.info.adminToken as string;
      const m = await call("POST", "/v1/merchants", admin, { name: "Cafe Blue", phone: "+4930123456" });
      assert.equal(m.status, 201, JSON.stringify(m.json));
      const linkPublicKey = new Uint8Array(Buffer.from(s.info.linkPublicKey as string, "hex"));
      const probe = new SoftTerminal({ terminalId: 0, linkPublicKey, send: () => Promise.reject(new Error("unused")) });
      const reg = await call("POST", "/v1/merchants/" + m.json.merchantId + "/terminals", m.json.apiKey as string, { publicKey: hexOf(probe.publicKey) });
      assert.equal(reg.status, 201, JSON.stringify(reg.json));
      const t = new SoftTerminal({ terminalId: reg.json.terminalId as number, privateKey: probe.privateKey, linkPublicKey, send: httpLink(() => port, agent) });
      const w = new SoftWallet();
      const wr = await call("POST", "/v1/wallets", admin, { publicKey: hexOf(w.publicKey), capMinor: 5000, phone: "+4915112345678", balanceMinor: 10000 });
      assert.equal(wr.status, 201, JSON.stringify(wr.json));
      w.setAllowance(fromBase64(wr.json.allowance as string)!);

      t.record(t.walletPayment(w, 1250));
      await t.uploadAll();
      const line = await kannel.waitForMessage(/^GATEWAY \+4915112345678 text Offline payment 12\.50 EUR to Cafe Blue received by the issuer/, 15000);
      assert.ok(!line.includes(w.walletId), line);
      let row: Record<string, unknown> = {};
      const end = Date.now() + 15000;
      while (Date.now() < end) {
        row = ((await call("GET", "/v1/admin/sms", admin)).json.sms as Record<string, unknown>[])[0];
        if (row.dlr === "delivered") break;
        await sleep(200);
      }
      assert.equal(row.status, "sent");
      assert.equal(row.dlr, "delivered");
      assert.equal(row.dlrToken, undefined);
      agent.destroy();
    });
  });
});
