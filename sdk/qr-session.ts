/**
 * The wallet's side of the encrypted payment QR (protocol/qr-session.ts has the layout; docs/protocol.md section 3):
 * a fresh ECDH key per payment, agreed with the session key the terminal's request QR ("R2…") carries, seals the
 * Payment into a "P2…" text. WebCrypto only, like the rest of the SDK.
 */
import { concat } from "../protocol/codec/hex.ts";
import { base45Encode } from "../protocol/codec/base45.ts";
import { qrTranscript, QR_VERSION, KEYID_QR } from "../protocol/qr-session.ts";
import { hmac, sealAsync } from "./ble.ts";

// P-256 (FIPS 186-4 D.1.2.3 / SEC 2 2.4.2): p = 2^256 - 2^224 + 2^192 + 2^96 - 1, y^2 = x^3 - 3x + b.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function powMod(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1n;
  }
  return r;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function toBytes32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 255n);
    v >>= 8n;
  }
  return out;
}

/**
 * X|Y (64 bytes) of a SEC1 compressed P-256 key (33 bytes), or null when it is not a point of the curve. Since
 * p = 3 mod 4, the square root is a power: y = (x^3 - 3x + b)^((p+1)/4) mod p (SEC 1 v2, section 2.3.4).
 */
export function decompressP256(k: Uint8Array): Uint8Array | null {
  if (k.length !== 33 || (k[0] !== 2 && k[0] !== 3)) return null;
  const x = toBig(k.subarray(1));
  if (x >= P) return null;
  const rhs = (((x * x) % P) * x - 3n * x + B) % P;
  const a = (rhs + P) % P;
  let y = powMod(a, (P + 1n) / 4n, P);
  if ((y * y) % P !== a) return null;
  if (Number(y & 1n) !== (k[0] & 1)) y = P - y;
  return concat([toBytes32(x), toBytes32(y)]);
}

interface Subtle {
  generateKey(alg: object, extractable: boolean, usages: string[]): Promise<{ publicKey: object; privateKey: object }>;
  exportKey(format: string, key: object): Promise<ArrayBuffer>;
  importKey(format: string, key: object, alg: object, extractable: boolean, usages: string[]): Promise<object>;
  deriveBits(alg: object, key: object, length: number): Promise<ArrayBuffer>;
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): Subtle {
  return (globalThis as unknown as { crypto: { subtle: Subtle } }).crypto.subtle;
}

const ECDH = { name: "ECDH", namedCurve: "P-256" };

/** The P2 text sealing `payment` for the request (88 bytes) and compressed session key of an R2 code. */
export async function sealPaymentForQr(request: Uint8Array, sessionKey: Uint8Array, payment: Uint8Array): Promise<string> {
  const c = subtle();
  const peerXY = decompressP256(sessionKey);
  if (!peerXY) throw new Error("the request's session key is not a P-256 point");
  const eph = await c.generateKey(ECDH, false, ["deriveBits"]);
  const walletEph = new Uint8Array(await c.exportKey("raw", eph.publicKey)).subarray(1);
  const peer = await c.importKey("raw", concat([new Uint8Array([4]), peerXY]), ECDH, false, []);
  const z = new Uint8Array(await c.deriveBits({ name: "ECDH", public: peer }, eph.privateKey, 256));
  const th = new Uint8Array(await c.digest("SHA-256", qrTranscript(request, sessionKey, walletEph)));
  const key = async (label: string) => (await hmac(z, concat([new TextEncoder().encode(label), th]))).subarray(0, 16);
  const env = await sealAsync({ keyId: KEYID_QR, enc: await key("qr enc"), mac: await key("qr mac") }, 1, payment);
  return "P" + QR_VERSION + base45Encode(concat([walletEph, env]));
}
