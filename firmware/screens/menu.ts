/**
 * The merchant menu (A at idle): 1 send now (sync), 2 end-of-day report, 3 invoice QR (the amount typed at idle, or
 * type it then #), 4 refund or void, 5 reprint the last receipt (marked COPY), * back.
 *
 *   kit.go("menu", menuScreen(kit));
 */
import { Ink } from "../../hal/display.ts";
import { parseMinor } from "../money.ts";
import type { Kit, ScreenDef } from "./kit.ts";
import { openRefund } from "./refund.ts";
import { printReport } from "./report.ts";

export function menuScreen(k: Kit): ScreenDef {
  return {
    show() {
      k.arm();
      k.message("Menu", Ink.Accent, ["1 Send now (sync)", "2 End-of-day report", "3 Invoice QR (merchant shows)", "4 Refund or void", "5 Reprint last receipt", "* Back"]);
    },
    key(key: string) {
      if (key === "1") {
        const s = k.sync();
        if (!s) return k.result("Not syncing", Ink.Alert, ["No gateway or Wi-Fi configured"]);
        k.status.sync = { text: "Sending", bar: true, end: 0 };
        k.go("send", sendScreen(k));
        return s.sendNow();
      }
      if (key === "2") return printReport(k);
      if (key === "3") {
        const amount = k.idle.digits ? parseMinor(k.idle.digits) : 0;
        if (amount > 0) return k.invoice(amount, "");
        // type the invoice's amount at idle, then #
        return k.toIdle(true);
      }
      if (key === "4") return openRefund(k);
      if (key === "5") return k.reprint();
      if (key === "*" || key === "C") return k.toIdle();
      k.arm();
    },
  };
}

/**
 * Send now: the round's progress ("Sending 40/120"), redrawn by the terminal at each step, then its outcome as a
 * result ("Sent 120", or "Not sent" with the reason: "No Wi-Fi", "Gateway refused: …"). Any key: back to idle.
 */
export function sendScreen(k: Kit): ScreenDef {
  return {
    show() {
      const n = k.status.sync;
      if (n && n.end) return k.result(n.end === 1 ? "Sent" : "Not sent", n.end === 1 ? Ink.Accent : Ink.Alert, [n.text, k.status.pending + " pending"]);
      k.message("Sending", Ink.Accent, [n ? n.text : "", k.status.pending + " pending"]);
    },
    key() {
      k.toIdle();
    },
  };
}
