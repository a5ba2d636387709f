/**
 * The phone's side of bench/flows.ts's flow 3 (a customer pays over Bluetooth), made in Node with WebCrypto: the
 * frames a wallet writes (HELLO, then its Payment sealed in the encrypted session, docs/protocol.md section 3),
 * and the check of every frame the terminal notified back.
 *
 * The bench's secure element is deterministic: its Session slot's public key is 64 bytes of 9 and its ECDH answer
 * 32 bytes of 0x33, whatever the wallet's key. So the phone knows the session's keys as soon as it has made its
 * HELLO (th binds them to its fresh key), and its Payment can be sealed before the run; the terminal derives the
 * same keys with its own code (protocol/ble-session.ts) on the interpreter. The element's signatures are
 * fixed bytes, so the wallet's signature checks (session key, request, receipt) cannot be made here: the checks
 * below are the session's (keys, sequence, authentication) and the messages' contents.
 */
import { createHash, createHmac, webcrypto } from "node:crypto";
import { ascii, concat, equalConstantTime, toHex } from "../protocol/codec/hex.ts";
import { Reassembler, toFrames } from "../protocol/ble-frames.ts";
import { ACCEPT_LEN, BleMsg, KEYID_T2W, KEYID_W2T, SESSION_LABEL, SESSION_VERSION } from "../protocol/ble-session.ts";
import { decodeReceipt, decodeRequest, MsgType } from "../protocol/messages.ts";
import { sealAsync, unsealAsync } from "../sdk/ble.ts";

/** What the customer pays over Bluetooth in flow 3 (minor units). */
export const BLE_AMOUNT = 1990;

/** The bench secure element's Session-slot public key and ECDH secret (bench/flows.ts `secure`). */
const BENCH_SESSION_PUB = new Uint8Array(64).fill(9);
const BENCH_ECDH = new Uint8Array(32).fill(0x33);

interface DirKeys {
  keyId: number;
  enc: Uint8Array;
  mac: Uint8Array;
}

export interface PhoneFrames {
  /** HELLO's frames, concatenated (each at most 20 bytes; frameLens gives the cuts). */
  hello: Uint8Array;
  /** The Payment's DATA message, framed likewise. */
  pay: Uint8Array;
  /** The keys the terminal must seal with (to read its Request and Receipt). */
  t2w: DirKeys;
}

/** The phone's writes for one payment: a fresh ephemeral key, the session keys, the sealed Payment (seq 1). */
export async function phoneFrames(payment: Uint8Array): Promise<PhoneFrames> {
  const subtle = webcrypto.subtle;
  const eph = (await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as webcrypto.CryptoKeyPair;
  const ephXY = new Uint8Array(await subtle.exportKey("raw", eph.publicKey)).subarray(1);
  const hello = concat([new Uint8Array([BleMsg.Hello, SESSION_VERSION]), ephXY]);
  const th = createHash("sha256").update(concat([ascii(SESSION_LABEL), ephXY, BENCH_SESSION_PUB])).digest();
  const k = (label: string) => new Uint8Array(createHmac("sha256", BENCH_ECDH).update(concat([ascii(label), th])).digest().subarray(0, 16));
  const w2t = { keyId: KEYID_W2T, enc: k("w2t enc"), mac: k("w2t mac") };
  const t2w = { keyId: KEYID_T2W, enc: k("t2w enc"), mac: k("t2w mac") };
  const pay = concat([new Uint8Array([BleMsg.Data]), await sealAsync(w2t, 1, payment)]);
  return { hello: concat(toFrames(hello)), pay: concat(toFrames(pay)), t2w };
}

/** The lengths of the frames in a concatenation made by phoneFrames (read from their headers). */
export function frameLens(frames: Uint8Array): number[] {
  const out: number[] = [];
  let pos = 0;
  let left = 0;
  while (pos < frames.length) {
    const first = (frames[pos] & 0x80) !== 0;
    if (first) left = frames[pos + 1] * 256 + frames[pos + 2];
    const n = Math.min(first ? 17 : 19, left);
    const len = (first ? 3 : 1) + n;
    out.push(len);
    left -= n;
    pos += len;
  }
  return out;
}

/**
 * Everything the terminal notified during flow 3 (frames concatenated, as the probe recorded them), checked as the
 * wallet would: exactly ACCEPT, then the Request sealed with t2w seq 1 for `amountMinor` from `terminalId`, then
 * the Receipt seq 2 whose payment hash is that of `payment`. An error message when anything differs.
 */
export async function checkTerminalFrames(
  stream: Uint8Array,
  keys: DirKeys,
  o: { cert: Uint8Array; terminalId: number; amountMinor: number; payment: Uint8Array },
): Promise<string | null> {
  const rx = new Reassembler();
  const msgs: Uint8Array[] = [];
  let pos = 0;
  for (const len of frameLens(stream)) {
    const r = rx.push(stream.subarray(pos, pos + len), 0);
    pos += len;
    if (r && "err" in r) return "the terminal's frames do not reassemble (" + r.err + ")";
    if (r) msgs.push(r.msg);
  }
  if (msgs.length !== 3) return `the terminal sent ${msgs.length} messages (expected ACCEPT, Request, Receipt): first bytes ${msgs.map((m) => toHex(m.subarray(0, 4))).join(" ")}`;
  const [acc, rq, rc] = msgs;
  if (acc[0] !== BleMsg.Accept || acc.length !== ACCEPT_LEN || acc[1] !== SESSION_VERSION) return "the first message is not an ACCEPT";
  if (!equalConstantTime(acc.subarray(2, 66), BENCH_SESSION_PUB)) return "the ACCEPT's session key is not the secure element's";
  if (!equalConstantTime(acc.subarray(130), o.cert)) return "the ACCEPT's certificate is not the terminal's";
  const open = async (m: Uint8Array, seq: number, what: string): Promise<Uint8Array | string> => {
    if (m[0] !== BleMsg.Data) return what + " is not a DATA message (kind " + m[0] + ")";
    const u = await unsealAsync(keys, m.subarray(1));
    if ("err" in u) return what + " fails authentication under the session's t2w keys (" + u.err + ")";
    if (u.seq !== seq) return what + " has seq " + u.seq + ", expected " + seq;
    return u.data;
  };
  const req = await open(rq, 1, "the second message");
  if (typeof req === "string") return req;
  const q = req[1] === MsgType.Request ? decodeRequest(req) : null;
  if (!q) return "the second message is not a payment request";
  if (q.amountMinor !== o.amountMinor || q.terminalId !== o.terminalId) return `the request is for ${q.amountMinor} from terminal ${q.terminalId}`;
  const rec = await open(rc, 2, "the third message");
  if (typeof rec === "string") return rec;
  const r = rec[1] === MsgType.Receipt ? decodeReceipt(rec) : null;
  if (!r) return "the third message is not a receipt";
  const hash = createHash("sha256").update(o.payment).digest().subarray(0, 8);
  if (!equalConstantTime(r.paymentHash, hash) || r.status !== 0) return "the receipt is not for the phone's payment";
  return null;
}
