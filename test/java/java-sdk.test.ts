/**
 * The Java wallet SDK (sdk/java, docs/wallet-sdk-java.md): its JUnit 5 tests (sdk/java/run-tests.sh: javac and
 * Debian's junit5, no download), and its interop with the TypeScript side. A Java wallet (the SDK's test-source
 * InteropMain, driven over stdin/stdout) registers at a running reference gateway over loopback HTTP, pays the
 * simulator's terminal (the flashed bundle) by QR and over Bluetooth, verifies the receipts the terminal prints,
 * pays invoices online (the terminal takes the confirmation by QR, and over Bluetooth),
 * syncs with the gateway and claims fraud, and answers an encrypted request (R2) with a P2 the terminal's TypeScript
 * code opens. The Bluetooth frames cross a loopback TCP bridge, one frame a line, to the
 * simulator's SimPhone, connected to the terminal's emulated NRF. Skipped, saying so, without javac or JUnit 5.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startGatewayServer } from "../../gateway/server.ts";
import type { GatewayServer } from "../../gateway/server.ts";
import { fromQrText } from "../../protocol/qr.ts";
import { createECDH, randomBytes } from "node:crypto";
import { decodePayment, decodeReceipt, encodeRequest, signedPart } from "../../protocol/messages.ts";
import { openPaymentQr, parsePaymentQr, requestQrText } from "../../protocol/qr-session.ts";
import { publicKeyOf, signMessage, verifyBody } from "../../gateway/issuer.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { SimPhone } from "../../sim/peripherals/ble-phone.ts";
import { World } from "../../sim/world.ts";
import type { GatewayLike } from "../../sim/world.ts";
import { awaitReceipt, openPayment } from "../../sim/scenarios/payment.ts";
import { sealRelay } from "../../protocol/relay.ts";
import { SoftTerminal, SoftWallet, inProcess } from "../helpers/soft-terminal.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const SDK = join(ROOT, "sdk", "java");
const SCRIPT = join(SDK, "run-tests.sh");
const SKIP_EXIT = 3;

/** Why the Java suites cannot run here ("" when they can): javac, java and Debian's junit5 jars are needed. */
function javaMissing(): string {
  const jars = process.env.JUNIT_JARS || "/usr/share/java";
  const onPath = (bin: string) => spawnSync("sh", ["-c", "command -v " + bin], { encoding: "utf8" }).status === 0;
  if (!onPath("javac") || !onPath("java")) return "skipped: no javac / JUnit 5 (no javac: apt-get install default-jdk-headless)";
  if (!existsSync(join(jars, "junit-platform-console-standalone.jar"))) return "skipped: no javac / JUnit 5 (no " + jars + "/junit-platform-console-standalone.jar: apt-get install junit5)";
  return "";
}
const MISSING = javaMissing();
/** describe(), or describe.skip() with the reason in its title when Java or JUnit 5 is missing. */
const javaDescribe = (title: string, body: (this: Mocha.Suite) => void) => (MISSING ? describe.skip(title + " [" + MISSING + "]", body) : describe(title, body));

/** Every .java file under a folder. */
function javaFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...javaFiles(p));
    else if (p.endsWith(".java")) out.push(p);
  }
  return out;
}

describe("Java wallet SDK: what it may use", () => {
  it("imports only java.* and javax.crypto (no Android, desktop-only or third-party API), so it runs on Android 8+", () => {
    const bad: string[] = [];
    for (const f of javaFiles(join(SDK, "src", "main", "java"))) {
      for (const m of readFileSync(f, "utf8").matchAll(/^import\s+(static\s+)?([\w.]+)/gm)) {
        const name = m[2];
        const ok = (name.startsWith("java.") && !/^java\.(awt|applet|beans|rmi|lang\.management)\b/.test(name) && !name.startsWith("javax.")) || name.startsWith("javax.crypto.") || name.startsWith("org.offlinepay.sdk.");
        if (!ok) bad.push(f.slice(ROOT.length + 1) + " imports " + name);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("calls no Java 9+ library method that Android 8 (API 26) lacks (List.of, String.repeat, Files.readString, ...)", () => {
    // javac --release 11 accepts them, but Android's library is Java 8's plus what each API level added
    const later = /\b(List|Set|Map)\.(of|copyOf)\(|\.repeat\(|\.isBlank\(|\.strip(Leading|Trailing)?\(|\.lines\(\)|Files\.(readString|writeString)\(|\.transferTo\(|\.readAllBytes\(\)|\.orElseThrow\(\)|\bvar\s+\w+\s*=|Optional\.|HttpClient\b/;
    const bad: string[] = [];
    for (const f of javaFiles(join(SDK, "src", "main", "java"))) {
      readFileSync(f, "utf8").split("\n").forEach((line, i) => {
        if (later.test(line) && !/^\s*(\*|\/\/)/.test(line)) bad.push(f.slice(ROOT.length + 1) + ":" + (i + 1) + " " + line.trim());
      });
    }
    assert.deepEqual(bad, []);
  });

  it("is built at the Java 11 language level (javac --release 11) with warnings as errors", () => {
    const script = readFileSync(SCRIPT, "utf8");
    assert.match(script, /javac --release 11 -Xlint:all,-serial -Werror/);
  });
});

/** Runs sdk/java/run-tests.sh; exit 3 means javac or JUnit 5 is missing. */
function runScript(args: string[], out: string): { status: number | null; stdout: string } {
  const r = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, JAVA_SDK_OUT: out }, timeout: 300000 });
  return { status: r.status, stdout: (r.stdout || "") + (r.stderr || "") };
}

javaDescribe("Java wallet SDK (sdk/java)", function () {
  this.timeout(300000);
  const out = mkdtempSync(join(tmpdir(), "java-sdk-"));
  after(() => rmSync(out, { recursive: true, force: true }));

  it("passes its JUnit 5 tests (every protocol vector, wallet, Bluetooth session, gateway client)", function () {
    const r = runScript([], out);
    if (r.status === SKIP_EXIT) return this.skip(); // the script printed "skipped: no javac / JUnit 5 (...)"
    const ok = /\[\s*(\d+) tests successful\s*\]/.exec(r.stdout);
    const failed = /\[\s*(\d+) tests failed\s*\]/.exec(r.stdout);
    assert.equal(r.status, 0, r.stdout.slice(-4000));
    assert.ok(ok && Number(ok[1]) >= 30, "the JUnit run reports its tests: " + r.stdout.slice(-1500));
    assert.equal(failed && Number(failed[1]), 0);
  });
});

/**
 * The loopback Bluetooth bridge: a TCP server on 127.0.0.1, one frame a line ("W fff2 <hex>" from the Java wallet,
 * "N fff1 <hex>" to it), and the simulator's SimPhone connected to what the terminal advertises. Frames cross
 * unchanged, as over the air.
 */
async function bleBridge(w: World): Promise<{ port: number; frames: { toTerminal: number; toWallet: number }; close(): Promise<void> }> {
  const phone = new SimPhone(w.host);
  phone.connect();
  w.wait(20);
  let socket: Socket | null = null;
  const frames = { toTerminal: 0, toWallet: 0 };
  const server: Server = createServer((s) => {
    socket = s;
    s.setNoDelay(true);
    createInterface({ input: s }).on("line", (line) => {
      const [kind, uuid, hex] = line.split(" ");
      if (kind !== "W") return;
      frames.toTerminal++;
      phone.write(parseInt(uuid, 16), new Uint8Array(Buffer.from(hex, "hex")));
    });
  });
  phone.onNotify((uuid, bytes) => {
    frames.toWallet++;
    if (socket) socket.write("N " + uuid.toString(16) + " " + Buffer.from(bytes).toString("hex") + "\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    frames,
    async close() {
      if (phone.isConnected) phone.disconnect();
      await new Promise<void>((r) => server.close(() => r()));
      w.wait(50);
    },
  };
}

javaDescribe("Java wallet SDK against the TypeScript terminal and gateway (interop)", function () {
  this.timeout(300000);
  const out = mkdtempSync(join(tmpdir(), "java-interop-"));
  let w: World;
  let gs: GatewayServer;
  let java: ChildProcessWithoutNullStreams | null = null;
  let answers: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let qr: { utr: string; txId: string } | null = null;
  let ble: { utr: string; txId: string } | null = null;

  /** One command to the Java wallet; its answer. While it runs, the terminal's event loop runs too (Bluetooth). */
  async function ask(cmd: Record<string, unknown>, o: { drive?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    if (!java) throw new Error("the Java wallet is not running");
    answers = [];
    const got = new Promise<string>((resolve) => (waiting = resolve));
    java.stdin.write(JSON.stringify(cmd) + "\n");
    let line: string | null = null;
    got.then((l) => (line = l));
    const until = Date.now() + (o.timeoutMs ?? 60000);
    while (line === null) {
      if (Date.now() > until) throw new Error("the Java wallet did not answer " + String(cmd.cmd) + "; the terminal shows: " + w.screenText().join(" | "));
      if (o.drive) w.wait(5);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, o.drive ? 1 : 5));
    }
    return JSON.parse(line) as Record<string, unknown>;
  }

  function expectOk(a: Record<string, unknown>): Record<string, unknown> {
    assert.equal(a.ok, true, "the Java wallet refused: " + JSON.stringify(a));
    return a;
  }

  before(async function () {
    const built = runScript(["build"], out);
    if (built.status === SKIP_EXIT) return this.skip();
    assert.equal(built.status, 0, built.stdout.slice(-3000));
    if (!existsSync(join(ROOT, "dist", "devkit.js"))) throw new Error("dist/devkit.js is missing: npm run build first (npm test does)");
    w = World.open({ stateDir: null });
    // The reference gateway, served on loopback for the Java wallet; the terminal reaches the same one in-process.
    gs = await startGatewayServer({ port: 0, host: "127.0.0.1", dbPath: ":memory:", clock: { now: () => w.now() }, gateway: { issuer: w.issuer, verifyThreads: 0 } });
    const g = gs.gateway;
    const like: GatewayLike = {
      handle: (req) => g.handle(req),
      ledger: () => g.ledger(),
      holds: () => g.holds(),
      smsOutbox: () => g.smsOutbox(),
      flags: () => g.flags(),
      linkPublicKey: g.linkPublicKey,
      registerMerchant: (spec) => g.registerMerchant({ iban: "FR1420041010050500013M02606", ...spec }),
      registerTerminal: (spec) => g.registerTerminal(spec),
    };
    w.attachGateway(like);
    await w.provision();
    w.setWifi(false); // the payments are offline; the Java wallet reaches the gateway on its own
    await w.run(500);
    java = spawn("java", ["-cp", join(out, "classes") + ":" + join(out, "test-classes"), "org.offlinepay.sdk.interop.InteropMain"], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: java.stdout }).on("line", (l) => {
      if (waiting) {
        const f = waiting;
        waiting = null;
        f(l);
      } else answers.push(l);
    });
    let err = "";
    java.stderr.on("data", (d) => (err += d));
    java.on("exit", (code) => {
      if (code) process.stderr.write("InteropMain exited " + code + ": " + err + "\n");
    });
    const init = expectOk(await ask({ cmd: "init", gateway: gs.url, adminToken: g.adminToken, capMinor: 20000, balanceMinor: 50000, state: join(out, "wallet.json") }));
    assert.match(String(init.walletId), /^[0-9a-f]{16}$/);
    assert.equal(init.remaining, 20000);
  });

  after(async () => {
    if (java) java.stdin.end();
    java = null;
    if (gs) await gs.close();
    if (w) await w.close();
    rmSync(out, { recursive: true, force: true });
  });

  it("pays the terminal's request QR: the terminal takes the Java payment and prints a receipt the Java SDK verifies", async () => {
    const printed = w.printedQrs().length;
    const request = await openPayment(w, 1250);
    const paid = expectOk(await ask({ cmd: "pay-qr", request }));
    // the terminal shows R2 (its secure element's session key): the Java wallet seals its payment to it (P2)
    assert.match(String(request), /^R2/);
    assert.match(String(paid.qr), /^P2/, "a sealed P2 payment QR");
    assert.ok(decodePayment(new Uint8Array(Buffer.from(String(paid.payment), "hex"))), "the Payment inside");
    w.scanText(String(paid.qr));
    const { receiptQr } = await awaitReceipt(w, printed);
    const rc = fromQrText(receiptQr);
    assert.ok("msg" in rc && decodeReceipt(rc.msg), "the terminal printed a receipt QR");
    const cert = Buffer.from(w.host.storage.read("cert.bin")!, "latin1").toString("hex");
    const check = expectOk(await ask({ cmd: "check-receipt", receipt: receiptQr, cert, clockMs: w.now() }));
    assert.equal(check.verified, true);
    assert.equal(check.merchantId, 42);
    await w.until("the terminal shows the payment's reference", () => w.screenText().some((l) => l.indexOf("UTR " + String(check.utr)) >= 0), 10000);
    qr = { utr: String(check.utr), txId: String(check.txId) };
  });

  it("refuses a terminal certificate altered to name another terminal: the issuer's signature no longer holds", async () => {
    // the same receipt, but a certificate for terminal 8: TERMINAL_MISMATCH before any receipt check
    const certBytes = Buffer.from(w.host.storage.read("cert.bin")!, "latin1");
    const forged = Buffer.from(certBytes);
    forged.writeUInt32BE(8, 2);
    const r = await ask({ cmd: "check-receipt", receipt: w.printedQrs()[w.printedQrs().length - 1], cert: forged.toString("hex"), clockMs: w.now() });
    assert.equal(r.ok, false);
    assert.equal(r.code, "CERT_UNTRUSTED", "an altered certificate no longer carries the issuer's signature");
  });

  it("pays over Bluetooth through a loopback bridge to the simulator's phone: encrypted session, receipt verified", async () => {
    await w.until("the idle screen", () => w.screenText().includes("Ready"), 30000);
    const printed = w.printedQrs().length;
    await openPayment(w, 990);
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising, 10000);
    const bridge = await bleBridge(w);
    try {
      const paid = expectOk(await ask({ cmd: "pay-ble", port: bridge.port, clockMs: w.now() }, { drive: true, timeoutMs: 120000 }));
      assert.equal(paid.amountMinor, 990);
      assert.equal(paid.verified, true);
      assert.equal(paid.terminalId, 7);
      assert.equal(paid.merchantId, 42);
      // the terminal, offline, handed the QR payment's record (still pending) along: the Java wallet keeps it
      assert.equal(paid.relayed, 1, "a relay bundle with the pending QR payment");
      // HELLO (66 bytes: 4 frames), then the sealed payment; ACCEPT (271: 15 frames), request and receipt back
      assert.ok(bridge.frames.toTerminal >= 4 + 14, "frames to the terminal: " + bridge.frames.toTerminal);
      assert.ok(bridge.frames.toWallet >= 15 + 7, "frames to the wallet: " + bridge.frames.toWallet);
      ble = { utr: String(paid.utr), txId: String(paid.txId) };
    } finally {
      await bridge.close();
    }
    await awaitReceipt(w, printed);
    assert.match(w.paperText(), /Wallet Bluetooth/);
    assert.ok(w.paperText().indexOf(ble!.utr) >= 0, "the printed receipt names the reference the Java wallet verified");
    assert.deepEqual(w.host.errors, []);
  });

  it("pays the terminal's invoice online at the gateway; the terminal, offline, takes the signed confirmation by QR", async () => {
    await w.until("the idle screen", () => w.screenText().includes("Ready"), 30000);
    w.keys("A3");
    w.keys("4999#");
    let invoice: string | null = null;
    for (let t = 0; t < 10000 && invoice === null; t += 500) {
      await w.run(500);
      invoice = w.displayQr();
    }
    assert.ok(invoice, "an invoice QR on the display; the screen shows: " + w.screenText().join(" | "));
    const paid = expectOk(await ask({ cmd: "pay-invoice", invoice }));
    assert.equal(paid.amountMinor, 4999);
    assert.match(String(paid.qr), /^C1/);
    const printed = w.printedQrs().length;
    w.scanText(String(paid.qr));
    await w.until("the receipt printed", () => w.printedQrs().length > printed && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    const rc = fromQrText(w.printedQrs()[w.printedQrs().length - 1]);
    const receipt = "msg" in rc ? decodeReceipt(rc.msg) : null;
    assert.ok(receipt, "the printed QR is the terminal's receipt");
    assert.equal(receipt.status, 1, "settled: paid online, confirmed by the issuer");
    const again = await ask({ cmd: "pay-invoice", invoice });
    assert.equal(again.code, "INVOICE_PAID", "the same invoice is not paid twice");
  });

  it("relays a second invoice's confirmation over Bluetooth: the Java session checks the invoice, the terminal prints", async () => {
    await w.until("the idle screen", () => w.screenText().includes("Ready"), 30000);
    w.keys("A3");
    w.keys("2500#");
    let invoice: string | null = null;
    for (let t = 0; t < 10000 && !(invoice && invoice.indexOf("/pay#") > 0); t += 500) {
      await w.run(500);
      invoice = w.displayQr();
    }
    assert.ok(invoice, "an invoice QR on the display; the screen shows: " + w.screenText().join(" | "));
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising, 10000);
    const paid = expectOk(await ask({ cmd: "pay-invoice", invoice }));
    assert.equal(paid.amountMinor, 2500);
    const printed = w.printedQrs().length;
    const bridge = await bleBridge(w);
    try {
      const r = expectOk(await ask({ cmd: "relay-ble", port: bridge.port, paid: paid.paid, clockMs: w.now() }, { drive: true, timeoutMs: 120000 }));
      assert.equal(r.status, 1, "settled");
    } finally {
      await bridge.close();
    }
    await w.until("the receipt printed", () => w.printedQrs().length > printed && w.screenText().includes("Receipt printed"), 60000);
    assert.ok(w.screenText().includes("Paid"));
    assert.deepEqual(w.host.errors, []);
  });

  it("syncs with the gateway: the relayed record entered first, both payments reported with their receipts, the other entered from its receipt, and a fresh allowance", async () => {
    assert.ok(qr && ble, "both payments were made");
    const s = expectOk(await ask({ cmd: "sync" }));
    assert.equal(s.reported, 2);
    // the QR payment's record came with the Bluetooth session's relay bundle: entered from it, as the terminal
    // would have uploaded it; the Bluetooth payment, which no terminal record carried, from the wallet's receipt
    assert.deepEqual(s.relayed, [{ terminalId: 7, acked: [1], rejected: [] }]);
    assert.deepEqual(s.evidenced, [ble!.txId]);
    assert.equal(s.relayKept, 0);
    assert.equal(s.newAllowance, true);
    assert.equal(s.remaining, 20000, "a new allowance: spending starts again");
    const rows = gs.gateway.ledger() as unknown as { txId: string }[];
    for (const t of [qr!.txId, ble!.txId]) assert.ok(rows.some((r) => r.txId === t), "the gateway's ledger holds " + t);
  });

  it("carries a terminal's relay bundle to the gateway at sync: entered once, again at a second sync nothing twice, a tampered one refused", async () => {
    const g = gs.gateway;
    const m = g.registerMerchant({ name: "Relay Cafe", iban: "FR1420041010050500013M02606" });
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: g.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const reg = g.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
    const t = new SoftTerminal({ terminalId: reg.terminalId, privateKey: probe.privateKey, linkPublicKey: g.linkPublicKey, send: inProcess(g), now: () => Math.floor(w.now() / 1000) });
    const payer = new SoftWallet();
    payer.setAllowance(g.registerWallet({ publicKey: payer.publicKey, capMinor: 5000, balanceMinor: 10000 }).allowance);
    const ids = [210, 320].map((a) => Buffer.from(t.record(t.walletPayment(payer, a)).entry.subarray(1, 9)).toString("hex"));
    const bundle = sealRelay(nodeCrypto(), t.relayKeys, t.terminalId, t.pending.map((r) => ({ seq: r.seq, prev: /^0+$/.test(r.prev) ? null : new Uint8Array(Buffer.from(r.prev, "hex")), payload: r.entry })));
    const count = () => ids.map((id) => (g.ledger() as unknown as { txId: string }[]).filter((r) => r.txId === id).length);
    const tampered = Buffer.from(bundle);
    tampered[tampered.length - 3] ^= 1;
    expectOk(await ask({ cmd: "keep-relay", bundle: tampered.toString("hex") }));
    expectOk(await ask({ cmd: "keep-relay", bundle: Buffer.from(bundle).toString("hex") }));
    const first = expectOk(await ask({ cmd: "sync" }));
    assert.deepEqual(first.relayRefused, ["RELAY_AUTH"]);
    assert.deepEqual(first.relayed, [{ terminalId: t.terminalId, acked: [1, 2], rejected: [] }]);
    assert.equal(first.relayKept, 0);
    assert.deepEqual(count(), [1, 1]);
    // the phone gets the same bundle again (the terminal had not synced) and syncs a second time
    expectOk(await ask({ cmd: "keep-relay", bundle: Buffer.from(bundle).toString("hex") }));
    const second = expectOk(await ask({ cmd: "sync" }));
    assert.deepEqual((second.relayed as { acked: number[] }[])[0].acked, [1, 2]);
    assert.deepEqual(count(), [1, 1], "entered once");
    // the terminal's own upload learns they are acknowledged
    await t.hello();
    assert.deepEqual((await t.uploadBatch(8)).acked, [1, 2]);
    assert.deepEqual(count(), [1, 1]);
  });

  it("claims fraud on the Bluetooth payment: disputed at the gateway; a second claim is refused with its code", async () => {
    const c = expectOk(await ask({ cmd: "claim", txId: ble!.txId, action: "dispute" }));
    assert.equal(c.txId, ble!.txId);
    assert.equal(c.status, "disputed");
    const again = await ask({ cmd: "claim", txId: ble!.txId, action: "dispute" });
    assert.equal(again.ok, false);
    assert.equal(again.code, "ALREADY_DISPUTED");
    const unknown = await ask({ cmd: "claim", txId: "0000000700ffffff", action: "dispute" });
    assert.equal(unknown.code, "UNKNOWN_TRANSACTION");
  });

  it("answers an encrypted request (R2) with a P2 that the TypeScript terminal code opens (protocol/qr-session.ts)", async () => {
    // The terminal firmware does not show R2 yet: the request and its session key are made here, as the secure
    // element would; the Java wallet seals, protocol/qr-session.ts (the terminal's code) opens.
    const termKey = new Uint8Array(randomBytes(32));
    const unsigned = encodeRequest({ terminalId: 7, amountMinor: 315, currency: 978, nonce: new Uint8Array(randomBytes(8)), time: Math.floor(w.now() / 1000), terminalSig: new Uint8Array(64) });
    const request = signMessage(termKey, unsigned);
    assert.ok(verifyBody(publicKeyOf(termKey), signedPart(request), request.subarray(request.length - 64)));
    const session = createECDH("prime256v1");
    session.generateKeys();
    const sessionPub = new Uint8Array(session.getPublicKey()).subarray(1);
    const paid = expectOk(await ask({ cmd: "pay-qr", request: requestQrText(request, sessionPub) }));
    assert.match(String(paid.qr), /^P2/);
    assert.equal(String(paid.qr).length, 467);
    const p2 = parsePaymentQr(String(paid.qr));
    assert.ok(p2, "a P2 text");
    const z = new Uint8Array(session.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(p2.walletEph)])));
    const opened = openPaymentQr(nodeCrypto(), z, request, sessionPub, p2.walletEph, p2.envelope);
    assert.ok(opened, "the envelope opens under the request and the session key");
    assert.equal(Buffer.from(opened).toString("hex"), paid.payment);
    const payment = decodePayment(opened)!;
    assert.ok(verifyBody(payment.allowance.walletPub, new Uint8Array([...signedPart(opened), ...request]), payment.walletSig), "the wallet's signature covers the request");
    const other = new Uint8Array(request);
    other[9] ^= 1;
    assert.equal(openPaymentQr(nodeCrypto(), z, other, sessionPub, p2.walletEph, p2.envelope), null, "not under another request");
  });
});
