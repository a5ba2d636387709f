/**
 * (Re)creates the protocol's published test vectors:
 *   docs/protocol-vectors.json              every message (fields, hex, QR text), seal, Base45, UTR, BLE frames
 *   firmware/selftest/protocol-vectors.ts   the hex and field strings the on-device self-test checks
 *
 *   npx tsx test/protocol/make-vectors.ts
 *
 * Everything is fixed by the inputs below except ECDSA signatures (randomized): a signature already in the JSON is
 * kept while it still verifies over the (new) body, so re-running this changes nothing unless a layout changed.
 * The private keys are TEST-ONLY keys, published on purpose; never provision them anywhere.
 */
import { createECDH, createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ascii, concat, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { base45Encode } from "../../protocol/codec/base45.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import { toFrames } from "../../protocol/ble-frames.ts";
import { txId, utr } from "../../protocol/ids.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { seal } from "../../protocol/seal.ts";
import { encodeEntry } from "../../protocol/entry.ts";
import { relayKeys, sealRelay } from "../../protocol/relay.ts";
import { compressKey, qrKeys, qrTranscript, requestQrText, sealPaymentQr } from "../../protocol/qr-session.ts";
import { canonical } from "../../firmware/selftest/protocol.ts";
import { publicKeyOf, signBody, verifyBody } from "../../gateway/issuer.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const JSON_PATH = join(ROOT, "docs", "protocol-vectors.json");
const DEVICE_PATH = join(ROOT, "firmware", "selftest", "protocol-vectors.ts");

const sha = (s: string) => new Uint8Array(createHash("sha256").update(s).digest());
const h = (s: string) => fromHex(s) as Uint8Array;
const ZERO = new Uint8Array(64);

/** TEST-ONLY keys: SHA-256 of a label (all below the P-256 order). */
export const TEST_KEYS = {
  issuer: { keyId: 1, private: sha("offline-pay v1 TEST-ONLY issuer key 1") },
  terminal: { private: sha("offline-pay v1 TEST-ONLY terminal key") },
  wallet: { private: sha("offline-pay v1 TEST-ONLY wallet key") },
  orderKey: sha("offline-pay v1 TEST-ONLY merchant order key"),
  /** The terminal's QR session key (the secure element's Session slot) and a wallet's one-payment ECDH key. */
  qrSession: sha("offline-pay v2 TEST-ONLY terminal QR session key"),
  qrWalletEph: sha("offline-pay v2 TEST-ONLY wallet ephemeral key"),
  /** A link's ECDH secret Z (docs/sync.md section 1), for the relay bundle's keys. */
  linkZ: sha("offline-pay v1 TEST-ONLY link secret Z"),
  link: { keyId: 7, enc: h("000102030405060708090a0b0c0d0e0f"), mac: h("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f") },
};

type Json = { [k: string]: unknown };

/** Fields as JSON: byte arrays as lower-case hex, nested messages as objects. */
export function fieldsToJson(o: object): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v instanceof Uint8Array) out[k] = toHex(v);
    else if (typeof v === "object" && v) out[k] = fieldsToJson(v);
    else out[k] = v;
  }
  return out;
}

function loadOld(): Json | null {
  return existsSync(JSON_PATH) ? (JSON.parse(readFileSync(JSON_PATH, "utf8")) as Json) : null;
}

export function generate(old: Json | null): { json: Json; device: string } {
  const c = nodeCrypto();
  const oldSigs: { [name: string]: string } = {};
  if (old) for (const m of old.messages as Json[]) oldSigs[m.name as string] = (m.hex as string).slice(-128);

  const pub = {
    issuer: publicKeyOf(TEST_KEYS.issuer.private),
    terminal: publicKeyOf(TEST_KEYS.terminal.private),
    wallet: publicKeyOf(TEST_KEYS.wallet.private),
  };
  /** A signature over `data`: the old one while it still verifies, else a new one. */
  function sigFor(name: string, priv: Uint8Array, key: Uint8Array, data: Uint8Array): Uint8Array {
    const was = oldSigs[name];
    if (was && verifyBody(key, data, h(was))) return h(was);
    return signBody(priv, data);
  }
  const messages: Json[] = [];
  const device: string[][] = [];
  function add(name: string, signedBy: string, bytes: Uint8Array, fields: object, extra: Json = {}): void {
    // Allowance and TerminalCert have no QR form (they travel inside a Payment, or at provisioning).
    const t = toQrText(bytes);
    const back = fromQrText(t);
    const qr = "msg" in back && toHex(back.msg) === toHex(bytes) ? t : null;
    messages.push({ name, type: bytes[1], length: bytes.length, signedBy, fields: fieldsToJson(fields), hex: toHex(bytes), qr, ...extra });
    device.push([name, toHex(bytes), canonical(fields)]);
  }

  const allowanceTerms = { walletPub: pub.wallet, capMinor: 50000, currency: 978, expiryDay: 20500, startCounter: 100, issuerKeyId: TEST_KEYS.issuer.keyId };
  const allowanceBody = M.signedPart(M.encodeAllowance({ ...allowanceTerms, issuerSig: ZERO }));
  const allowance: M.Allowance = { ...allowanceTerms, issuerSig: sigFor("Allowance", TEST_KEYS.issuer.private, pub.issuer, allowanceBody) };
  add("Allowance", "issuer", M.encodeAllowance(allowance), allowance);

  const certTerms = { terminalId: 4242, merchantId: 77001, terminalPub: pub.terminal, expiryDay: 21000, issuerKeyId: 1 };
  const certBody = M.signedPart(M.encodeTerminalCert({ ...certTerms, issuerSig: ZERO }));
  const cert: M.TerminalCert = { ...certTerms, issuerSig: sigFor("TerminalCert", TEST_KEYS.issuer.private, pub.issuer, certBody) };
  add("TerminalCert", "issuer", M.encodeTerminalCert(cert), cert);

  const reqTerms = { terminalId: 4242, amountMinor: 1250, currency: 978, nonce: h("0123456789abcdef"), time: 1771000000 };
  const reqBody = M.signedPart(M.encodeRequest({ ...reqTerms, terminalSig: ZERO }));
  const request: M.PaymentRequest = { ...reqTerms, terminalSig: sigFor("Request", TEST_KEYS.terminal.private, pub.terminal, reqBody) };
  const requestBytes = M.encodeRequest(request);
  add("Request", "terminal", requestBytes, request);

  const payBody = M.signedPart(M.encodePayment({ allowance, counter: 101, walletSig: ZERO }));
  const payment: M.Payment = { allowance, counter: 101, walletSig: sigFor("Payment", TEST_KEYS.wallet.private, pub.wallet, concat([payBody, requestBytes])) };
  const paymentBytes = M.encodePayment(payment);
  add("Payment", "wallet", paymentBytes, payment, {
    signs: "SHA-256(payment without its signature || the Request vector, whole)",
    frames: toFrames(paymentBytes).map(toHex),
  });

  const rcTerms = { txId: txId(4242, 17), status: 0, time: 1771000003, paymentHash: c.sha256(paymentBytes).subarray(0, 8) };
  const rcBody = M.signedPart(M.encodeReceipt({ ...rcTerms, terminalSig: ZERO }));
  const receipt: M.Receipt = { ...rcTerms, terminalSig: sigFor("Receipt", TEST_KEYS.terminal.private, pub.terminal, rcBody) };
  add("Receipt", "terminal", M.encodeReceipt(receipt), receipt);

  const invTerms = { terminalId: 4242, invoiceNo: 9, amountMinor: 4999, currency: 978, expires: 1771003600 };
  const invBody = M.signedPart(M.encodeInvoice({ ...invTerms, terminalSig: ZERO }));
  const invoice: M.Invoice = { ...invTerms, terminalSig: sigFor("Invoice", TEST_KEYS.terminal.private, pub.terminal, invBody) };
  add("Invoice", "terminal", M.encodeInvoice(invoice), invoice);

  const paidTerms = { terminalId: 4242, invoiceNo: 9, amountMinor: 4999, currency: 978, paidAt: 1771000900, method: 1, paymentRef: h("a1b2c3d4e5f60718"), issuerKeyId: 1 };
  const paidBody = M.signedPart(M.encodePaid({ ...paidTerms, issuerSig: ZERO }));
  const paid: M.PaidConfirmation = { ...paidTerms, issuerSig: sigFor("PaidConfirmation", TEST_KEYS.issuer.private, pub.issuer, paidBody) };
  add("PaidConfirmation", "issuer", M.encodePaid(paid), paid);

  const orderTerms = { merchantId: 77001, orderRef: "ORD-2026-001", amountMinor: 2599, currency: 978, expires: 1771086400 };
  const orderBody = M.encodeOrder({ ...orderTerms, tag: new Uint8Array(16) }).subarray(0, M.Len.Order - 16);
  const order: M.Order = { ...orderTerms, tag: hmacSha256(c, TEST_KEYS.orderKey, orderBody).subarray(0, 16) };
  add("Order", "hmac(orderKey)", M.encodeOrder(order), order, { tagOver: "the " + orderBody.length + " bytes before the tag" });

  const refTerms = { txId: txId(4242, 17), amountMinor: 1250, currency: 978, time: 1771090000, reason: 2 };
  const refBody = M.signedPart(M.encodeRefund({ ...refTerms, terminalSig: ZERO }));
  const refund: M.Refund = { ...refTerms, terminalSig: sigFor("Refund", TEST_KEYS.terminal.private, pub.terminal, refBody) };
  add("Refund", "terminal", M.encodeRefund(refund), refund);

  const seals = [
    { keyId: 7, seq: 1, plaintext: "" },
    { keyId: 7, seq: 42, plaintext: toHex(ascii("0123456789abcdef")) },
    { keyId: 7, seq: 4294967295, plaintext: toHex(ascii("upload batch: 3 records, chain ok")) },
  ].map((s) => ({
    ...s,
    enc: toHex(TEST_KEYS.link.enc),
    mac: toHex(TEST_KEYS.link.mac),
    envelope: toHex(seal(c, { keyId: s.keyId, enc: TEST_KEYS.link.enc, mac: TEST_KEYS.link.mac }, s.seq, h(s.plaintext))),
  }));

  // The encrypted payment QR (protocol/qr-session.ts): fixed keys on both sides, so every byte is reproducible.
  const sessionEcdh = createECDH("prime256v1");
  sessionEcdh.setPrivateKey(TEST_KEYS.qrSession);
  const walletEcdh = createECDH("prime256v1");
  walletEcdh.setPrivateKey(TEST_KEYS.qrWalletEph);
  const sessionPub = new Uint8Array(sessionEcdh.getPublicKey()).subarray(1);
  const walletEph = new Uint8Array(walletEcdh.getPublicKey()).subarray(1);
  const z = new Uint8Array(walletEcdh.computeSecret(sessionEcdh.getPublicKey()));
  const sessionKey = compressKey(sessionPub);
  const th = c.sha256(qrTranscript(requestBytes, sessionKey, walletEph));
  const qk = qrKeys(c, z, th);
  const qrSession = {
    sessionPrivate: toHex(TEST_KEYS.qrSession),
    sessionPub: toHex(sessionPub),
    sessionKey: toHex(sessionKey),
    walletEphPrivate: toHex(TEST_KEYS.qrWalletEph),
    walletEph: toHex(walletEph),
    request: "the Request vector",
    payment: "the Payment vector",
    requestQr: requestQrText(requestBytes, sessionPub),
    z: toHex(z),
    th: toHex(th),
    enc: toHex(qk.enc),
    mac: toHex(qk.mac),
    paymentQr: sealPaymentQr(c, z, requestBytes, sessionKey, walletEph, paymentBytes),
  };

  // A relay bundle (protocol/relay.ts): two journal records of terminal 4242 sealed under relayKeys(Z).
  const rk = relayKeys(c, TEST_KEYS.linkZ);
  const relayRecords = [
    { seq: 5, prev: h("00112233445566778899aabbccddeeff"), payload: encodeEntry({ kind: 1, txId: txId(4242, 17), method: 2, request: requestBytes, payment: paymentBytes, orderRef: "" }) },
    { seq: 6, prev: null, payload: encodeEntry({ kind: 3, txId: txId(4242, 19), refund: M.encodeRefund(refund) }) },
  ];
  const relay = {
    z: toHex(TEST_KEYS.linkZ),
    keyId: rk.keyId,
    enc: toHex(rk.enc),
    mac: toHex(rk.mac),
    terminalId: 4242,
    seq: 17,
    records: relayRecords.map((r) => ({ seq: r.seq, prev: r.prev ? toHex(r.prev) : null, entry: toHex(r.payload) })),
    bundle: toHex(sealRelay(c, rk, 4242, relayRecords)),
  };

  // RFC 9285 section 4.2-4.3 examples, plus edge bytes.
  const base45 = ["AB", "Hello!!", "base-45", "ietf!"].map((s) => ({ text: base45Encode(ascii(s)), hex: toHex(ascii(s)), ascii: s }));
  for (const hx of ["", "00", "ff", "0000", "ffff", "00ff00"]) base45.push({ text: base45Encode(h(hx)), hex: hx, ascii: "" });

  const utrs = [
    [0, 0],
    [4242, 17],
    [1, 2097151],
    [2147483647, 2097151],
    [123456789, 1000000],
  ].map(([t, s]) => ({ terminalId: t, seq: s, txId: toHex(txId(t, s)), utr: utr(t, s) }));

  const json: Json = {
    about:
      "Offline payment protocol v1 test vectors (docs/protocol.md). Made by test/protocol/make-vectors.ts; checked by " +
      "test/protocol/vectors.test.ts and on the device by firmware/selftest/protocol.ts. Byte strings are lower-case hex. " +
      "Signatures are ECDSA P-256 R||S over SHA-256(message without its last 64 bytes), except Payment (see its 'signs').",
    keys: {
      warning: "TEST-ONLY keys, published on purpose. Never provision them on a terminal, wallet or gateway.",
      issuer: { keyId: TEST_KEYS.issuer.keyId, private: toHex(TEST_KEYS.issuer.private), public: toHex(pub.issuer) },
      terminal: { private: toHex(TEST_KEYS.terminal.private), public: toHex(pub.terminal) },
      wallet: { private: toHex(TEST_KEYS.wallet.private), public: toHex(pub.wallet) },
      orderKey: toHex(TEST_KEYS.orderKey),
      link: { keyId: TEST_KEYS.link.keyId, enc: toHex(TEST_KEYS.link.enc), mac: toHex(TEST_KEYS.link.mac) },
    },
    messages,
    seal: seals,
    qrSession,
    relay,
    base45,
    utr: utrs,
  };

  const q = (s: string) => JSON.stringify(s);
  const dev =
    `/** Generated by test/protocol/make-vectors.ts from docs/protocol-vectors.json; do not edit. */\n` +
    `// [name, message hex, canonical fields]\n` +
    `export const MESSAGES: string[][] = [\n` +
    device.map((d) => `  [${d.map(q).join(", ")}],\n`).join("") +
    `];\n` +
    `// [keyId, enc hex, mac hex]\n` +
    `export const LINK: string[] = [${q(String(TEST_KEYS.link.keyId))}, ${q(toHex(TEST_KEYS.link.enc))}, ${q(toHex(TEST_KEYS.link.mac))}];\n` +
    `// [seq, plaintext hex, envelope hex]\n` +
    `export const SEALS: string[][] = [\n` +
    seals.map((s) => `  [${q(String(s.seq))}, ${q(s.plaintext)}, ${q(s.envelope)}],\n`).join("") +
    `];\n` +
    `// [hex, base45]\n` +
    `export const BASE45: string[][] = [\n` +
    base45.map((b) => `  [${q(b.hex)}, ${q(b.text)}],\n`).join("") +
    `];\n` +
    `// [terminalId, seq, utr]\n` +
    `export const UTRS: string[][] = [\n` +
    utrs.map((u) => `  [${q(String(u.terminalId))}, ${q(String(u.seq))}, ${q(u.utr)}],\n`).join("") +
    `];\n`;
  return { json, device: dev };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { json, device } = generate(loadOld());
  writeFileSync(JSON_PATH, JSON.stringify(json, null, 2) + "\n");
  writeFileSync(DEVICE_PATH, device);
  console.log("wrote " + JSON_PATH + " and " + DEVICE_PATH);
}
