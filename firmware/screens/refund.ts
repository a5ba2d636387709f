/**
 * Flow 5, refund or void, behind the merchant's PIN: one screen in three steps.
 *   pin     digits, B/C delete, # confirm, * cancel; three wrong PINs lock it (firmware/tech/pin-tries.ts, PIN 1)
 *   pick    1-4 choose a transaction (or scan its receipt's QR), 0 older, * cancel
 *   refund  digits a part amount (none = all that is left), # void/refund, B/C delete, * cancel
 *
 *   openRefund(kit);
 */
import { Ink } from "../../hal/display.ts";
import { decodeReceipt, MsgType } from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { formatMoney, parseMinor } from "../money.ts";
import { methodLabel } from "../receipt/receipt.ts";
import { checkPin } from "../vault.ts";
import { MERCHANT_PIN } from "../tech/console.ts";
import type { TxSummary } from "../app/refund.ts";
import { findTx, makeRefund, reasonFor, REASON_VOID, refundProblem, txCollector } from "../app/refund.ts";
import type { Journal } from "../journal/journal.ts";
import type { Kit, ScreenDef } from "./kit.ts";

/** Transactions per page of the list. */
const PAGE = 4;
/** The PIN lockout of the merchant's PIN in PinTries (0 is the technician's). */
const MERCHANT = 1;
const LOCKED = "Locked: 3 wrong PINs, try later";

export function openRefund(k: Kit): void {
  const journal = k.ready();
  if (!journal) return k.noJournal();
  const cur = k.cfg.currency;
  const money = (m: number) => formatMoney(m, cur);
  let step = 0; // 0 PIN, 1 pick, 2 amount
  let pin = "";
  let txs: TxSummary[] = [];
  let page = 0;
  let chosen: TxSummary | null = null;
  let typed = "";
  let note = "";

  const show = () => {
    k.arm();
    if (step === 0) {
      let stars = "";
      for (let i = 0; i < pin.length; i++) stars += "*";
      return k.message("Merchant PIN", Ink.Accent, ["Refund or void", "", stars || "-", note || (k.tries.locked(MERCHANT) ? LOCKED : ""), "# confirm  * cancel"]);
    }
    if (step === 1) {
      if (!txs.length) return k.result("Nothing to refund", Ink.Text, ["No payment in the journal", "Any key: back"]);
      const lines: string[] = [];
      for (let i = 0; i < PAGE && page * PAGE + i < txs.length; i++) {
        const t = txs[page * PAGE + i];
        lines.push(i + 1 + " " + t.utr + " " + money(t.amountMinor) + (t.refundedMinor >= t.amountMinor ? " R" : ""));
      }
      lines.push(note || "or scan the receipt's QR", "1-" + PAGE + " choose  0 older  * cancel");
      return k.message("Refund: which payment?", Ink.Accent, lines);
    }
    const t = chosen as TxSummary;
    const amount = typed ? parseMinor(typed) : t.amountMinor - t.refundedMinor;
    k.message("Refund " + t.utr, Ink.Accent, [
      money(t.amountMinor) + "  " + methodLabel(t.method),
      (t.uploaded ? "sent to gateway" : "not yet sent") + (t.refundedMinor ? ", refunded " + money(t.refundedMinor) : ""),
      "Amount: " + money(amount) + (typed ? "" : " (all left)"),
      note,
      "digits: part amount  # " + (reasonFor(t, amount) === REASON_VOID ? "void" : "refund"),
      "B/C delete  * cancel",
    ]);
  };
  /** Show a step with a note; the router's mode follows the step (pin, pick, refund). */
  const to = (s: number, n: string) => {
    step = s;
    note = n;
    k.go(s === 0 ? "pin" : s === 1 ? "pick" : "refund", me);
  };
  const choose = (t: TxSummary) => {
    chosen = t;
    typed = "";
    to(2, "");
  };

  const pinKey = (key: string) => {
    if (k.tries.locked(MERCHANT)) return to(0, "");
    if (key >= "0" && key <= "9" && pin.length < 8) pin += key;
    if ((key === "B" || key === "C") && pin) pin = key === "C" ? "" : pin.slice(0, -1);
    if (key !== "#") return to(0, "");
    const typedPin = pin;
    pin = "";
    k.withVault((err, v) => {
      if (k.mode() !== "pin") return;
      const stored = !err && v ? v.value(MERCHANT_PIN) : undefined;
      if (!stored) return k.result("No merchant PIN", Ink.Alert, ["Refunds need a merchant PIN:", "ask the technician to provision one"]);
      if (!checkPin(k.d.crypto, stored, typedPin)) {
        k.tries.fail(MERCHANT);
        return to(0, "Wrong PIN");
      }
      k.tries.ok(MERCHANT);
      k.activity.add("override", "refund menu");
      const c = txCollector();
      journal.forEach(true, (r) => c.add(r));
      txs = c.list();
      page = 0;
      to(1, "");
    });
  };
  const pickKey = (key: string) => {
    if (key === "C") return k.toIdle();
    if (key === "0") {
      page = (page + 1) * PAGE < txs.length ? page + 1 : 0;
      return to(1, "");
    }
    const i = page * PAGE + key.charCodeAt(0) - 49;
    if (key >= "1" && key <= "" + PAGE && i < txs.length) return choose(txs[i]);
    to(1, "");
  };
  const amountKey = (key: string) => {
    const t = chosen as TxSummary;
    if (key >= "0" && key <= "9" && typed.length < 9 && (typed || key !== "0")) typed += key;
    if ((key === "B" || key === "C") && typed) typed = key === "C" ? "" : typed.slice(0, -1);
    if (key !== "#") return to(2, "");
    const amount = typed ? parseMinor(typed) : t.amountMinor - t.refundedMinor;
    const bad = refundProblem(t, amount);
    if (bad) return to(2, bad);
    k.busy("Refund", [money(amount), "Signing and journaling"]);
    makeRefund({ device: k.d, terminalId: k.terminalId, journal: journal as Journal, now: k.now }, t, amount, (err, r) => {
      if (err || !r) return k.result("Refused", Ink.Alert, [err ? err.code : "E_REFUND", err ? err.message : "", "Any key: back"]);
      k.status.pending++;
      k.status.unsettledMinor -= r.amountMinor;
      const isVoid = r.reason === REASON_VOID;
      const title = isVoid ? "VOID" : "REFUND";
      k.activity.add("override", title.toLowerCase() + " " + t.utr);
      k.message(isVoid ? "Voided" : "Refunded", Ink.Accent, [money(r.amountMinor), "Printing the receipt"]);
      k.printReceipt({ utr: r.utr, txId: r.txId, amountMinor: -r.amountMinor, method: (isVoid ? "Void of " : "Refund of ") + t.utr, time: r.time, settled: false, orderRef: "", qr: toQrText(r.refund), title: title }, (perr) =>
        k.result(isVoid ? "Voided" : "Refunded", Ink.Accent, [money(r.amountMinor) + " of " + t.utr, "UTR " + r.utr, perr ? "Printer: " + perr : "Receipt printed", "Any key: back"]),
      );
    });
  };

  const me: ScreenDef = {
    show: show,
    key(key: string) {
      if (key === "*") return k.toIdle();
      if (step === 0) return pinKey(key);
      if (step === 1) return pickKey(key);
      amountKey(key);
    },
    /** A receipt's QR in the list chooses its transaction. */
    code(text: string) {
      if (step !== 1) return;
      const m = fromQrText(text);
      const rc = "msg" in m && m.msg[1] === MsgType.Receipt ? decodeReceipt(m.msg) : null;
      const t = rc ? findTx(txs, rc.txId) : null;
      if (!t) return to(1, rc ? "That receipt is not in this journal" : "Not a receipt QR");
      choose(t);
    },
    notice(r: { message: string }) {
      if (step === 1) to(1, r.message);
    },
  };
  to(0, "");
}
