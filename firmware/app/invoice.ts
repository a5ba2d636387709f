/**
 * "Merchant presents a QR" (flow 2): the terminal shows a signed Invoice as a QR; the customer pays it online at the
 * gateway (card, debit card, wallet). The terminal learns of the payment either
 *   - online: the sync layer hands over the gateway's notice, `session.paid(bytes, EntryMethod.PaidOnline)` (or
 *     `acceptPaid(...)` when no session is open any more: the money was taken, so it is recorded all the same), or
 *   - offline: the customer's phone shows the issuer-signed PaidConfirmation ("C1...") to the scanner, or sends it
 *     over the encrypted Bluetooth session;
 * then checks it (issuer signature on the secure element; terminal, invoice number, amount and currency of an
 * invoice this terminal issued), journals it (entry kind 2), signs a receipt (status settled) and prints it.
 *
 *   const book = new InvoiceBook();                                  // one per boot, kept by the terminal
 *   const s = new InvoiceSession(ctx, 4999, "", (o) => ...);         // ctx.book = book
 *   s.open();  keypad -> s.key(k);  scanner -> s.code(text);  sync notice -> s.paid(bytes, EntryMethod.PaidOnline)
 *
 * invoiceNo comes from the secure element's counter 0, the counter that numbers transactions, and the paid
 * invoice's txId is terminalId || invoiceNo: one number per invoice, unique across the fleet.
 *
 * Refusal codes of a paid confirmation: C01 not a paid confirmation / damaged, C02 newer protocol version, C03 for
 * another terminal, C04 no such invoice open here, C05 amount differs, C06 currency differs, C07 unknown issuer
 * key, C08 signature not valid, C09 secure element error, C10 already recorded.
 */
import type { Device } from "../../hal/device.ts";
import { SeSlot } from "../../hal/secure-element.ts";
import { encodeEntry, EntryKind, EntryMethod } from "../../protocol/entry.ts";
import { txId as makeTxId, utr } from "../../protocol/ids.ts";
import type { PaidConfirmation } from "../../protocol/messages.ts";
import { decodePaid, encodeInvoice, encodeReceipt, MsgType, SIG, signedPart } from "../../protocol/messages.ts";
import { fromQrText, invoiceUrl, toQrText } from "../../protocol/qr.ts";
import { fitsPanelQr } from "../ui/screens.ts";
import type { InvoiceBook } from "./invoice-book.ts";
import { OPEN, PAID } from "./invoice-book.ts";
import { SessionRadio } from "./session-radio.ts";

/** The SE counter that numbers transactions (and so invoices). */
export const TX_COUNTER = 0;
export const SESSION_MS = 30000;
/** How long a notice (a code that is not this invoice's confirmation) stays before the invoice QR shows again. */
const NOTICE_MS = 3000;
/** How long the gateway takes payment of an invoice (its `expires`). */
export const INVOICE_VALID_S = 15 * 60;

/**
 * The invoice QR's text on a terminal whose gateway is `gatewayUrl`: the pay page URL `<gateway>/pay#<invoice>`
 * (docs/protocol.md), which any phone camera opens; the bare "I1..." text when no gateway is configured or the URL
 * would not fit the panel's QR (screens.ts fitsPanelQr: a gateway URL of at most 75 characters).
 */
export function invoiceQrText(gatewayUrl: string, invoice: Uint8Array): string {
  const u = gatewayUrl.indexOf("http://") === 0 || gatewayUrl.indexOf("https://") === 0 ? invoiceUrl(gatewayUrl, invoice) : "";
  return u && fitsPanelQr(u) ? u : toQrText(invoice);
}

export interface Refused {
  code: string;
  message: string;
}

/** What each refusal of a paid confirmation says (a function: the table stays in flash until one is shown). */
export function paidRefusals(): { [code: string]: string } {
  return {
    C01: "Not a paid confirmation, or damaged",
    C02: "Confirmation from a newer protocol version",
    C03: "Confirmation is for another terminal",
    C04: "No such invoice open on this terminal",
    C05: "Confirmation amount differs from invoice",
    C06: "Confirmation currency differs",
    C07: "Confirmation from an unknown issuer key",
    C08: "Confirmation signature is not valid",
    C09: "Secure element error",
    C10: "Invoice already recorded as paid",
  };
}

export function paidRefusal(code: string): Refused {
  return { code: code, message: paidRefusals()[code] || code };
}

/** A paid invoice, journaled: what the receipt and the result screen show. */
export interface InvoicePaidInfo {
  txId: Uint8Array;
  utr: string;
  invoiceNo: number;
  amountMinor: number;
  /** Entry method: 3 confirmation by QR, 4 by Bluetooth, 5 online notice. */
  method: number;
  /** How the customer paid at the gateway: 1 card, 2 debit card, 3 wallet. */
  paidWith: number;
  /** Unix seconds (the confirmation's paidAt). */
  time: number;
  /** The signed Receipt (87 bytes, status 1 settled). */
  receipt: Uint8Array;
  /** The PaidConfirmation (94 bytes), as journaled. */
  paid: Uint8Array;
  orderRef: string;
}

export type InvoiceOutcome = { paid: InvoicePaidInfo; printError: string | null } | { refused: Refused } | { cancelled: string };

export interface InvoiceView {
  /** The invoice QR with the amount and a hint. */
  invoice(amountMinor: number, qrText: string, hint: string): void;
  progress(title: string, line: string): void;
  /** A scan that was not taken while the invoice stays open. */
  notice(r: Refused): void;
}

export interface InvoiceContext {
  device: Device;
  terminalId: number;
  currencyNum: number;
  /** TerminalCert (141 bytes) for the Bluetooth session; empty = no Bluetooth. */
  cert: Uint8Array;
  journal: { append(p: Uint8Array): { seq: number } | Refused; canAccept(): Refused | null };
  /** Trusted wall-clock ms. */
  now(): number;
  issuerKey(id: number): Uint8Array | null;
  book: InvoiceBook;
  view: InvoiceView;
  print(p: InvoicePaidInfo, done: (err: string | null) => void): void;
  /** The invoice's QR text (default "I1" + Base45, protocol/qr.ts). */
  qrText?(invoice: Uint8Array): string;
  /** No-progress timeout (default SESSION_MS). */
  timeoutMs?: number;
}

/**
 * Checks a PaidConfirmation: the cheap field checks against this terminal and (when `invoice` is given) the open
 * invoice, then the issuer's signature on the secure element.
 */
export function checkPaid(
  ctx: { device: Device; terminalId: number; currencyNum: number; issuerKey(id: number): Uint8Array | null; book: InvoiceBook },
  bytes: Uint8Array,
  mustBeOpen: boolean,
  done: (err: Refused | null, p?: PaidConfirmation) => void,
): void {
  const c = decodePaid(bytes);
  if (!c) return done(paidRefusal(bytes.length > 1 && bytes[0] !== 1 ? "C02" : "C01"));
  if (c.terminalId !== ctx.terminalId) return done(paidRefusal("C03"));
  const st = ctx.book.stateOf(c.invoiceNo);
  if (st === PAID) return done(paidRefusal("C10"));
  if (mustBeOpen && st !== OPEN) return done(paidRefusal("C04"));
  if (st === OPEN && ctx.book.amountOf(c.invoiceNo) !== c.amountMinor) return done(paidRefusal("C05"));
  if (c.currency !== ctx.currencyNum) return done(paidRefusal("C06"));
  const key = ctx.issuerKey(c.issuerKeyId);
  if (!key) return done(paidRefusal("C07"));
  const d = ctx.device;
  d.secure.verify(d.crypto.sha256(signedPart(bytes)), bytes.subarray(bytes.length - SIG), key, (err, valid) => {
    if (err) return done(paidRefusal("C09"));
    if (valid !== true) return done(paidRefusal("C08"));
    // a second notice may have arrived while the part was verifying
    if (ctx.book.stateOf(c.invoiceNo) === PAID) return done(paidRefusal("C10"));
    done(null, c);
  });
}

/**
 * Records a checked PaidConfirmation: journal entry kind 2 (txId = terminalId || invoiceNo), then the signed
 * receipt (status settled), then the printer. Nothing is shown to the customer as paid before the journal took it.
 */
export function recordPaid(ctx: InvoiceContext, c: PaidConfirmation, bytes: Uint8Array, method: number, done: (o: InvoiceOutcome) => void, signed?: (p: InvoicePaidInfo) => void): void {
  const d = ctx.device;
  const id = makeTxId(ctx.terminalId, c.invoiceNo);
  const orderRef = ctx.book.orderRefOf(c.invoiceNo);
  const r = ctx.journal.append(encodeEntry({ kind: EntryKind.InvoicePaid, txId: id, method: method, paid: bytes, orderRef: orderRef }));
  if ("code" in r) return done({ refused: r });
  ctx.book.markPaid(c.invoiceNo);
  const rc = encodeReceipt({ txId: id, status: 1, time: c.paidAt, paymentHash: d.crypto.sha256(bytes).subarray(0, 8), terminalSig: new Uint8Array(SIG) });
  d.secure.sign(SeSlot.Identity, d.crypto.sha256(signedPart(rc)), (err, sig) => {
    // journaled whatever happens now: a receipt without its signature still prints
    if (!err && sig && sig.length === SIG) rc.set(sig, rc.length - SIG);
    const info: InvoicePaidInfo = {
      txId: id,
      utr: utr(ctx.terminalId, c.invoiceNo),
      invoiceNo: c.invoiceNo,
      amountMinor: c.amountMinor,
      method: method,
      paidWith: c.method,
      time: c.paidAt,
      receipt: rc,
      paid: bytes,
      orderRef: orderRef,
    };
    // the phone gets its receipt before the printer starts (printing takes seconds)
    if (signed) signed(info);
    ctx.view.progress("Paid", "Printing the receipt");
    ctx.print(info, (perr) => done({ paid: info, printError: perr }));
  });
}

/**
 * The gateway's online notice when no invoice session is open (it timed out, or the terminal rebooted): the
 * confirmation is checked (issuer signature, this terminal, not recorded twice) and recorded.
 */
export function acceptPaid(ctx: InvoiceContext, bytes: Uint8Array, method: number, done: (o: InvoiceOutcome) => void): void {
  const full = ctx.journal.canAccept();
  if (full) return done({ refused: full });
  checkPaid(ctx, bytes, false, (err, c) => {
    if (err || !c) return done({ refused: err || paidRefusal("C01") });
    recordPaid(ctx, c, bytes, method, done);
  });
}

export class InvoiceSession {
  private c: InvoiceContext;
  readonly amountMinor: number;
  readonly orderRef: string;
  private onEnd: (o: InvoiceOutcome) => void;
  private radio: SessionRadio;
  private timer = 0;
  invoiceNo = -1;
  /** The signed Invoice once made. */
  invoice: Uint8Array | null = null;
  /** "opening" | "waiting" | "checking" | "journaling" | "done" */
  state = "opening";

  constructor(ctx: InvoiceContext, amountMinor: number, orderRef: string, onEnd: (o: InvoiceOutcome) => void) {
    this.c = ctx;
    this.amountMinor = amountMinor;
    this.orderRef = orderRef;
    this.onEnd = onEnd;
    this.radio = new SessionRadio(ctx.device, ctx.cert, ctx.terminalId);
  }

  /** Number the invoice (SE counter 0), sign it (SE slot 0), show it, advertise it. */
  open(): void {
    const c = this.c;
    const d = c.device;
    const full = c.journal.canAccept();
    if (full) return this.end({ refused: full });
    this.touch();
    c.view.progress("Preparing", "Signing the invoice");
    d.secure.counter(TX_COUNTER, true, (err, n) => {
      if (this.state !== "opening") return;
      if (err || n === undefined) return this.end({ refused: { code: "E_SE", message: "Secure element: no invoice number (" + err + ")" } });
      const inv = encodeInvoice({
        terminalId: c.terminalId,
        invoiceNo: n,
        amountMinor: this.amountMinor,
        currency: c.currencyNum,
        expires: Math.floor(c.now() / 1000) + INVOICE_VALID_S,
        terminalSig: new Uint8Array(SIG),
      });
      d.secure.sign(SeSlot.Identity, d.crypto.sha256(signedPart(inv)), (serr, sig) => {
        if (this.state !== "opening") return;
        if (serr || !sig || sig.length !== SIG) return this.end({ refused: { code: "E_SE", message: "Secure element: signing failed (" + serr + ")" } });
        inv.set(sig, inv.length - SIG);
        this.invoice = inv;
        this.invoiceNo = n;
        c.book.add(n, this.amountMinor, this.orderRef);
        this.state = "waiting";
        this.touch();
        this.show();
        this.startBle();
      });
    });
  }

  /** The invoice QR (nothing before it is signed); also the router's show (firmware/screens/kit.ts). */
  show(): void {
    const c = this.c;
    if (this.invoice) c.view.invoice(this.amountMinor, c.qrText ? c.qrText(this.invoice) : toQrText(this.invoice), "Pay online, then show the code  C cancel");
  }

  private startBle(): void {
    this.radio.start(
      () => this.invoice,
      () => this.touch(),
      (m) => {
        if (m.length > 1 && m[1] === MsgType.PaidConfirmation) this.paid(m, EntryMethod.PaidByBle);
      },
    );
  }

  /** Restart the no-progress timer. */
  private touch(): void {
    const clock = this.c.device.clock;
    if (this.timer) clock.clear(this.timer);
    this.timer = clock.setTimeout(() => {
      this.timer = 0;
      if (this.state === "waiting" || this.state === "opening") this.end({ cancelled: "Timed out: no payment in " + Math.floor((this.c.timeoutMs || SESSION_MS) / 1000) + " s" });
    }, this.c.timeoutMs || SESSION_MS);
  }

  key(k: string): void {
    if ((k === "C" || k === "*") && (this.state === "waiting" || this.state === "opening")) this.end({ cancelled: "Cancelled" });
  }

  /** A code the scanner read: a paid confirmation ("C1..."). */
  code(text: string): void {
    if (this.state !== "waiting") return;
    const parsed = fromQrText(text);
    if ("err" in parsed) return this.notice(paidRefusal(parsed.err === "version" ? "C02" : "C01"));
    if (parsed.msg[1] !== MsgType.PaidConfirmation) return this.notice(paidRefusal("C01"));
    this.paid(parsed.msg, EntryMethod.PaidByQr);
  }

  /** A refusal that leaves the invoice open: its notice, then the invoice QR again. */
  notice(r: Refused): void {
    if (this.state !== "waiting") return;
    this.c.view.notice(r);
    this.c.device.clock.setTimeout(() => (this.state === "waiting" ? this.show() : undefined), NOTICE_MS);
  }

  /**
   * A paid confirmation for this invoice: scanned (method 3), over Bluetooth (4) or the gateway's online notice
   * (5). Returns false when this session is not waiting for one (the caller then uses acceptPaid).
   */
  paid(bytes: Uint8Array, method: number): boolean {
    if (this.state !== "waiting") return false;
    const c = this.c;
    this.state = "checking";
    this.touch();
    c.view.progress("Checking", "Verifying the confirmation");
    checkPaid(c, bytes, true, (err, p) => {
      if (this.state !== "checking") return;
      if (err || !p) {
        const r = err || paidRefusal("C01");
        // a confirmation for another invoice or a damaged one leaves this invoice open
        if (r.code === "C01" || r.code === "C02" || r.code === "C04" || r.code === "C10") {
          this.state = "waiting";
          return this.notice(r);
        }
        return this.end({ refused: r });
      }
      if (p.invoiceNo !== this.invoiceNo) {
        // another of this terminal's open invoices, paid late: record it, this one stays open
        this.state = "waiting";
        this.show();
        acceptPaid(c, bytes, method, () => {});
        return;
      }
      this.state = "journaling";
      if (this.timer) c.device.clock.clear(this.timer);
      this.timer = 0;
      recordPaid(
        c,
        p,
        bytes,
        method,
        (o) => this.end(o),
        (info) => {
          if (method === EntryMethod.PaidByBle) this.radio.send(info.receipt);
        },
      );
    });
    return true;
  }

  /**
   * Stop the ended session's Bluetooth now (the next session calls this before it advertises, so a late stop
   * cannot put the radio to sleep under it).
   */
  release(): void {
    this.radio.release();
  }


  private end(o: InvoiceOutcome): void {
    if (this.state === "done") return;
    this.state = "done";
    if (this.timer) this.c.device.clock.clear(this.timer);
    this.timer = 0;
    // let the last notifications (the receipt) go out before the link drops
    this.radio.end();
    this.onEnd(o);
  }
}
