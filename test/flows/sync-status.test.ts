/**
 * The terminal tells the truth about its sync (issue 16): progress and failures on the status bar and on the
 * send-now screen (menu A, 1), end to end on the devkit bundle with the reference gateway. syncNote's words are
 * checked on their own first.
 */
import assert from "node:assert/strict";
import { syncNote } from "../../firmware/status.ts";
import { loadReferenceGateway, World } from "../../sim/world.ts";
import type { GatewayLike } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

describe("sync in words (firmware/status.ts syncNote)", () => {
  it("says progress as sent/total on the bar, and the outcome", () => {
    assert.deepEqual(syncNote({ phase: "upload", sent: 40, total: 120 }), { text: "Sending 40/120", bar: true, end: 0 });
    assert.deepEqual(syncNote({ phase: "hello", sent: 0, total: 3 }), { text: "Sending 0/3", bar: true, end: 0 });
    assert.deepEqual(syncNote({ phase: "connecting", sent: 0, total: 0 }), { text: "Connecting to Wi-Fi", bar: true, end: 0 });
    assert.deepEqual(syncNote({ phase: "done", sent: 120, total: 120 }), { text: "Sent 120", bar: false, end: 1 });
    assert.deepEqual(syncNote({ phase: "done", sent: 0, total: 0 }), { text: "Nothing to send", bar: false, end: 1 });
  });

  it("keeps 'no Wi-Fi' off the bar, and puts a refusal, an unreachable gateway or no Wi-Fi configured on it", () => {
    assert.deepEqual(syncNote({ phase: "offline", sent: 0, total: 2, code: "SYNC_OFFLINE", error: "Offline: no Wi-Fi" }), { text: "No Wi-Fi", bar: false, end: 2 });
    assert.deepEqual(syncNote({ phase: "failed", sent: 0, total: 2, code: "SYNC_HTTP", error: "HTTP 403: terminal 7 was revoked" }), {
      text: "Gateway refused: HTTP 403: terminal 7 was revoked",
      bar: true,
      end: 2,
    });
    assert.deepEqual(syncNote({ phase: "failed", sent: 0, total: 2, code: "SYNC_NET", error: "Gateway unreachable" }), { text: "Gateway unreachable", bar: true, end: 2 });
    // a Wi-Fi that does not answer is no Wi-Fi (an offline terminal tries again and again: not a fault to show)
    assert.deepEqual(syncNote({ phase: "offline", sent: 0, total: 0, code: "SYNC_WIFI", error: "Wi-Fi shop: timeout" }), { text: "No Wi-Fi (Wi-Fi shop: timeout)", bar: false, end: 2 });
    // none configured is a fault for the technician
    assert.deepEqual(syncNote({ phase: "offline", sent: 0, total: 0, code: "SYNC_CONFIG", error: "No Wi-Fi network configured" }), { text: "No Wi-Fi network configured", bar: true, end: 2 });
  });
});

describe("send now and the status bar (devkit bundle, reference gateway)", function () {
  this.timeout(180000);
  let w: World;
  let g: GatewayLike;
  let spec: { terminalId: number; merchantId: number };
  const screen = () => w.screenText().join("\n");

  async function toIdle(): Promise<void> {
    if (!w.screenText().includes("Ready")) w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
  }

  /** A payment taken offline: one more pending record. */
  async function payOffline(name: string, amount: string): Promise<void> {
    await toIdle();
    w.keys(amount + "#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && !(req && req.charAt(0) === "R"); t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    assert.ok(req, "a request QR");
    w.scanText(await w.pay(name, req));
    await w.until("Paid", () => w.screenText().includes("Paid") && /Receipt printed/.test(screen()), 30000);
  }

  before(async () => {
    w = World.open({ stateDir: null, wallClockMs: T0 });
    const gw = await loadReferenceGateway(w);
    assert.ok(gw && gw.revokeTerminal, "the reference gateway is in the tree");
    g = gw;
    w.attachGateway(g);
    spec = await w.provision();
    w.setWifi(false);
    await w.run(1000);
  });

  after(async () => {
    await w.close();
  });

  it("with no Wi-Fi: send now ends in 'Not sent' and 'No Wi-Fi', and the bar keeps the sync's age", async () => {
    await payOffline("alice", "1250");
    await payOffline("bob", "700");
    await toIdle();
    w.keys("A1");
    await w.until("the outcome", () => /Not sent/.test(screen()), 10000);
    assert.match(screen(), /No Wi-Fi/);
    assert.match(screen(), /2 pending/);
    assert.match(screen(), /sync /, "the bar says the sync's age, not the failure");
  });

  it("with Wi-Fi: 'Sending n/2' while the round runs, then 'Sent 2'", async () => {
    await toIdle();
    w.setWifi(true);
    await w.run(200);
    w.keys("A1");
    const seen: string[] = [];
    for (let t = 0; t < 30000 && !/Sent 2/.test(screen()); t += 20) {
      await w.run(20);
      const s = screen();
      if (/Sending/.test(s)) seen.push(s);
    }
    assert.match(screen(), /Sent 2/, "the outcome; screen: " + screen());
    assert.match(screen(), /0 pending/);
    assert.ok(seen.some((s) => /Sending \d\/2/.test(s)), "progress as sent/total was on screen; saw: " + seen.slice(0, 3).join(" || "));
  });

  it("a gateway that cannot be reached: 'Not sent' with the reason, then the bar says it in the alert colour", async () => {
    await payOffline("alice", "300");
    await toIdle();
    w.setGatewayReachable(false);
    w.keys("A1");
    await w.until("the outcome", () => /Not sent/.test(screen()), 60000);
    assert.match(screen(), /Gateway unreachable/);
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 10000);
    // the sync tries again after its backoff ("Sending 0/1" while a try runs); between tries the bar says why not
    await w.until("the failure on the bar", () => /^Gateway unreachable/.test(w.screenText()[1]), 60000);
    const frame = w.host.display.frame();
    const palette = [0xffff, 0x0000, 0x0339, 0xc800];
    assert.equal(frame[5 * 240 + 150], palette[3], "the bar in the alert colour");
    w.setGatewayReachable(true);
    // the next try gets through: the bar says the sync's age again, in the online colour
    await w.until("a round that ends well", () => /^sync /.test(w.screenText()[1]), 120000);
    assert.equal(w.host.display.frame()[5 * 240 + 150], palette[2], "the bar in the accent colour again");
  });

  it("a gateway that refuses the terminal: 'Gateway refused: HTTP 403 …' on the send-now screen", async () => {
    await toIdle();
    g.revokeTerminal!(spec.merchantId, spec.terminalId);
    w.keys("A1");
    await w.until("the outcome", () => /Not sent/.test(screen()), 60000);
    assert.match(screen(), /Gateway refused: HTTP 403/);
    assert.match(screen(), /revoked/);
  });
});
