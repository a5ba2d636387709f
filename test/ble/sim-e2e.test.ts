/**
 * A payment over the encrypted Bluetooth session inside the simulator: a small device bundle (the devkit board's
 * real device object: the ATECC608 driver on the emulated I2C part, the NRF binding of hal/espruino/ble.ts) runs
 * the terminal's BleSession; the SimPhone with the wallet SDK is the customer's phone.
 */
import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import * as M from "../../protocol/messages.ts";
import { compile } from "../../build.ts";
import { devkitData as devkit } from "../../boards/devkit-data.ts";
import { payOverBle, WalletBleSession } from "../../sdk/ble.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { publicKeyOf, signBody } from "../../gateway/issuer.ts";
import { SimHost } from "../../sim/host.ts";
import { SimPhone } from "../../sim/peripherals/ble-phone.ts";
import { Atecc608Emulator } from "../../sim/peripherals/atecc608.ts";
import { allowanceFor, EUR, jwkOf, NOW_S, testIssuer, testScalar } from "../protocol/helpers.ts";
import { boardData } from "../update/helpers.ts";

const ENTRY = (cert: string, request: string) => `
import { devkit } from "./boards/devkit.ts";
import { fromHex, toHex } from "./protocol/codec/hex.ts";
import { BleSession } from "./protocol/ble-session.ts";
import { encodeReceipt, signedPart } from "./protocol/messages.ts";
const d = devkit.createDevice("test");
const s = new BleSession({
  ble: d.ble, se: d.secure, crypto: d.crypto, cert: fromHex("${cert}"), name: "PAY 4242",
  now: () => d.clock.uptime(),
  onOpen: () => { print("OPEN"); s.send(fromHex("${request}")); },
  onError: (code) => print("REJECT " + code),
  onMessage: (m) => {
    print("MSG " + toHex(m));
    if (m[1] !== 0x11) return;
    const r = encodeReceipt({ txId: fromHex("0000109200000001"), status: 0, time: ${NOW_S}, paymentHash: d.crypto.sha256(m).subarray(0, 8), terminalSig: new Uint8Array(64) });
    d.secure.sign(0, d.crypto.sha256(signedPart(r)), (err, sig) => {
      if (err || !sig) return print("SIGN " + err);
      r.set(sig, r.length - 64);
      print("RECEIPT " + s.send(r));
    });
  },
});
s.start();
`;

describe("Bluetooth payment inside the simulator (SimPhone + wallet SDK against a device bundle)", () => {
  it("pays over the encrypted session through NRF, the I2C secure element and the phone", async function () {
    this.timeout(60000);
    // A provisioned part: config locked, identity key = test scalar 7 (so the test can issue its certificate).
    let host: SimHost | null = null;
    const emu = new Atecc608Emulator({ now: () => (host ? host.sched.now : 0), address: devkit.wiring.secure.address, revision: "608B" });
    const st = emu.exportState();
    st.config = st.config.slice(0, 87 * 2) + "00" + st.config.slice(88 * 2);
    st.keys[0] = Buffer.from(testScalar(7)).toString("hex");
    st.keys[3] = Buffer.from(testScalar(8)).toString("hex");
    emu.importState(st);
    const terminalPub = publicKeyOf(testScalar(7));
    const issuer = testIssuer();
    const cert = issuer.issueTerminalCert({ terminalId: 4242, merchantId: 77, terminalPub, expiryDay: 30000 });
    const unsigned = M.encodeRequest({ terminalId: 4242, amountMinor: 990, currency: EUR, nonce: new Uint8Array(8).fill(4), time: NOW_S, terminalSig: new Uint8Array(64) });
    const request = new Uint8Array(unsigned);
    request.set(signBody(testScalar(7), M.signedPart(unsigned)), request.length - 64);

    const bundle = await compile(ENTRY(toHex(cert), toHex(request)), "ble-e2e.entry.ts", devkit.platform.builtinModules);
    host = new SimHost({ board: boardData(), bundle, secure: emu });
    const h = host;
    h.boot();
    h.advance(50);
    assert.deepEqual(h.errors, []);

    const phone = new SimPhone(h);
    phone.connect();
    h.advance(5);
    const session = new WalletBleSession(phone, { now: () => h.sched.now, issuerKeys: { 3: issuer.publicKey }, wallClockMs: () => NOW_S * 1000, timeoutMs: 0 });
    const wallet = new Wallet({ keyPair: jwkOf(testScalar(60)), allowance: allowanceFor(issuer, publicKeyOf(testScalar(60))) });

    const drive = async <T>(p: Promise<T>): Promise<T> => {
      let done = false;
      p.then(() => (done = true), () => (done = true));
      for (let i = 0; i < 5000 && !done; i++) {
        h.advance(5);
        await new Promise((r) => setImmediate(r));
    // WebCrypto on the phone's side completes on Node's thread pool: let it in (a busy CI machine is slow)
    await new Promise((r) => setTimeout(r, 0));
      }
      assert.ok(done, "the phone's side never finished; device printed: " + h.output.join(" | "));
      return p;
    };
    const info = await drive(session.open());
    assert.deepEqual([info.terminalId, info.merchantId], [4242, 77]);
    const out = await drive(payOverBle(wallet, session, info));
    assert.deepEqual([out.terminalId, out.merchantId], [4242, 77]);
    assert.equal(out.payment.request.amountMinor, 990);
    assert.equal(out.receipt.signatureVerified, true);
    assert.ok(h.output.includes("OPEN"));
    assert.ok(h.output.includes("MSG " + toHex(out.payment.bytes)), "the device got the payment decrypted");
    assert.ok(h.output.includes("RECEIPT true"));
    assert.deepEqual(h.errors, []);
    assert.equal(h.output.filter((l) => l.indexOf("REJECT") === 0).length, 0);
    assert.notEqual(toHex(emu.publicKeyOf(3)!), toHex(publicKeyOf(testScalar(8))), "a fresh session key was made");
  });
});
