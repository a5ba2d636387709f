/**
 * The encrypted Bluetooth session end to end: the terminal module (protocol/ble-session.ts) on a fake
 * hal Ble with the real ATECC608 driver over the emulated part, the wallet SDK (sdk/ble.ts) as the phone.
 */
import assert from "node:assert/strict";
import { concat } from "../../protocol/codec/hex.ts";
import { toFrames } from "../../protocol/ble-frames.ts";
import { BleMsg, CHAR_FROM_WALLET, KEYID_W2T } from "../../protocol/ble-session.ts";
import * as M from "../../protocol/messages.ts";
import { seal, unseal } from "../../protocol/seal.ts";
import { BleError, payOverBle, sealAsync, unsealAsync, WalletBleSession } from "../../sdk/ble.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { publicKeyOf } from "../../gateway/issuer.ts";
import { allowanceFor, crypto, EUR, jwkOf, NOW_S, testIssuer, testScalar } from "../protocol/helpers.ts";
import type { Terminal } from "./rig.ts";
import { pump, terminal, until } from "./rig.ts";

function signWithSe(t: Terminal, unsigned: Uint8Array): Uint8Array {
  const r = t.rig.run<Uint8Array>((d) => t.rig.se.sign(0, crypto.sha256(M.signedPart(unsigned)), d));
  assert.equal(r.err, null);
  const out = new Uint8Array(unsigned);
  out.set(r.value as Uint8Array, out.length - M.SIG);
  return out;
}

function request(t: Terminal, amountMinor: number): Uint8Array {
  return signWithSe(t, M.encodeRequest({ terminalId: 4242, amountMinor, currency: EUR, nonce: new Uint8Array(8).fill(9), time: NOW_S, terminalSig: new Uint8Array(64) }));
}

function receiptFor(t: Terminal, payment: Uint8Array): Uint8Array {
  const txId = Uint8Array.of(0, 0, 0x10, 0x92, 0, 0, 0, 1);
  return signWithSe(t, M.encodeReceipt({ txId, status: 0, time: NOW_S, paymentHash: crypto.sha256(payment).subarray(0, 8), terminalSig: new Uint8Array(64) }));
}

async function opened(t: Terminal, issuerKeys?: Record<number, Uint8Array>): Promise<{ s: WalletBleSession; info: Awaited<ReturnType<WalletBleSession["open"]>> }> {
  const s = new WalletBleSession(t.ble.central(), { now: () => t.rig.clock.uptime(), issuerKeys: issuerKeys ?? { 3: t.issuerPub }, wallClockMs: () => NOW_S * 1000, timeoutMs: 0 });
  const info = await pump(t.rig, s.open());
  return { s, info };
}

const hasBytes = (hay: Uint8Array[], needle: Uint8Array) => Buffer.concat(hay.map((f) => Buffer.from(f))).indexOf(Buffer.from(needle)) >= 0;

describe("Bluetooth session (terminal module + wallet SDK)", () => {
  it("opens a session whose key the terminal signed, with a certificate from the issuer", async () => {
    const t = terminal();
    const { info } = await opened(t);
    assert.deepEqual(Buffer.from(info.terminalPub), Buffer.from(t.pub));
    assert.equal(info.cert.terminalId, 4242);
    assert.deepEqual([info.terminalId, info.merchantId, info.certExpiryDay], [4242, 77, 30000]);
    assert.equal(t.opened, 1);
    assert.equal(t.session.isOpen(), true);
  });

  it("carries a whole payment both ways encrypted: request, payment, receipt", async () => {
    const t = terminal();
    const { s, info } = await opened(t);
    const issuer = testIssuer();
    const wallet = new Wallet({ keyPair: jwkOf(testScalar(50)), allowance: allowanceFor(issuer, publicKeyOf(testScalar(50))) });
    const req = request(t, 1250);
    assert.equal(t.session.send(req), true);
    const paying = payOverBle(wallet, s, info);
    await until(t.rig, () => t.received.length === 1);
    const payment = t.received[0];
    assert.equal(payment[1], M.MsgType.Payment);
    assert.equal(t.session.send(receiptFor(t, payment)), true);
    const out = await pump(t.rig, paying);
    assert.deepEqual(Buffer.from(out.payment.bytes), Buffer.from(payment));
    assert.equal(out.receipt.signatureVerified, true);
    assert.equal(out.payment.request.amountMinor, 1250);
    // nothing of the messages travels in clear
    assert.equal(hasBytes(t.ble.notified, req.subarray(0, 40)), false, "request not in clear");
    assert.equal(hasBytes(t.ble.written, payment.subarray(payment.length - 64)), false, "payment not in clear");
    assert.deepEqual(t.errors, []);
  });

  it("relays a paid confirmation to the terminal", async () => {
    const t = terminal();
    const { s } = await opened(t);
    const paid = new Uint8Array(94).fill(0x21);
    await pump(t.rig, s.send(paid));
    assert.deepEqual(t.received.map((m) => Buffer.from(m)), [Buffer.from(paid)]);
  });

  it("rejects a tampered frame with B03, hands nothing on, and tells the wallet", async () => {
    const t = terminal();
    const { s } = await opened(t);
    const before = t.ble.written.length;
    t.ble.tamperWrite = (f, i) => {
      if (i === before + 2) f[5] ^= 0x01; // a byte of the envelope's IV/ciphertext in the third frame
      return f;
    };
    await pump(t.rig, s.send(new Uint8Array(206).fill(7)));
    assert.deepEqual(t.received, []);
    assert.deepEqual(t.errors, ["B03"]);
    await assert.rejects(pump(t.rig, s.next()), (e: unknown) => e instanceof BleError && e.code === "B03");
  });

  it("rejects a tampered notification on the wallet's side (B03)", async () => {
    const t = terminal();
    const { s } = await opened(t);
    const orig = t.ble.notify.bind(t.ble);
    let n = 0;
    t.ble.notify = (uuid, v) => orig(uuid, n++ === 1 ? Uint8Array.from(v, (b, i) => (i === 4 ? b ^ 0x80 : b)) : v);
    t.session.send(new Uint8Array(88).fill(1));
    await assert.rejects(pump(t.rig, s.next()), (e: unknown) => e instanceof BleError && e.code === "B03");
  });

  it("rejects a replayed message with B04", async () => {
    const t = terminal();
    const { s } = await opened(t);
    const start = t.ble.written.length;
    await pump(t.rig, s.send(new Uint8Array(30).fill(3)));
    const frames = t.ble.written.slice(start);
    const central = t.ble.central();
    for (const f of frames) central.write(CHAR_FROM_WALLET, f);
    assert.equal(t.received.length, 1);
    assert.deepEqual(t.errors, ["B04"]);
  });

  it("rejects malformed framing with B01 and recovers for the next message", async () => {
    const t = terminal();
    const { s } = await opened(t);
    const central = t.ble.central();
    central.write(CHAR_FROM_WALLET, Uint8Array.of(0x05, 1, 2)); // continuation with no message started
    assert.deepEqual(t.errors, ["B01"]);
    await assert.rejects(pump(t.rig, s.next()), (e: unknown) => e instanceof BleError && e.code === "B01");
    await pump(t.rig, s.send(Uint8Array.of(1, 2, 3)));
    assert.equal(t.received.length, 1);
  });

  it("rejects data before any hello with B05", () => {
    const t = terminal();
    const central = t.ble.central();
    for (const f of toFrames(concat([Uint8Array.of(BleMsg.Data), new Uint8Array(54)]))) central.write(CHAR_FROM_WALLET, f);
    assert.deepEqual(t.errors, ["B05"]);
  });

  it("rejects a hello of the wrong length, or whose key is not on the curve, with B02", async () => {
    const t = terminal();
    const central = t.ble.central();
    for (const f of toFrames(Uint8Array.of(BleMsg.Hello, 1, 4, 4))) central.write(CHAR_FROM_WALLET, f);
    assert.deepEqual(t.errors, ["B02"]);
    const offCurve = concat([Uint8Array.of(BleMsg.Hello, 1), new Uint8Array(64).fill(0x42)]);
    for (const f of toFrames(offCurve)) central.write(CHAR_FROM_WALLET, f);
    await until(t.rig, () => t.errors.length === 2);
    assert.deepEqual(t.errors, ["B02", "B02"]);
    assert.equal(t.session.isOpen(), false);
  });

  it("makes the wallet refuse a terminal whose certificate is not from a known issuer", async () => {
    const t = terminal();
    const s = new WalletBleSession(t.ble.central(), { now: () => t.rig.clock.uptime(), issuerKeys: { 3: publicKeyOf(testScalar(99)) }, wallClockMs: () => NOW_S * 1000, timeoutMs: 0 });
    await assert.rejects(pump(t.rig, s.open()), (e: unknown) => e instanceof BleError && e.code === "CERT_UNTRUSTED");
  });

  it("makes a fresh session key in the secure element for a hello", async () => {
    const t = terminal();
    const before = Buffer.from(t.rig.emu.publicKeyOf(3)!);
    await opened(t);
    const a = Buffer.from(t.rig.emu.publicKeyOf(3)!);
    assert.notDeepEqual(a, before);
    t.rig.clock.advance(10000, undefined, 100);
    await opened(t);
    assert.notDeepEqual(Buffer.from(t.rig.emu.publicKeyOf(3)!), a);
    assert.equal(t.opened, 2);
  });

  it("makes at most one session key per 10 s, so hellos in a loop cannot wear out the part's EEPROM", async () => {
    const t = terminal();
    await opened(t);
    const a = Buffer.from(t.rig.emu.publicKeyOf(3)!);
    const { s, info } = await opened(t);
    assert.deepEqual(Buffer.from(t.rig.emu.publicKeyOf(3)!), a, "the slot's key was reused");
    assert.equal(info.merchantId, 77);
    await pump(t.rig, s.send(Uint8Array.of(1, 0x21)));
    assert.equal(t.received.length, 1, "the reused key still makes a working session");
  });

  it("drops the session keys at disconnect: nothing can be sent until a new hello", async () => {
    const t = terminal();
    await opened(t);
    t.ble.service!.onDisconnect!();
    assert.equal(t.session.isOpen(), false);
    assert.equal(t.session.send(Uint8Array.of(1)), false);
  });

  it("seals exactly as the terminal's envelope code does (SDK and firmware agree)", async () => {
    const k = { keyId: KEYID_W2T, enc: new Uint8Array(16).fill(5), mac: new Uint8Array(16).fill(6) };
    const pt = new Uint8Array(45).fill(0xab);
    const a = await sealAsync(k, 7, pt);
    assert.deepEqual(Buffer.from(a), Buffer.from(seal(crypto, k, 7, pt)));
    const back = unseal(crypto, k, a);
    assert.ok("data" in back && back.seq === 7);
    const r = await unsealAsync(k, seal(crypto, k, 8, pt));
    assert.ok("data" in r && Buffer.from(r.data).equals(Buffer.from(pt)));
  });
});
