import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import { Reassembler } from "../../protocol/ble-frames.ts";
import { txId, utr } from "../../protocol/ids.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { publicKeyOf, signMessage } from "../../gateway/issuer.ts";
import type { WalletState, WalletStore } from "../../sdk/wallet.ts";
import { Wallet, WalletError } from "../../sdk/wallet.ts";
import type { SeRig } from "./helpers.ts";
import { allowanceFor, check, codeOf, context, crypto, EUR, jwkOf, NOW_S, seRig, testIssuer, testScalar, TestTerminal, TODAY, USD } from "./helpers.ts";

const TERMINAL_PRIV = testScalar(7);
const TERMINAL_PUB = publicKeyOf(TERMINAL_PRIV);
const WALLET_PRIV = testScalar(2);
const issuer = testIssuer();

/** A store that keeps JSON, like an app's storage, and counts saves. */
class JsonStore implements WalletStore {
  json: string | null = null;
  saves = 0;
  load(): WalletState | null {
    return this.json ? (JSON.parse(this.json) as WalletState) : null;
  }
  save(s: WalletState): void {
    this.saves++;
    this.json = JSON.stringify(s);
  }
}

/** A request signed with a known terminal key (no secure element needed). */
function request(amountMinor: number, currency = EUR, time = NOW_S, nonceByte = 1): Uint8Array {
  return signMessage(TERMINAL_PRIV, M.encodeRequest({ terminalId: 4242, amountMinor, currency, nonce: new Uint8Array(8).fill(nonceByte), time, terminalSig: new Uint8Array(64) }));
}

function receiptFor(payment: Uint8Array, priv = TERMINAL_PRIV): Uint8Array {
  return signMessage(priv, M.encodeReceipt({ txId: txId(4242, 17), status: 0, time: NOW_S + 3, paymentHash: crypto.sha256(payment).subarray(0, 8), terminalSig: new Uint8Array(64) }));
}

function wallet(store?: WalletStore, terms = {}): Wallet {
  return new Wallet({ keyPair: jwkOf(WALLET_PRIV), allowance: allowanceFor(issuer, publicKeyOf(WALLET_PRIV), { capMinor: 5000, startCounter: 10, ...terms }), store });
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof WalletError && e.code === code && e.message.length > 10);
}

describe("wallet SDK", () => {
  it("reports its public key as X||Y", async () => {
    assert.equal(toHex(await wallet().publicKeyRaw()), toHex(publicKeyOf(WALLET_PRIV)));
  });

  it("makes a 206-byte payment as a 311-character P1 QR text and as BLE frames of the same bytes", async () => {
    const out = await wallet().pay(toQrText(request(1250)));
    assert.equal(out.bytes.length, 206);
    assert.equal(out.qr.length, 311);
    assert.ok(out.qr.startsWith("P1"));
    const back = fromQrText(out.qr);
    assert.ok("msg" in back);
    assert.equal(toHex(back.msg), toHex(out.bytes));
    const r = new Reassembler();
    let got: ReturnType<Reassembler["push"]> = null;
    out.frames.forEach((f, i) => {
      assert.ok(f.length <= 20);
      got = r.push(f, i);
    });
    assert.ok(got && "msg" in got);
    assert.equal(toHex((got as { msg: Uint8Array }).msg), toHex(out.bytes));
  });

  it("pays a request given as binary bytes (as received over Bluetooth)", async () => {
    const out = await wallet().pay(request(700));
    assert.equal(out.request.amountMinor, 700);
  });

  it("signs a payment the terminal accepts (real driver over the emulated part)", async () => {
    const rig: SeRig = seRig();
    const terminal = new TestTerminal(rig);
    const q = terminal.request(1999);
    const out = await wallet().pay(toQrText(q));
    assert.equal(codeOf(check(rig, context({ request: q, issuer, se: rig.se }), out.qr)), "accepted");
  });

  it("uses the allowance's start counter first, then increasing counters", async () => {
    const w = wallet();
    const a = await w.pay(toQrText(request(100, EUR, NOW_S, 1)));
    const b = await w.pay(toQrText(request(100, EUR, NOW_S, 2)));
    assert.deepEqual([a.counter, b.counter], [10, 11]);
    assert.equal((M.decodePayment(b.bytes) as M.Payment).counter, 11);
  });

  it("persists the used counter before the payment is returned", async () => {
    const store = new JsonStore();
    const w = wallet(store);
    const before = store.saves;
    const out = await w.pay(toQrText(request(100)));
    assert.ok(store.saves > before);
    assert.equal(store.load()!.nextCounter, out.counter + 1);
  });

  it("persists the counter before signing: a signing failure still burns the counter", async () => {
    const store = new JsonStore();
    const w = wallet(store);
    const subtle = globalThis.crypto.subtle;
    const orig = subtle.sign;
    let savedAtSign = -1;
    (subtle as unknown as { sign: unknown }).sign = () => {
      savedAtSign = store.load()!.nextCounter;
      return Promise.reject(new Error("keystore locked"));
    };
    try {
      await assert.rejects(w.pay(toQrText(request(100))), /keystore locked/);
    } finally {
      (subtle as unknown as { sign: unknown }).sign = orig;
    }
    assert.equal(savedAtSign, 11);
    assert.equal((await w.pay(toQrText(request(100, EUR, NOW_S, 2)))).counter, 11);
  });

  it("never reuses a counter across app restarts with the same store", async () => {
    const store = new JsonStore();
    const first = await wallet(store).pay(toQrText(request(100, EUR, NOW_S, 1)));
    const second = await wallet(store).pay(toQrText(request(100, EUR, NOW_S, 2)));
    assert.equal(second.counter, first.counter + 1);
  });

  it("gives distinct counters to payments started at the same time", async () => {
    const w = wallet();
    const outs = await Promise.all([1, 2, 3].map((n) => w.pay(toQrText(request(100, EUR, NOW_S, n)))));
    assert.deepEqual(outs.map((o) => o.counter).sort(), [10, 11, 12]);
  });

  it("counts what it paid against the cap: remaining()", async () => {
    const w = wallet();
    assert.equal(w.remaining(), 5000);
    await w.pay(toQrText(request(1200)));
    assert.equal(w.remaining(), 3800);
    assert.equal(w.state().spentMinor, 1200);
  });

  it("refuses an amount over what remains (R07), without using a counter", async () => {
    const store = new JsonStore();
    const w = wallet(store);
    await w.pay(toQrText(request(4000, EUR, NOW_S, 1)));
    await rejects(w.pay(toQrText(request(1001, EUR, NOW_S, 2))), "R07");
    assert.equal(store.load()!.nextCounter, 11);
  });

  it("refuses when the allowance expired before the terminal's date (R05)", async () => {
    const w = wallet(undefined, { expiryDay: TODAY - 1 });
    await rejects(w.pay(toQrText(request(100))), "R05");
  });

  it("refuses a request in another currency than the allowance (R06)", async () => {
    await rejects(wallet().pay(toQrText(request(100, USD))), "R06");
  });

  it("refuses text that is not a request (R01) and a newer version (R02)", async () => {
    const q = toQrText(request(100));
    await rejects(wallet().pay("hello"), "R01");
    await rejects(wallet().pay("R2" + q.slice(2)), "R02");
    await rejects(wallet().pay(toQrText(receiptFor(new Uint8Array(206)))), "R01");
  });

  it("refuses an allowance issued for another key (KEY)", async () => {
    const w = new Wallet({ keyPair: jwkOf(testScalar(99)), allowance: allowanceFor(issuer, publicKeyOf(WALLET_PRIV)) });
    await rejects(w.pay(toQrText(request(100))), "KEY");
  });

  it("refuses a malformed allowance at construction (ALLOWANCE)", () => {
    assert.throws(() => new Wallet({ keyPair: jwkOf(WALLET_PRIV), allowance: new Uint8Array(139) }), (e: unknown) => e instanceof WalletError && e.code === "ALLOWANCE");
  });

  it("works with a generated WebCrypto key pair", async () => {
    const keyPair = await Wallet.generateKey();
    const pub = await Wallet.publicKeyOf(keyPair);
    assert.equal(pub.length, 64);
    const w = new Wallet({ keyPair, allowance: allowanceFor(issuer, pub) });
    const q = request(100);
    const out = await w.pay(toQrText(q));
    const digest = crypto.sha256(new Uint8Array([...M.signedPart(out.bytes), ...q]));
    const { p256VerifyDigest } = await import("../../sim/peripherals/atecc608.ts");
    assert.equal(p256VerifyDigest(pub, digest, out.bytes.subarray(142)), true);
  });

  it("accepts the terminal's receipt for its payment and records it", async () => {
    const w = wallet();
    const out = await w.pay(toQrText(request(100)));
    const r = await w.checkReceipt(toQrText(receiptFor(out.bytes)), out.bytes, TERMINAL_PUB);
    assert.equal(r.signatureVerified, true);
    assert.equal(r.utr, utr(4242, 17));
    assert.equal(w.state().payments[0].receipt!.utr, utr(4242, 17));
  });

  it("checks the receipt's payment binding even without the terminal key", async () => {
    const w = wallet();
    const out = await w.pay(request(100));
    const r = await w.checkReceipt(receiptFor(out.bytes), out.bytes);
    assert.equal(r.signatureVerified, false);
  });

  it("refuses a receipt for another payment (MISMATCH)", async () => {
    const w = wallet();
    const a = await w.pay(request(100, EUR, NOW_S, 1));
    const b = await w.pay(request(100, EUR, NOW_S, 2));
    await rejects(w.checkReceipt(receiptFor(a.bytes), b.bytes, TERMINAL_PUB), "MISMATCH");
  });

  it("refuses a receipt not signed by the terminal (SIGNATURE)", async () => {
    const w = wallet();
    const out = await w.pay(request(100));
    await rejects(w.checkReceipt(receiptFor(out.bytes, testScalar(8)), out.bytes, TERMINAL_PUB), "SIGNATURE");
  });

  it("refuses something that is not a receipt (RECEIPT)", async () => {
    const w = wallet();
    const out = await w.pay(request(100));
    await rejects(w.checkReceipt(out.qr, out.bytes), "RECEIPT");
  });

  it("starts counting again under a new allowance, never lowering the counter", async () => {
    const w = wallet();
    await w.pay(request(4000));
    w.setAllowance(allowanceFor(issuer, publicKeyOf(WALLET_PRIV), { capMinor: 6000, startCounter: 0 }));
    assert.equal(w.remaining(), 6000);
    assert.equal((await w.pay(request(100, EUR, NOW_S, 2))).counter, 11);
  });
});
