/**
 * The encrypted Bluetooth session, terminal side (docs/protocol.md section 3, "Bluetooth LE"). ESP32's Espruino
 * has no pairing and no link encryption, so the session brings its own:
 *
 *   wallet → terminal  HELLO   01 | 01 | walletEph (64, X||Y of a fresh P-256 key)
 *   terminal → wallet  ACCEPT  02 | 01 | sessionPub (64) | sig (64) | TerminalCert (141)
 *        sig = ECDSA(identity key, SHA-256("ble-session v1" | walletEph | sessionPub)), checked by the wallet
 *        against the certificate's terminal key (and the certificate against the issuer's key)
 *   Z = ECDH(session key, walletEph); th = SHA-256("ble-session v1" | walletEph | sessionPub)
 *   w2t = { enc: HMAC(Z, "w2t enc" | th)[0..16], mac: HMAC(Z, "w2t mac" | th)[0..16] }, keyId 2; t2w likewise, keyId 3
 *   either way     DATA    03 | sealed envelope (protocol/seal.ts) of one protocol message
 *                          (Request, Payment, Receipt, PaidConfirmation), seq 1, 2, 3... per direction
 *   terminal → wallet  ERROR   7F | code (3 ASCII): plain and unauthenticated, only ever shown
 *
 * Every message travels as 20-byte frames (protocol/ble-frames.ts): the wallet writes FFF2, the terminal
 * notifies FFF1. The session key is made fresh for each HELLO in the secure element's Session slot (GenKey mode 04)
 * when the part can make keys; see docs/protocol.md for why not TempKey.
 *
 *   const s = new BleSession({ ble: device.ble, se: device.secure, crypto: device.crypto, cert, name: "PAY 7",
 *     now: () => clock.uptime(), onMessage: (m) => { ...a Payment or PaidConfirmation... } });
 *   s.start();                           // advertise; once s.isOpen(): s.send(requestBytes)
 */
import type { Ble } from "../hal/ble.ts";
import type { CryptoBackend } from "../hal/crypto.ts";
import type { Done, SecureElement } from "../hal/secure-element.ts";
import { SeSlot } from "../hal/secure-element.ts";
import { ascii, concat } from "./codec/hex.ts";
import { hmacSha256 } from "./hmac.ts";
import { Reassembler, toFrames } from "./ble-frames.ts";
import type { SealKeys } from "./seal.ts";
import { seal, unseal } from "./seal.ts";

export const BLE_SERVICE = "FFF0";
/** Terminal → wallet frames (notify, read). */
export const CHAR_TO_WALLET = 0xfff1;
/** Wallet → terminal frames (write). */
export const CHAR_FROM_WALLET = 0xfff2;
export const SESSION_VERSION = 1;
export const SESSION_LABEL = "ble-session v1";
export const KEYID_W2T = 2;
export const KEYID_T2W = 3;

/** First byte of every session message. */
export const enum BleMsg {
  Hello = 0x01,
  Accept = 0x02,
  Data = 0x03,
  Error = 0x7f,
}

/** Codes of rejected input (sent in an ERROR message and given to onError). */
export const BLE_FRAMING = "B01";
export const BLE_HELLO = "B02";
export const BLE_AUTH = "B03";
export const BLE_REPLAY = "B04";
export const BLE_UNEXPECTED = "B05";
export const BLE_SE = "B06";

export const HELLO_LEN = 66;
export const ACCEPT_LEN = 2 + 64 + 64 + 141;

export interface SessionKeys {
  w2t: SealKeys;
  t2w: SealKeys;
}

/** "ble-session v1" | walletEph | sessionPub: what the terminal signs (after SHA-256) and the keys are bound to. */
export function sessionTranscript(walletEph: Uint8Array, sessionPub: Uint8Array): Uint8Array {
  return concat([ascii(SESSION_LABEL), walletEph, sessionPub]);
}

/** Both directions' keys from the ECDH secret Z and the transcript hash th. */
export function sessionKeys(c: CryptoBackend, z: Uint8Array, th: Uint8Array): SessionKeys {
  const k = (label: string) => new Uint8Array(hmacSha256(c, z, concat([ascii(label), th])).subarray(0, 16));
  return {
    w2t: { keyId: KEYID_W2T, enc: k("w2t enc"), mac: k("w2t mac") },
    t2w: { keyId: KEYID_T2W, enc: k("t2w enc"), mac: k("t2w mac") },
  };
}

/** Secure elements that can make a key in a slot (the ATECC608 driver: GenKey mode 04). */
export interface SessionKeyMaker {
  provisionKey?: (slot: number, done: Done<Uint8Array>) => void;
}

export interface BleSessionOptions {
  ble: Ble;
  se: SecureElement;
  crypto: CryptoBackend;
  /** The terminal's certificate (TerminalCert, 141 bytes), sent in ACCEPT. */
  cert: Uint8Array;
  /** Advertised name. */
  name: string;
  /** Milliseconds, monotonic (frame timeouts). */
  now(): number;
  /** A protocol message the wallet sent, decrypted and authenticated. */
  onMessage(msg: Uint8Array): void;
  /** The session is open (keys agreed): the terminal may send. */
  onOpen?(): void;
  onClose?(): void;
  /** Input that was rejected; the same code was sent to the wallet. */
  onError?(code: string, message: string): void;
  /** Make a new session key per HELLO (default: when the part can). False reuses the Session slot's key. */
  freshKey?: boolean;
  /**
   * At most one new session key per this many ms (default 10000): a HELLO sooner reuses the slot's key, so a
   * stranger in range sending HELLOs in a loop cannot wear out the part's EEPROM (one write per GenKey).
   */
  minKeyIntervalMs?: number;
}

const IDLE = 0;
const BUSY = 1;
const OPEN = 2;

export class BleSession {
  private o: BleSessionOptions;
  private rx: Reassembler = new Reassembler();
  private state = IDLE;
  private keys: SessionKeys | null = null;
  private sendSeq = 0;
  private recvSeq = 0;
  /** Bumped on every disconnect/HELLO, so a handshake finishing late for an old connection is dropped. */
  private epoch = 0;
  /** When the last session key was made (now() ms), or -1. */
  private keyMadeAt = -1;

  constructor(o: BleSessionOptions) {
    this.o = o;
  }

  /** Publishes the service and advertises. */
  start(): void {
    this.o.ble.start({
      service: BLE_SERVICE,
      name: this.o.name,
      characteristics: [
        { uuid: CHAR_TO_WALLET, readable: true, notify: true, value: new Uint8Array(0) },
        { uuid: CHAR_FROM_WALLET, writable: true, onWrite: (d) => this.frame(d) },
      ],
      onConnect: () => this.reset(),
      onDisconnect: () => {
        const was = this.state === OPEN;
        this.reset();
        if (was && this.o.onClose) this.o.onClose();
      },
    });
  }

  stop(): void {
    this.reset();
    this.o.ble.stop();
  }

  isOpen(): boolean {
    return this.state === OPEN;
  }

  /** Seals one protocol message to the wallet and notifies its frames; false when no session is open. */
  send(msg: Uint8Array): boolean {
    if (this.state !== OPEN || !this.keys) return false;
    this.sendSeq++;
    this.notify(concat([new Uint8Array([BleMsg.Data]), seal(this.o.crypto, this.keys.t2w, this.sendSeq, msg)]));
    return true;
  }

  /** One write from the wallet (at most 20 bytes). Exposed for tests; the Ble characteristic calls it. */
  frame(d: Uint8Array): void {
    const r = this.rx.push(d, this.o.now());
    if (!r) return;
    if ("err" in r) return this.reject(BLE_FRAMING, "Bluetooth frame rejected: " + r.err);
    this.message(r.msg);
  }

  private reset(): void {
    this.epoch++;
    this.state = IDLE;
    if (this.keys) {
      this.keys.w2t.enc.fill(0);
      this.keys.w2t.mac.fill(0);
      this.keys.t2w.enc.fill(0);
      this.keys.t2w.mac.fill(0);
    }
    this.keys = null;
    this.sendSeq = 0;
    this.recvSeq = 0;
    this.rx.reset();
  }

  private notify(msg: Uint8Array): void {
    const f = toFrames(msg);
    for (let i = 0; i < f.length; i++) this.o.ble.notify(CHAR_TO_WALLET, f[i]);
  }

  private reject(code: string, message: string): void {
    this.notify(concat([new Uint8Array([BleMsg.Error]), ascii(code)]));
    if (this.o.onError) this.o.onError(code, message);
  }

  private message(m: Uint8Array): void {
    const t = m[0];
    if (t === BleMsg.Hello) {
      if (m.length !== HELLO_LEN || m[1] !== SESSION_VERSION) return this.reject(BLE_HELLO, "Bluetooth: malformed hello");
      if (this.state === BUSY) return this.reject(BLE_UNEXPECTED, "Bluetooth: hello while a handshake runs");
      return this.handshake(new Uint8Array(m.subarray(2, HELLO_LEN)));
    }
    if (t === BleMsg.Data) {
      if (this.state !== OPEN || !this.keys) return this.reject(BLE_UNEXPECTED, "Bluetooth: data before the session is open");
      const r = unseal(this.o.crypto, this.keys.w2t, m.subarray(1));
      if ("err" in r) return this.reject(BLE_AUTH, "Bluetooth message failed authentication (" + r.err + ")");
      if (r.seq <= this.recvSeq) return this.reject(BLE_REPLAY, "Bluetooth message replayed");
      this.recvSeq = r.seq;
      return this.o.onMessage(r.data);
    }
    this.reject(BLE_UNEXPECTED, "Bluetooth: unknown message type " + t);
  }

  private handshake(eph: Uint8Array): void {
    const o = this.o;
    const c = o.crypto;
    const epoch = ++this.epoch;
    this.state = BUSY;
    this.keys = null;
    const fail = (code: string, what: string) => {
      if (epoch !== this.epoch) return;
      this.state = IDLE;
      this.reject(code, what);
    };
    const maker = o.se as unknown as SessionKeyMaker;
    const gap = o.minKeyIntervalMs === undefined ? 10000 : o.minKeyIntervalMs;
    const t = o.now();
    const fresh = o.freshKey !== false && typeof maker.provisionKey === "function" && (this.keyMadeAt < 0 || t - this.keyMadeAt >= gap);
    if (fresh) this.keyMadeAt = t;
    const withKey = (err: string | null, pub?: Uint8Array) => {
      if (epoch !== this.epoch) return;
      if (err || !pub || pub.length !== 64) return fail(BLE_SE, "Secure element: no session key (" + err + ")");
      const th = c.sha256(sessionTranscript(eph, pub));
      o.se.sign(SeSlot.Identity, th, (serr, sig) => {
        if (epoch !== this.epoch) return;
        if (serr || !sig || sig.length !== 64) return fail(BLE_SE, "Secure element: signing failed (" + serr + ")");
        o.se.ecdh(SeSlot.Session, eph, (eerr, z) => {
          if (epoch !== this.epoch) return;
          // The part refuses a point that is not on the curve (execution error): the wallet's fault.
          if (eerr === "execution") return fail(BLE_HELLO, "Bluetooth: the wallet's key is not a P-256 point");
          if (eerr || !z || z.length !== 32) return fail(BLE_SE, "Secure element: ECDH failed (" + eerr + ")");
          this.keys = sessionKeys(c, z, th);
          z.fill(0);
          this.sendSeq = 0;
          this.recvSeq = 0;
          this.state = OPEN;
          this.notify(concat([new Uint8Array([BleMsg.Accept, SESSION_VERSION]), pub, sig, o.cert]));
          if (o.onOpen) o.onOpen();
        });
      });
    };
    if (fresh) (maker.provisionKey as (slot: number, done: Done<Uint8Array>) => void)(SeSlot.Session, withKey);
    else o.se.publicKey(SeSlot.Session, withKey);
  }
}
