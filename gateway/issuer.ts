/**
 * The reference issuer (the gateway's signing side), on Node: an ECDSA P-256 key numbered by a 1-byte keyId that
 * signs offline allowances, terminal certificates and paid confirmations (docs/protocol.md section 1).
 * Signatures are R||S (64 bytes) over SHA-256(body), as every protocol message carries them.
 *
 *   const issuer = Issuer.generate(1);
 *   const allowance = issuer.issueAllowance({ walletPub, capMinor: 5000, currency: 978, expiryDay, startCounter: 0 });
 *   verifyMessage(issuer.publicKey, allowance); // true
 *
 * `signMessage`/`verifyMessage` are the same operation for any key, so tests and the simulator also use them to
 * play a terminal (requests, receipts) with a known private scalar.
 */
import { createECDH, createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Allowance, PaidConfirmation, TerminalCert } from "../protocol/messages.ts";
import { encodeAllowance, encodePaid, encodeTerminalCert, SIG, signedPart } from "../protocol/messages.ts";

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** X||Y (64 bytes) of a 32-byte P-256 private scalar. */
export function publicKeyOf(priv: Uint8Array): Uint8Array {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(priv));
  return new Uint8Array(ecdh.getPublicKey()).subarray(1); // drop the 04 prefix
}

function privateKeyObject(priv: Uint8Array): KeyObject {
  const pub = publicKeyOf(priv);
  return createPrivateKey({
    key: { kty: "EC", crv: "P-256", d: b64url(priv), x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) },
    format: "jwk",
  });
}

function publicKeyObject(pub: Uint8Array): KeyObject | null {
  if (pub.length !== 64) return null;
  try {
    return createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) }, format: "jwk" });
  } catch {
    return null; // not a point on the curve
  }
}

/** True when X||Y (64 bytes) is a point on P-256. */
export function isPublicKey(pub: Uint8Array): boolean {
  return publicKeyObject(pub) !== null;
}

/** R||S over SHA-256(body) with a private scalar. */
export function signBody(priv: Uint8Array, body: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign("sha256", body, { key: privateKeyObject(priv), dsaEncoding: "ieee-p1363" }));
}

/** Fills in the trailing 64-byte signature of an encoded message (whatever the encoder put there is replaced). */
export function signMessage(priv: Uint8Array, encoded: Uint8Array): Uint8Array {
  const out = new Uint8Array(encoded);
  out.set(signBody(priv, signedPart(encoded)), encoded.length - SIG);
  return out;
}

/** True when `sig` is a valid R||S over SHA-256(body) for the public key X||Y; false for a key off the curve. */
export function verifyBody(pub: Uint8Array, body: Uint8Array, sig: Uint8Array): boolean {
  const key = publicKeyObject(pub);
  if (!key || sig.length !== SIG) return false;
  return nodeVerify("sha256", body, { key, dsaEncoding: "ieee-p1363" }, sig);
}

/** Verifies an encoded message's trailing signature. */
export function verifyMessage(pub: Uint8Array, encoded: Uint8Array): boolean {
  if (encoded.length <= SIG) return false;
  return verifyBody(pub, signedPart(encoded), encoded.subarray(encoded.length - SIG));
}

export type AllowanceTerms = Omit<Allowance, "issuerKeyId" | "issuerSig">;
export type CertTerms = Omit<TerminalCert, "issuerKeyId" | "issuerSig">;
export type PaidTerms = Omit<PaidConfirmation, "issuerKeyId" | "issuerSig">;

export interface IssuerOptions {
  /** 1-byte key number that terminals look the public key up by. */
  keyId: number;
  /** 32-byte private scalar; a fresh random key when absent. */
  privateKey?: Uint8Array;
}

const ZERO_SIG = new Uint8Array(SIG);

export class Issuer {
  readonly keyId: number;
  readonly privateKey: Uint8Array;
  /** X||Y, what terminals are provisioned with. */
  readonly publicKey: Uint8Array;

  constructor(o: IssuerOptions) {
    if (!(o.keyId >= 0 && o.keyId <= 255 && Math.floor(o.keyId) === o.keyId)) throw new Error("issuer keyId must be a byte");
    this.keyId = o.keyId;
    this.privateKey = o.privateKey ? new Uint8Array(o.privateKey) : new Uint8Array(randomBytes(32));
    this.publicKey = publicKeyOf(this.privateKey);
  }

  static generate(keyId: number): Issuer {
    return new Issuer({ keyId });
  }

  /** The signed Allowance message (140 bytes) for a wallet. */
  issueAllowance(t: AllowanceTerms): Uint8Array {
    return signMessage(this.privateKey, encodeAllowance({ ...t, issuerKeyId: this.keyId, issuerSig: ZERO_SIG }));
  }

  /** The signed TerminalCert message (141 bytes). */
  issueTerminalCert(t: CertTerms): Uint8Array {
    return signMessage(this.privateKey, encodeTerminalCert({ ...t, issuerKeyId: this.keyId, issuerSig: ZERO_SIG }));
  }

  /** The signed PaidConfirmation message (94 bytes) for an invoice paid online. */
  signPaid(t: PaidTerms): Uint8Array {
    return signMessage(this.privateKey, encodePaid({ ...t, issuerKeyId: this.keyId, issuerSig: ZERO_SIG }));
  }

  /** True when the message's trailing signature is this issuer's. */
  verify(encoded: Uint8Array): boolean {
    return verifyMessage(this.publicKey, encoded);
  }
}
