/**
 * Signature checks for the gateway's hot path: the same ECDSA P-256 (R||S over SHA-256(body)) as issuer.ts's
 * verifyBody, with the parsed public keys cached (a terminal or wallet key is parsed once, not per record).
 */
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { SIG, signedPart } from "../protocol/messages.ts";

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** Proven triples held at most (some 600 bytes each, 10 MB): more than the uploads of 200 terminals waiting their turn. */
const MAX_PROVEN = 16384;

export class Verifier {
  private keys = new Map<string, KeyObject | null>();
  /**
   * Triples verified elsewhere (verify-pool.ts), by signature, the oldest let go past MAX_PROVEN: kept after use, so
   * a transaction run again after a serialization conflict finds them still (a verify's answer never changes).
   */
  private proven = new Map<string, { pub: Uint8Array; body: Uint8Array }>();
  constructor(private readonly max = 20000) {}

  /** A (key, body, signature) a worker verified: body() answers true for exactly these bytes without work. */
  admit(pub: Uint8Array, body: Uint8Array, sig: Uint8Array): void {
    while (this.proven.size >= MAX_PROVEN) this.proven.delete(this.proven.keys().next().value as string);
    this.proven.set(Buffer.from(sig).toString("hex"), { pub: new Uint8Array(pub), body: new Uint8Array(body) });
  }

  private key(pub: Uint8Array): KeyObject | null {
    const id = Buffer.from(pub).toString("hex");
    let k = this.keys.get(id);
    if (k === undefined) {
      k = null;
      if (pub.length === 64) {
        try {
          k = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) }, format: "jwk" });
        } catch {
          k = null; // not a point on the curve
        }
      }
      if (this.keys.size >= this.max) this.keys.clear();
      this.keys.set(id, k);
    }
    return k;
  }

  /** True when the key is a point on P-256. */
  validKey(pub: Uint8Array): boolean {
    return this.key(pub) !== null;
  }

  body(pub: Uint8Array, body: Uint8Array, sig: Uint8Array): boolean {
    if (this.proven.size) {
      const id = Buffer.from(sig).toString("hex");
      const p = this.proven.get(id);
      if (p) {
        if (Buffer.from(p.pub).equals(Buffer.from(pub)) && Buffer.from(p.body).equals(Buffer.from(body))) return true;
      }
    }
    const k = this.key(pub);
    if (!k || sig.length !== SIG) return false;
    try {
      return nodeVerify("sha256", body, { key: k, dsaEncoding: "ieee-p1363" }, sig);
    } catch {
      return false;
    }
  }

  /** An encoded protocol message's trailing signature. */
  message(pub: Uint8Array, encoded: Uint8Array): boolean {
    if (encoded.length <= SIG) return false;
    return this.body(pub, signedPart(encoded), encoded.subarray(encoded.length - SIG));
  }
}
