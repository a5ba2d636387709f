/**
 * Protocol benchmark: size of every message on the wire (bytes, QR text characters, the smallest QR version that
 * holds it at ECC level M in alphanumeric mode), and the time to decode and check one payment: under Node, and on
 * a real Espruino interpreter when ESPRUINO=/path/to/espruino is set (decode + SHA-256 work and the JsVars it
 * needs; the two signature checks run on the ATECC608, about 105 ms each, and are reported as such).
 *
 *   npx tsx bench/protocol.ts
 *   ESPRUINO=/path/to/espruino npx tsx bench/protocol.ts
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import qrcode from "qrcode-generator";
import { fromHex, toHex } from "../protocol/codec/hex.ts";
import type { Accepted, CheckContext, Reject } from "../protocol/check.ts";
import { checkPayment } from "../protocol/check.ts";
import * as M from "../protocol/messages.ts";
import { toQrText } from "../protocol/qr.ts";
import type { SecureElement } from "../hal/secure-element.ts";
import { verifyBody } from "../gateway/issuer.ts";
import { nodeCrypto } from "../gateway/node-crypto.ts";
import { interpreter } from "../test/espruino/interpreter.ts";
import { probeOnInterpreter } from "./interpreter-probe.ts";

const ATECC_VERIFY_MS = 105;
const V = JSON.parse(readFileSync(new URL("../docs/protocol-vectors.json", import.meta.url), "utf8"));
const h = (s: string) => fromHex(s) as Uint8Array;
const vec = (name: string) => h(V.messages.find((m: { name: string }) => m.name === name).hex);

/** Smallest QR version (1..40) holding `text` in alphanumeric mode at ECC level M; 0 if none does. */
export function minQrVersion(text: string): number {
  for (let v = 1; v <= 40; v++) {
    try {
      const q = qrcode(v as TypeNumber, "M");
      q.addData(text, "Alphanumeric");
      q.make();
      return v;
    } catch {
      // overflow: try the next version
    }
  }
  return 0;
}
type TypeNumber = Parameters<typeof qrcode>[0];

const rows: string[][] = [["message", "type", "bytes", "QR chars", "QR version (M)"]];
let paymentVersion = 0;
for (const m of V.messages as { name: string; type: number; hex: string; qr: string | null }[]) {
  const bytes = h(m.hex);
  const text = m.qr;
  const v = text ? minQrVersion(text) : 0;
  if (m.name === "Payment") paymentVersion = v;
  rows.push([m.name, "0x" + m.type.toString(16).padStart(2, "0"), String(bytes.length), text ? String(text.length) : "-", text ? String(v) : "- (not sent as QR)"]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`protocol bench (Node ${process.version})`);
for (const r of rows) console.log("  " + r.map((c, i) => c.padEnd(widths[i])).join("  "));
if (paymentVersion < 1 || paymentVersion > 10) {
  console.error(`payment needs QR version ${paymentVersion} at M: over the limit of 10`);
  process.exitCode = 1;
}

// ---- decode + check one payment under Node (signature checks in software, standing in for the part)
const crypto = nodeCrypto();
const payment = vec("Payment");
const request = vec("Request");
const text = toQrText(payment);
const softSe: SecureElement = {
  verify: (d, sig, pub, done) => done(null, verifyDigestSoft(pub, d, sig)),
  info: () => {},
  random: () => {},
  sign: () => {},
  counter: () => {},
  publicKey: () => {},
  ecdh: () => {},
};
/** The vectors' genuine signatures verified by Node over the original bodies (Node's verify hashes for us). */
const bodies = new Map<string, Uint8Array>();
{
  const p = M.decodePayment(payment) as M.Payment;
  bodies.set(toHex(crypto.sha256(M.signedPart(M.encodeAllowance(p.allowance)))), M.signedPart(M.encodeAllowance(p.allowance)));
  const pr = new Uint8Array([...M.signedPart(payment), ...request]);
  bodies.set(toHex(crypto.sha256(pr)), pr);
}
function verifyDigestSoft(pub: Uint8Array, digest: Uint8Array, sig: Uint8Array): boolean {
  const body = bodies.get(toHex(digest));
  return !!body && verifyBody(pub, body, sig);
}
const ctx: CheckContext = {
  request,
  requestFields: M.decodeRequest(request),
  today: Math.floor((M.decodeRequest(request) as M.PaymentRequest).time / 86400),
  issuerKey: (id) => (id === V.keys.issuer.keyId ? h(V.keys.issuer.public) : null),
  ledger: { denied: () => false, lastCounter: () => -1, spentMinor: () => 0 },
  se: softSe,
  crypto,
};
function once(): void {
  let r: Reject | Accepted | null = null;
  checkPayment(ctx, text, (err, ok) => (r = err || ok || null));
  if (!r || "code" in (r as Reject)) throw new Error("bench payment not accepted: " + JSON.stringify(r));
}
for (let i = 0; i < 50; i++) once();
const N = 500;
let t0 = performance.now();
for (let i = 0; i < N; i++) once();
const checkUs = ((performance.now() - t0) / N) * 1000;
const noSig: CheckContext = { ...ctx, se: { ...softSe, verify: (_d, _s, _p, done) => done(null, true) } };
t0 = performance.now();
for (let i = 0; i < N * 4; i++) checkPayment(noSig, text, () => {});
const decodeUs = ((performance.now() - t0) / (N * 4)) * 1000;
console.log(`  Node: decode + checks of one payment without signatures ${decodeUs.toFixed(0)} us; with both ECDSA verifies in software ${checkUs.toFixed(0)} us (mean of ${N})`);
console.log(`  ATECC608: 2 signature verifies x ${ATECC_VERIFY_MS} ms = ${2 * ATECC_VERIFY_MS} ms per payment (datasheet typical; the part does them, not the interpreter)`);

await onInterpreter();

/** Decode + hashing of one payment on the Espruino interpreter, built by the same pipeline as the firmware. */
async function onInterpreter(): Promise<void> {
  const bin = interpreter();
  if (!bin) {
    console.log("  interpreter: skipped (set ESPRUINO=/path/to/espruino to measure on Espruino)");
    return;
  }
  const n = 20;
  const entry =
    `import { fromQrText } from "./protocol/qr.ts";\n` +
    `import { decodePayment, encodeAllowance, signedPart } from "./protocol/messages.ts";\n` +
    `import { walletIdOf } from "./protocol/check.ts";\n` +
    `import { concat, fromHex } from "./protocol/codec/hex.ts";\n` +
    `import { builtinCrypto } from "./hal/espruino/crypto.ts";\n` +
    `const c = builtinCrypto();\n` +
    `const text = ${JSON.stringify(text)};\n` +
    `const request = fromHex(${JSON.stringify(toHex(request))});\n` +
    // One payment's work; probe() runs at its fullest point (everything decoded and hashed still held).
    `function one(probe) {\n` +
    `  const q = fromQrText(text);\n` +
    `  if (!("msg" in q)) return false;\n` +
    `  const p = decodePayment(q.msg);\n` +
    `  if (!p) return false;\n` +
    `  const w = walletIdOf(c, p.allowance.walletPub);\n` +
    `  const d1 = c.sha256(signedPart(encodeAllowance(p.allowance)));\n` +
    `  const d2 = c.sha256(concat([signedPart(q.msg), request]));\n` +
    `  if (probe) probe();\n` +
    `  return w.length === 16 && d1.length === 32 && d2.length === 32;\n` +
    `}\n`;
  const f = await probeOnInterpreter(bin, entry, n, "protocol");
  if ("error" in f) {
    console.log("  interpreter: " + f.error);
    return;
  }
  const ms = f.ms.toFixed(2);
  console.log(`  interpreter (${f.where}):`);
  console.log(`    decode + 3 SHA-256 of one payment: ${ms} ms (mean of ${f.ok}/${n}); JsVars in use ${f.base} before, ${f.peak} at peak (of ${f.total})`);
  console.log(`    + 2 verifies on the ATECC608: about ${(f.ms + 2 * ATECC_VERIFY_MS).toFixed(0)} ms per payment before the ledger and journal`);
}
