/**
 * "Customer presents a QR": one payment session, from the amount to the printed receipt.
 *
 *   request  nonce from the SE RNG, signed by the identity key (SE slot 0), shown as a QR and offered over BLE
 *   payment  the wallet's Payment, read by the scanner ("P1...") or written over the encrypted BLE session
 *   check    protocol/check.ts (both signatures on the SE, the request binding, expiry, replay, deny list), then
 *            offline only, the offline limits: the allowance's cap as this terminal counts it (R07) and the risk limits
 *   online   when the terminal is online, the entry goes to the gateway first (docs/sync.md, authorize), before any
 *            offline limit: the gateway checks the purse, counters and cap across all terminals. Approved, it is
 *            settled, no hold, and journaled flagged so (it never counts against the offline limits); declined,
 *            refused and nothing journaled; no answer within Authorize.Ms (3 s) or a failed link, the screen says so
 *            and the payment goes on offline only if it passes every offline limit (offlineRefusal in journal()).
 *            One that does not is refused with the limit's reason, after the link's own last word (the gateway may
 *            still approve it: a payment it settled is never refused here)
 *   journal  txId = terminalId || SE counter 0, entry kind 1 appended before anything tells the customer "paid"
 *   receipt  signed by the terminal, sent over BLE when that is how it came, printed, "Paid" on the display
 *
 * A session times out after SESSION_MS without progress; C or * cancels while nothing is journaled. A scan that is
 * not a payment (R01, R02), or one the scanner could not read as text, leaves the session open: its notice shows
 * for NOTICE_MS, then the request QR again; any other reject ends it with its code and reason on screen.
 *
 *   const s = new PaySession(ctx, 1250, "", (r) => { ...back to idle... });
 *   s.open();  keypad -> s.key(k);  scanner -> s.code(text)
 */
import type { Device } from "../../hal/device.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import type { Accepted, WalletLedger } from "../../protocol/check.ts";
import { checkPayment, reject } from "../../protocol/check.ts";
import { encodeEntry, EntryKind, EntryMethod } from "../../protocol/entry.ts";
import { txId as makeTxId, utr } from "../../protocol/ids.ts";
import { Authorize } from "../../protocol/authorize.ts";
import type { LinkReply } from "../../protocol/sync.ts";
import { toBase64 } from "../../protocol/sync.ts";
import type { PaymentRequest } from "../../protocol/messages.ts";
import { encodeReceipt, encodeRequest, MsgType, signedPart } from "../../protocol/messages.ts";
import { toQrText } from "../../protocol/qr.ts";
import { openPaymentQr, parsePaymentQr, requestQrText } from "../../protocol/qr-session.ts";
import { SeSlot } from "../../hal/secure-element.ts";
import { SessionRadio } from "./session-radio.ts";
import type { SessionKeyMaker } from "../../protocol/ble-session.ts";

export const SESSION_MS = 30000;
/** How long a notice (a scan that is not a payment) stays before the request QR shows again. */
export const NOTICE_MS = 3000;
/** The SE counter that numbers transactions, and sync requests too (counter 1 counts hours: firmware/time-floor.ts). */
export const TX_COUNTER = 0;
/**
 * When the QR session key (Session slot 3, docs/protocol.md section 3, "Encrypted payment QR") was last made. The
 * part makes a new one (GenKey) when the last is older than 10 minutes; otherwise its public half is read again
 * (GenKey mode 0, no EEPROM write). Each payment's envelope still has keys of its own: the wallet's key is new.
 */
let qrKeyAt = -1;
/** Days a pending offline payment waits before the gateway auto-approves it. */
export const AUTO_APPROVE_DAYS = 3;

/** A refusal shown to the merchant (reject codes R01..R12, limit codes, journal codes, E_* of the flow). */
export interface Refused {
  code: string;
  message: string;
  /** For a risk-limit refusal: which limit ("per-payment limit"), shown on its own line. */
  limit?: string;
  /** Why the offline limits applied when the terminal is online ("Gateway did not answer: offline"), or absent. */
  note?: string;
}

/** What a finished payment hands back (for the receipt, the status bar and the tests). */
export interface PaidInfo {
  txId: Uint8Array;
  utr: string;
  amountMinor: number;
  method: number;
  time: number;
  receipt: Uint8Array;
  walletId: string;
  /** The payment's counter and its allowance's expiry day (the wallet ledger's key). */
  counter: number;
  allowanceDay: number;
  orderRef: string;
  /** Approved online by the gateway: settled, no hold (receipt status 1). */
  online: boolean;
  /** Shown with the result: "Gateway did not answer: offline" when the online attempt failed, else "". */
  note: string;
}

export interface PayView {
  request(amountMinor: number, qrText: string, hint: string): void;
  progress(title: string, line: string): void;
  /** A reject that leaves the session open (a code that is not a payment). */
  notice(r: Refused): void;
}

export interface PayContext {
  device: Device;
  terminalId: number;
  currencyNum: number;
  /** TerminalCert (141 bytes), sent in the BLE ACCEPT. */
  cert: Uint8Array;
  /** `online`: approved online, journaled with that flag (firmware/journal/record.ts). */
  journal: { append(p: Uint8Array, online?: boolean): { seq: number } | { code: string; message: string }; canAccept(): { code: string; message: string } | null };
  /** Trusted wall-clock ms (gateway-signed time moved on by uptime, or the device clock before a sync). */
  now(): number;
  issuerKey(id: number): Uint8Array | null;
  ledger: WalletLedger;
  /**
   * Risk limits: a refusal naming the limit, or null. `online` (the gateway is asked first): only what guards the
   * terminal itself (settings, secure element, trusted time), none of the offline limits.
   */
  limits(amountMinor: number, walletId: string, online?: boolean): Refused | null;
  view: PayView;
  /** Optional: a relay bundle for the paying phone to carry (./session-radio.ts), or null. */
  relay?: (done: (bundle: Uint8Array | null) => void) => void;
  /** Print the receipt of a journaled payment (the callback once the printer took it, or its error). */
  print(p: PaidInfo, done: (err: string | null) => void): void;
  /** Online: one sealed link request (the sync loop's call); absent offline, when payments are not authorized. */
  link?: (op: string, fields: { [k: string]: unknown }, done: (e: { code: string } | null, reply?: LinkReply) => void) => void;
}

export type PayOutcome = { paid: PaidInfo; printError: string | null } | { refused: Refused } | { cancelled: string };

function fail(code: string, message: string): Refused {
  return { code: code, message: message };
}

export class PaySession {
  private c: PayContext;
  readonly amountMinor: number;
  readonly orderRef: string;
  private onEnd: (o: PayOutcome) => void;
  private request: Uint8Array | null = null;
  private fields: PaymentRequest | null = null;
  /** The Session slot's public key X|Y the R2 code carries; null: the request shows as R1. */
  private sessionPub: Uint8Array | null = null;
  private radio: SessionRadio;
  private timer = 0;
  /** "opening" | "waiting" | "checking" | "journaling" | "done" */
  state = "opening";

  constructor(ctx: PayContext, amountMinor: number, orderRef: string, onEnd: (o: PayOutcome) => void) {
    this.c = ctx;
    this.amountMinor = amountMinor;
    this.orderRef = orderRef;
    this.onEnd = onEnd;
    this.radio = new SessionRadio(ctx.device, ctx.cert, ctx.terminalId, ctx.relay);
  }

  /** Make and sign the request, show it, advertise it. */
  open(): void {
    const c = this.c;
    const d = c.device;
    const full = c.journal.canAccept();
    if (full) return this.end({ refused: full });
    // online, the amount is the gateway's to judge: the offline limits wait until the payment goes on offline
    const early = c.limits(this.amountMinor, "", !!c.link);
    if (early) return this.end({ refused: early });
    this.touch();
    c.view.progress("Preparing", "Signing the payment request");
    d.secure.random((err, rnd) => {
      if (this.state !== "opening") return;
      if (err || !rnd || rnd.length < 8) return this.end({ refused: fail("E_SE", "Secure element: no random (" + err + ")") });
      const q: PaymentRequest = {
        terminalId: c.terminalId,
        amountMinor: this.amountMinor,
        currency: c.currencyNum,
        nonce: new Uint8Array(rnd.subarray(0, 8)),
        time: Math.floor(c.now() / 1000),
        terminalSig: new Uint8Array(64),
      };
      const req = encodeRequest(q);
      d.secure.sign(SeSlot.Identity, d.crypto.sha256(signedPart(req)), (serr, sig) => {
        if (this.state !== "opening") return;
        if (serr || !sig || sig.length !== 64) return this.end({ refused: fail("E_SE", "Secure element: signing failed (" + serr + ")") });
        req.set(sig, req.length - 64);
        q.terminalSig = sig;
        this.request = req;
        this.fields = q;
        this.sessionKey(() => {
          if (this.state !== "opening") return;
          this.state = "waiting";
          this.touch();
          this.show();
          this.startBle();
        });
      });
    });
  }

  /**
   * The Session slot's public key for the R2 code: a new key when the last is older than QR_KEY_MS, else the one
   * the slot holds (a Bluetooth session may have made it). Without one (a part that cannot), the request shows as R1.
   */
  private sessionKey(then: () => void): void {
    const d = this.c.device;
    const t = d.clock.now();
    const se = d.secure as SessionKeyMaker;
    const fresh = typeof se.provisionKey === "function" && (qrKeyAt < 0 || t - qrKeyAt >= 600000);
    const got = (err: string | null, k?: Uint8Array) => {
      if (!err && k && k.length === 64) {
        this.sessionPub = k;
        if (fresh) qrKeyAt = t;
      }
      then();
    };
    if (fresh) (se.provisionKey as NonNullable<SessionKeyMaker["provisionKey"]>)(SeSlot.Session, got);
    else d.secure.publicKey(SeSlot.Session, got);
  }

  /** The request QR (nothing before it is signed); also the router's show (firmware/screens/kit.ts). */
  show(): void {
    const r = this.request;
    if (r) this.c.view.request(this.amountMinor, this.sessionPub ? requestQrText(r, this.sessionPub) : toQrText(r), "Scan, then show your code  C cancel");
  }

  private startBle(): void {
    this.radio.start(
      () => this.request,
      () => this.touch(),
      (m) => {
        if (m.length > 1 && m[1] === MsgType.Payment) this.payment(toQrText(m), EntryMethod.Ble);
      },
    );
  }

  /** Restart the 30 s no-progress timer. */
  private touch(): void {
    const clock = this.c.device.clock;
    if (this.timer) clock.clear(this.timer);
    this.timer = clock.setTimeout(() => {
      this.timer = 0;
      if (this.state === "waiting" || this.state === "opening") this.end({ cancelled: "Timed out: no payment in 30 s" });
    }, SESSION_MS);
  }

  key(k: string): void {
    if ((k === "C" || k === "*") && (this.state === "waiting" || this.state === "opening")) this.end({ cancelled: "Cancelled" });
  }

  /** A code the scanner read: a P2 is opened under the request's session key first (docs/protocol.md section 3). */
  code(text: string): void {
    if (this.state !== "waiting") return;
    const p = parsePaymentQr(text);
    if (!p) return this.payment(text, EntryMethod.Qr);
    const d = this.c.device;
    const pub = this.sessionPub;
    this.state = "checking";
    this.touch();
    d.secure.ecdh(SeSlot.Session, p.walletEph, (err, z) => {
      if (this.state !== "checking") return;
      const m = !err && z && pub ? openPaymentQr(d.crypto, z, this.request as Uint8Array, pub, p.walletEph, p.envelope) : null;
      if (m) return this.payment(toQrText(m), EntryMethod.Qr);
      // not for this request's key (a Bluetooth session may have made a new one meanwhile), changed, or damaged:
      // the notice, then the request again with the key the slot holds now
      this.state = "waiting";
      d.secure.publicKey(SeSlot.Session, (e2, k) => {
        if (!e2 && k && k.length === 64) this.sessionPub = k;
        this.notice(reject("R01"));
      });
    });
  }

  /** A refusal that leaves the request open: its notice, then the request QR again so the customer can still pay. */
  notice(r: Refused): void {
    if (this.state !== "waiting") return;
    this.c.view.notice(r);
    // a session's request never changes; one that ended is "done"
    this.c.device.clock.setTimeout(() => (this.state === "waiting" ? this.show() : undefined), NOTICE_MS);
  }

  private payment(text: string, method: number): void {
    const c = this.c;
    const d = c.device;
    this.state = "checking";
    this.touch();
    c.view.progress("Checking", "Verifying the payment");
    checkPayment(
      {
        request: this.request,
        requestFields: this.fields,
        today: Math.floor(c.now() / 86400000),
        issuerKey: (id) => c.issuerKey(id),
        ledger: c.ledger,
        se: d.secure,
        crypto: d.crypto,
        online: !!c.link,
      },
      text,
      (rej, ok) => {
        if (this.state !== "checking") return;
        if (rej || !ok) {
          const r = rej || reject("R01");
          if (r.code === "R01" || r.code === "R02") {
            this.state = "waiting";
            return this.notice(r);
          }
          return this.end({ refused: r });
        }
        // online, only the terminal's own guards here; offline, journal() checks the offline limits first
        const lim = c.link ? c.limits(this.amountMinor, ok.walletId, true) : null;
        if (lim) return this.end({ refused: lim });
        this.journal(ok, method);
      },
    );
  }

  private journal(ok: Accepted, method: number): void {
    const c = this.c;
    const d = c.device;
    /**
     * The offline limits a payment must pass to be taken offline, the first it breaks or null: the allowance's cap
     * as this terminal counts it (R07: what it took from the wallet under this allowance and the gateway has not
     * acknowledged, online approvals included, since that money is spent; checkPayment checked it already unless
     * the gateway was to be asked first), then the risk limits. (A closure, not a method: it costs the device no
     * idle JsVars.)
     */
    const offlineRefusal = (): Refused | null => {
      const a = ok.payment.allowance;
      if (c.link && this.amountMinor + c.ledger.spentMinor(ok.walletId, a.expiryDay) > a.capMinor) return reject("R07");
      return c.limits(this.amountMinor, ok.walletId);
    };
    // offline: every offline limit before a transaction number is spent
    const first = c.link ? null : offlineRefusal();
    if (first) return this.end({ refused: first });
    this.state = "journaling";
    if (this.timer) d.clock.clear(this.timer);
    this.timer = 0;
    d.secure.counter(TX_COUNTER, true, (err, seq) => {
      if (err || seq === undefined) return this.end({ refused: fail("E_SE", "Secure element: no transaction number (" + err + ")") });
      const id = makeTxId(c.terminalId, seq);
      const entry = encodeEntry({ kind: EntryKind.WalletPayment, txId: id, method: method, request: this.request as Uint8Array, payment: ok.bytes, orderRef: this.orderRef });
      // journaled, receipt signed and printed: settled online (status 1), or pending offline (0) with a note why
      const write = (online: boolean, note: string) => {
        const r = c.journal.append(entry, online);
        if ("code" in r) return this.end({ refused: r });
        const time = Math.floor(c.now() / 1000);
        const rc = encodeReceipt({ txId: id, status: online ? 1 : 0, time: time, paymentHash: d.crypto.sha256(ok.bytes).subarray(0, 8), terminalSig: new Uint8Array(64) });
        d.secure.sign(SeSlot.Identity, d.crypto.sha256(signedPart(rc)), (serr, sig) => {
          // The payment is journaled whatever happens now: a receipt without a signature still prints.
          if (!serr && sig && sig.length === 64) rc.set(sig, rc.length - 64);
          if (method === EntryMethod.Ble) this.radio.send(rc);
          const info: PaidInfo = { txId: id, utr: utr(c.terminalId, seq), amountMinor: this.amountMinor, method: method, time: time, receipt: rc, walletId: ok.walletId, counter: ok.payment.counter, allowanceDay: ok.payment.allowance.expiryDay, orderRef: this.orderRef, online: online, note: note };
          c.view.progress("Paid", "Printing the receipt");
          c.print(info, (perr) => this.end({ paid: info, printError: perr }));
        });
      };
      if (!c.link) return write(false, "");
      // online: the gateway decides first (docs/sync.md, authorize); the txId is spent whatever it answers
      c.view.progress("Authorizing", "Asking the gateway");
      // no answer in time, or the link failed: said on screen and on the result, never a silent switch; the
      // payment goes on offline only under every offline limit, and a refusal names the limit and says why
      const offline = "Gateway did not answer: offline";
      // t: the timer while the answer still decides (0 once decided); no: the offline limits' refusal, once known
      let t = 0;
      let no: Refused | null = null;
      const noAnswer = () => {
        if (!no) {
          c.view.progress("Offline", offline);
          return write(false, offline);
        }
        no.note = offline;
        this.end({ refused: no });
      };
      t = d.clock.setTimeout(() => {
        no = offlineRefusal();
        if (!no) {
          t = 0;
          return noAnswer();
        }
        // not to be taken offline: the gateway may still approve it (a slow reply, a request queued behind an
        // upload), and a payment it settled must not be refused here, so the link's own end decides (its HTTP
        // timeout, at most Authorize.LastMs in all)
        c.view.progress("Authorizing", "No answer yet: waiting for gateway");
        t = d.clock.setTimeout(() => {
          t = 0;
          noAnswer();
        }, Authorize.LastMs - Authorize.Ms);
      }, Authorize.Ms);
      c.link(Authorize.Op, { entry: toBase64(entry) }, (e, m) => {
        // an answer after the payment went on offline is ignored (its upload is then a no-op if approved)
        if (!t) return;
        d.clock.clear(t);
        t = 0;
        // only an authentic reply naming this payment's txId decides; anything else is no answer (read here, not by
        // a protocol function: one at the top level cost the device 6 idle JsVars when measured, this closure none)
        const r = !e && m && m.txId === toHex(id) ? m.result : "";
        if (r === "declined" && m && typeof m.code === "string") return this.end({ refused: fail(m.code, "Declined by gateway: " + (typeof m.message === "string" ? m.message : "")) });
        if (r === "approved") return write(true, "");
        no = no || offlineRefusal();
        noAnswer();
      });
    });
  }

  /**
   * Stop the ended session's Bluetooth now (the next session calls this before it advertises, so a late stop
   * cannot put the radio to sleep under it).
   */
  release(): void {
    this.radio.release();
  }


  private end(o: PayOutcome): void {
    if (this.state === "done") return;
    this.state = "done";
    if (this.timer) this.c.device.clock.clear(this.timer);
    this.timer = 0;
    // let the last notifications (the receipt) go out before the link drops
    this.radio.end();
    this.onEnd(o);
  }
}

/** txId as 16 hex digits (receipts, logs). */
export function txHex(id: Uint8Array): string {
  return toHex(id);
}
