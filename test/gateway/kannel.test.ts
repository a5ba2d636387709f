/**
 * SMS through a real SMS gateway: Kannel's bearerbox and smsbox with its fake SMSC on loopback (Debian's `kannel`
 * and `kannel-extras`), started per test on free ports in a temporary folder and stopped by PID. Without the
 * binaries the Kannel tests say that they skipped. The request building and the answer classification are tested
 * without Kannel.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Gateway } from "../../gateway/gateway.ts";
import { KannelSmsProvider, kannelOptionsProblem, sendsmsUrl } from "../../gateway/kannel.ts";
import { SmsError } from "../../gateway/sms.ts";
import { freePort, kannelBinaries, kannelPorts, startKannel } from "../helpers/kannel.ts";
import type { Kannel } from "../helpers/kannel.ts";
import { makeRig, merchantWithTerminals, newWallet } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const PAYER = "+4915112345678";

/** The in-process gateway behind a loopback HTTP server (Kannel calls its dlr-url there). */
async function serve(gw: () => Gateway): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      void gw()
        .handle({ method: req.method || "GET", path: req.url || "/", headers: req.headers, body })
        .then((r) => {
          res.writeHead(r.status, r.headers ?? { "content-type": "application/json" });
          res.end(r.body);
        });
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return { url: "http://127.0.0.1:" + port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** One offline payment of 12.50 EUR by a payer with a phone, uploaded by Cafe Blue's terminal: its SMS is queued. */
async function uploadedPayment(rig: Rig) {
  const { terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
  const w = newWallet(rig, 10000, PAYER);
  const t = terms[0];
  t.record(t.walletPayment(w, 1250));
  await t.uploadAll();
  const rows = rig.gw.smsOutbox().filter((s) => s.kind === "offline-received");
  assert.equal(rows.length, 1);
  return rows[0];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("gateway SMS: the Kannel sendsms request", () => {
  const o = { url: "http://127.0.0.1:13013", user: "gw", password: "s3cret&x", from: "GATEWAY", dlrUrl: "https://gw.example/" };

  it("asks Kannel to send the text to the number, and for delivery reports to the message's own dlr URL", () => {
    const u = new URL(sendsmsUrl(o, { to: PAYER, text: "Paid 12.50 EUR & thanks", id: 7, token: "ab12" }));
    assert.equal(u.origin + u.pathname, "http://127.0.0.1:13013/cgi-bin/sendsms");
    const q = u.searchParams;
    assert.equal(q.get("username"), "gw");
    assert.equal(q.get("password"), "s3cret&x");
    assert.equal(q.get("to"), PAYER);
    assert.equal(q.get("from"), "GATEWAY");
    assert.equal(q.get("text"), "Paid 12.50 EUR & thanks");
    assert.equal(q.get("dlr-mask"), "31");
    assert.equal(q.get("dlr-url"), "https://gw.example/v1/sms/7/dlr?token=ab12&type=%d");
  });

  it("asks for no delivery report without a dlr URL", () => {
    const q = new URL(sendsmsUrl({ ...o, dlrUrl: undefined }, { to: PAYER, text: "x", id: 7, token: "ab12" })).searchParams;
    assert.equal(q.get("dlr-url"), null);
    assert.equal(q.get("dlr-mask"), null);
  });

  it("refuses options it cannot use, naming the option", () => {
    assert.match(kannelOptionsProblem({ ...o, url: "ftp://x" }), /^url/);
    assert.match(kannelOptionsProblem({ ...o, user: "" }), /^user/);
    assert.match(kannelOptionsProblem({ ...o, from: "A sender far too long" }), /^from/);
    assert.match(kannelOptionsProblem({ ...o, dlrUrl: "gw.example" }), /^dlrUrl/);
    assert.equal(kannelOptionsProblem(o), "");
    assert.throws(() => new KannelSmsProvider({ ...o, url: "nope" }), /kannel: url/);
  });

  it("counts a 4xx answer as a refusal and anything else as Kannel unavailable, never echoing the password", async () => {
    const answer = (status: number, text: string) => (async () => new Response(text, { status })) as unknown as typeof fetch;
    const codeOf = async (f: typeof fetch) => {
      try {
        await new KannelSmsProvider({ ...o, fetch: f }).send({ to: PAYER, text: "x" });
        return "ok";
      } catch (e) {
        assert.ok(e instanceof SmsError);
        assert.ok(!e.message.includes(o.password), e.message);
        return e.code;
      }
    };
    assert.equal(await codeOf(answer(202, "0: Accepted for delivery")), "ok");
    assert.equal(await codeOf(answer(202, "3: Queued for later delivery")), "ok");
    assert.equal(await codeOf(answer(400, "Missing receiver number")), "SMS_REFUSED");
    assert.equal(await codeOf(answer(403, "Authorization failed for sendsms")), "SMS_UNAVAILABLE");
    assert.equal(await codeOf(answer(503, "Sending failed.")), "SMS_UNAVAILABLE");
    const down = (async (url: string) => {
      throw Object.assign(new TypeError("fetch failed " + url), { cause: { code: "ECONNREFUSED" } });
    }) as unknown as typeof fetch;
    assert.equal(await codeOf(down), "SMS_UNAVAILABLE");
  });
});

describe("gateway SMS through Kannel (bearerbox, smsbox and the fake SMSC on loopback)", function () {
  this.timeout(60000);
  const bin = kannelBinaries();
  let dir = "";
  let kannel: Kannel | null = null;
  let web: { url: string; close: () => Promise<void> } | null = null;
  let rig: Rig | null = null;

  before(function () {
    if (!bin) {
      console.log("    skipped: Kannel not found (/usr/sbin/bearerbox, /usr/sbin/smsbox, /usr/lib/kannel/test/fakesmsc); apt-get install kannel kannel-extras");
      this.skip();
    }
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "kannel-test-"));
  });
  afterEach(async () => {
    if (kannel) await kannel.stop();
    kannel = null;
    if (web) await web.close();
    web = null;
    if (rig) rig.gw.close();
    rig = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers the payer's SMS to the SMSC and records Kannel's delivery report on its row", async () => {
    kannel = await startKannel({ dir });
    web = await serve(() => rig!.gw);
    const sms = new KannelSmsProvider({ url: kannel.sendsmsUrl, user: kannel.user, password: kannel.password, from: "GATEWAY", dlrUrl: web.url });
    rig = makeRig(":memory:", { sms });
    const row = await uploadedPayment(rig);
    await rig.gw.flush();
    const sent = rig.gw.smsOutbox().find((s) => s.id === row.id)!;
    assert.equal(sent.status, "sent", sent.lastError);
    const line = await kannel.waitForMessage(/^GATEWAY \+4915112345678 text /);
    assert.equal(line, "GATEWAY " + PAYER + " text " + row.text);
    assert.match(row.text, /^Offline payment 12\.50 EUR to Cafe Blue received by the issuer, ref /);
    // Kannel calls the dlr-url back: the fake SMSC reports the message delivered
    const end = Date.now() + 15000;
    let dlr = "";
    while (Date.now() < end) {
      dlr = rig.gw.smsOutbox().find((s) => s.id === row.id)!.dlr;
      if (dlr === "delivered") break;
      await sleep(100);
    }
    assert.equal(dlr, "delivered");
    assert.ok(rig.gw.smsOutbox().find((s) => s.id === row.id)!.dlrAt > 0);
    assert.ok(rig.gw.activity().some((a) => a.kind === "sms-dlr" && JSON.parse(a.detail).id === row.id));
  });

  it("keeps an SMS queued while Kannel is down, past the refusal limit, and delivers it once Kannel is up", async () => {
    const ports = await kannelPorts();
    const password = "pw-down-test";
    const sms = new KannelSmsProvider({ url: "http://127.0.0.1:" + ports.sendsms, user: "gw", password, from: "GATEWAY" });
    rig = makeRig(":memory:", { sms });
    const row = await uploadedPayment(rig);
    const now = () => rig!.gw.smsOutbox().find((s) => s.id === row.id)!;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      await rig.gw.flush();
      const r = now();
      assert.equal(r.status, "queued", "try " + (i + 1) + " with Kannel down");
      assert.equal(r.attempts, i + 1);
      assert.equal(r.refused, 0);
      assert.match(r.lastError, /kannel unreachable/);
      delays.push(r.nextAt - rig.clock.now());
      rig.clock.set(r.nextAt);
    }
    assert.deepEqual(delays.slice(0, 4), [30000, 60000, 120000, 240000], "exponential backoff");
    kannel = await startKannel({ dir, ports, user: "gw", password });
    await rig.gw.flush();
    assert.equal(now().status, "sent", now().lastError);
    const line = await kannel.waitForMessage(/Offline payment 12\.50 EUR/);
    assert.equal(line, "GATEWAY " + PAYER + " text " + row.text);
  });
});
