/**
 * Shared rig of the protocol tests: the real ATECC608 driver over the emulated part on a virtual clock (as the
 * terminal's secure element), a test issuer, a terminal that makes signed requests with the part, and raw
 * payment making (for payments the wallet SDK would refuse to make).
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { Done, SecureElement } from "../../hal/secure-element.ts";
import { Atecc608 } from "../../hal/drivers/atecc608.ts";
import { concat } from "../../protocol/codec/hex.ts";
import type { Accepted, CheckContext, Reject, WalletLedger } from "../../protocol/check.ts";
import { checkPayment } from "../../protocol/check.ts";
import * as M from "../../protocol/messages.ts";
import { Issuer, publicKeyOf, signBody } from "../../gateway/issuer.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { Atecc608Emulator } from "../../sim/peripherals/atecc608.ts";
import type { P256Jwk } from "../../sdk/wallet.ts";
import { VirtualClock } from "../helpers/virtual-clock.ts";

export const crypto: CryptoBackend = nodeCrypto();
export const EUR = 978;
export const USD = 840;
export const TODAY = 20497; // 2026-02-13
export const NOW_S = TODAY * 86400 + 12 * 3600;

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** A private JWK for a raw P-256 scalar, for the wallet SDK. */
export function jwkOf(priv: Uint8Array): P256Jwk {
  const pub = publicKeyOf(priv);
  return { kty: "EC", crv: "P-256", d: b64url(priv), x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) };
}

/** A deterministic private scalar for test key `n` (never zero, far below the curve order). */
export function testScalar(n: number): Uint8Array {
  const k = new Uint8Array(32);
  k[0] = 0x11;
  k[30] = n >> 8;
  k[31] = n & 255;
  return k;
}

export interface SeRig {
  clock: VirtualClock;
  emu: Atecc608Emulator;
  se: Atecc608;
  /** Runs one call to completion on the virtual clock; throws if it never calls back within `limitMs`. */
  run<T>(start: (done: Done<T>) => void, limitMs?: number): { err: string | null; value: T | undefined };
}

export function seRig(locked = true): SeRig {
  const clock = new VirtualClock();
  const emu = new Atecc608Emulator({ now: () => clock.uptime(), revision: "608B" });
  if (locked) {
    // The factory image arrives unlocked; provisioning writes the config zone and locks it (byte 87 = 00).
    const s = emu.exportState();
    s.config = s.config.slice(0, 87 * 2) + "00" + s.config.slice(88 * 2);
    emu.importState(s);
  }
  const se = new Atecc608({ i2c: () => ({ write: (a, d) => emu.i2cWrite(a, d), read: (a, n) => emu.i2cRead(a, n) }), clock });
  function run<T>(start: (done: Done<T>) => void, limitMs = 3000) {
    let got: { err: string | null; value: T | undefined } | null = null;
    start((err, value) => {
      if (got) throw new Error("callback called twice");
      got = { err, value };
    });
    for (let t = 0; t < limitMs && !got; t++) clock.advance(1, undefined, 1);
    if (!got) throw new Error("no callback within " + limitMs + " ms");
    return got as { err: string | null; value: T | undefined };
  }
  return { clock, emu, se, run };
}

/** A terminal whose key lives in the emulated part's slot 0; it signs requests with the part. */
export class TestTerminal {
  readonly pub: Uint8Array;
  constructor(
    readonly rig: SeRig,
    readonly terminalId = 4242,
  ) {
    const r = rig.run<Uint8Array>((d) => rig.se.provisionKey(0, d));
    if (r.err) throw new Error("provisionKey: " + r.err);
    this.pub = r.value as Uint8Array;
  }
  request(amountMinor: number, currency = EUR, time = NOW_S, nonce?: Uint8Array): Uint8Array {
    const n = nonce || (this.rig.run<Uint8Array>((d) => this.rig.se.random(d)).value as Uint8Array).subarray(0, 8);
    const body = M.signedPart(M.encodeRequest({ terminalId: this.terminalId, amountMinor, currency, nonce: n, time, terminalSig: new Uint8Array(64) }));
    const r = this.rig.run<Uint8Array>((d) => this.rig.se.sign(0, crypto.sha256(body), d));
    if (r.err) throw new Error("sign: " + r.err);
    return concat([body, r.value as Uint8Array]);
  }
}

export function testIssuer(): Issuer {
  return new Issuer({ keyId: 3, privateKey: testScalar(1) });
}

export interface AllowanceTerms {
  capMinor?: number;
  currency?: number;
  expiryDay?: number;
  startCounter?: number;
}

export function allowanceFor(issuer: Issuer, walletPub: Uint8Array, t: AllowanceTerms = {}): Uint8Array {
  return issuer.issueAllowance({
    walletPub,
    capMinor: t.capMinor === undefined ? 10000 : t.capMinor,
    currency: t.currency || EUR,
    expiryDay: t.expiryDay === undefined ? TODAY + 7 : t.expiryDay,
    startCounter: t.startCounter || 0,
  });
}

/** A payment made without the SDK's own checks (to reach the terminal's). */
export function rawPayment(walletPriv: Uint8Array, allowance: Uint8Array, counter: number, request: Uint8Array): Uint8Array {
  const a = M.decodeAllowance(allowance) as M.Allowance;
  const unsigned = M.encodePayment({ allowance: a, counter, walletSig: new Uint8Array(64) });
  const out = new Uint8Array(unsigned);
  out.set(signBody(walletPriv, concat([M.signedPart(unsigned), request])), out.length - 64);
  return out;
}

/** A ledger that answers from fixed figures and records what it was asked. */
export class FakeLedger implements WalletLedger {
  asked: string[] = [];
  constructor(
    public spent = 0,
    public last = -1,
    public deny = false,
  ) {}
  denied(walletId: string): boolean {
    this.asked.push("denied " + walletId);
    return this.deny;
  }
  lastCounter(walletId: string, day: number): number {
    this.asked.push("lastCounter " + walletId + " " + day);
    return this.last;
  }
  spentMinor(walletId: string, day: number): number {
    this.asked.push("spentMinor " + walletId + " " + day);
    return this.spent;
  }
}

export function context(o: { request: Uint8Array | null; issuer: Issuer; se: SecureElement; ledger?: WalletLedger; today?: number }): CheckContext {
  return {
    request: o.request,
    requestFields: o.request ? M.decodeRequest(o.request) : null,
    today: o.today === undefined ? TODAY : o.today,
    issuerKey: (id) => (id === o.issuer.keyId ? o.issuer.publicKey : null),
    ledger: o.ledger || new FakeLedger(),
    se: o.se,
    crypto,
  };
}

export type CheckResult = { reject: Reject } | { ok: Accepted };

/** checkPayment to completion on the rig's clock. */
export function check(rig: SeRig | null, ctx: CheckContext, text: string): CheckResult {
  let got: CheckResult | null = null;
  checkPayment(ctx, text, (err, ok) => {
    if (got) throw new Error("done called twice");
    got = err ? { reject: err } : { ok: ok as Accepted };
  });
  for (let t = 0; t < 3000 && !got && rig; t++) rig.clock.advance(1, undefined, 1);
  if (!got) throw new Error("checkPayment never finished");
  return got;
}

export function codeOf(r: CheckResult): string {
  return "reject" in r ? r.reject.code : "accepted";
}
