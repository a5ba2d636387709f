/**
 * The terminal's application: boot (storage keys from the secure element -> journal + vault), the screens and the
 * keypad/scanner routing between idle, a payment session (./pay.ts), result screens and the technician menu, and
 * the sync loop when provisioned.
 *
 *   const app = startTerminal(device);   // after device.platform.lockDown()
 *   app.mode();                          // "boot" | "idle" | "pay" | "result" | "tech"
 *
 * Keys at idle: digits type the amount, # opens the payment, D the technician menu, A "send now" (sync).
 * A terminal whose secure element has no storage key, or that has no terminal ID or certificate, is not
 * provisioned: it says so and only the technician menu opens.
 */
import type { Device } from "../../hal/device.ts";
import { Ink } from "../../hal/display.ts";
import { ascii, fromHex } from "../codec/hex.ts";
import { toQrText } from "../protocol/qr.ts";
import { Journal } from "../journal/journal.ts";
import { deriveStorageKeys } from "../keys.ts";
import { formatMoney, parseMinor } from "../money.ts";
import { decodeEntry, entryAmount, entryWalletId, EntryKind } from "../protocol/entry.ts";
import { decodePayment } from "../protocol/messages.ts";
import { bytesToText, loadSettings } from "../settings.ts";
import type { Settings } from "../settings.ts";
import type { TerminalStatus } from "../status.ts";
import { readSyncConfig } from "../sync/config.ts";
import type { SyncHandle } from "../sync/sync.ts";
import { msSinceSync, startSync, trustedNow } from "../sync/sync.ts";
import { techConsole } from "../tech/console.ts";
import type { TechMenu } from "../tech/menu.ts";
import { openTechMenu } from "../tech/menu.ts";
import { confirmBoot } from "../update/slots.ts";
import type { Vault } from "../vault.ts";
import { openVault } from "../vault.ts";
import { drawIdle, idleKey } from "../ui/idle.ts";
import type { IdleState } from "../ui/idle.ts";
import { Screen } from "../ui/screen.ts";
import { drawMessage, drawRequest } from "../ui/screens.ts";
import { ActivityLog } from "../activity.ts";
import { toHex } from "../codec/hex.ts";
import { methodLabel, receiptJob } from "../receipt/receipt.ts";
import { ReportTally, reportJob } from "../receipt/report.ts";
import { RamLedger } from "./ledger.ts";
import type { Limits } from "./limits.ts";
import { checkLimits, DAY_MS, DEFAULT_LIMITS, denyListFromBytes, denyListHasHex, loadDenyList, saveDenyList } from "./limits.ts";
import type { PaidInfo, PayOutcome, Refused } from "./pay.ts";
import { PaySession } from "./pay.ts";

/** How often the status bar's clock and "time since sync" are redrawn. */
const STATUS_REFRESH_MS = 15000;
/** How long a result screen stays before idle comes back (any key returns at once). */
const RESULT_MS = 8000;

/** ISO 4217 numeric codes of the currencies a terminal is provisioned with. */
const CURRENCIES: { [c: string]: number } = { EUR: 978, USD: 840, GBP: 826, CHF: 756, JPY: 392, SEK: 752, NOK: 578, DKK: 208, PLN: 985, CZK: 203 };

/** Unix seconds of an entry: the request's time, the confirmation's paidAt, the refund's time. */
export function entryTime(e: { kind: number; request?: Uint8Array; paid?: Uint8Array; refund?: Uint8Array }): number {
  const b = (e.kind === EntryKind.WalletPayment ? e.request : e.kind === EntryKind.InvoicePaid ? e.paid : e.refund) as Uint8Array;
  const o = e.kind === EntryKind.WalletPayment ? 20 : 16;
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

export function currencyNumber(code: string): number {
  return CURRENCIES[code] || 0;
}

/** Day (since 1970) of the last sync, written at most once a day (provisioning counts as a sync). */
export const SYNC_DAY_FILE = "sync.day";

export interface TerminalApp {
  status: TerminalStatus;
  idle: IdleState;
  mode(): string;
  /** The sync loop, once provisioned. */
  sync(): SyncHandle | null;
}

function readJson(d: Device, name: string): any {
  const raw = d.storage.read(name);
  if (!raw) return null;
  try {
    return JSON.parse(bytesToText(raw));
  } catch (e) {
    return null;
  }
}

export function startTerminal(device: Device): TerminalApp {
  const d = device;
  const cfg: Settings = loadSettings(d.storage);
  const screen = new Screen(d.display);
  const status: TerminalStatus = { online: false, pending: 0, unsettledMinor: 0, currency: cfg.currency, lastSyncMs: 0 };
  const idle: IdleState = { digits: "" };
  let deny = loadDenyList(d.storage);
  const ledger = new RamLedger((w) => denyListHasHex(deny, w));
  const activity = new ActivityLog(d.storage, () => now());
  let syncDay = -1;
  const lockout = { until: 0, tries: 0 };
  const terminalId = parseInt(cfg.terminalId || "0", 10) || 0;
  let mode = "boot";
  let journal: Journal | null = null;
  let vault: Vault | null = null;
  let cert: Uint8Array | null = null;
  let provisioned = false;
  let sync: SyncHandle | null = null;
  let session: PaySession | null = null;
  let menu: TechMenu | null = null;
  let resultTimer = 0;
  let warning = "";
  /** What the current screen is, so a status change (Wi-Fi lost mid-payment) redraws it with the new bar. */
  let redrawCurrent: () => void = () => {};

  const now = () => {
    const t = sync ? trustedNow(sync.state, d.clock) : 0;
    return t || d.clock.now();
  };

  const show = (fn: () => void) => {
    redrawCurrent = fn;
    fn();
  };
  const message = (title: string, ink: number, lines: string[]) => show(() => drawMessage(screen, status, now(), title, ink, lines));

  const toIdle = () => {
    if (resultTimer) d.clock.clear(resultTimer);
    resultTimer = 0;
    session = null;
    mode = "idle";
    idle.digits = "";
    showIdle();
  };
  const showIdle = () =>
    show(() => {
      drawIdle(screen, idle, status, cfg, now(), d.platform.version);
      if (warning) screen.line(warning, 196, 1, Ink.Alert);
      if (!provisioned && cfg.terminalId) screen.line("Not provisioned - see technician", 196, 1, Ink.Alert);
      if (warning || (!provisioned && cfg.terminalId)) screen.flip();
    });

  const result = (title: string, ink: number, lines: string[]) => {
    mode = "result";
    message(title, ink, lines);
    resultTimer = d.clock.setTimeout(() => {
      resultTimer = 0;
      if (mode === "result") toIdle();
    }, RESULT_MS);
  };

  /** Pending count and unsettled amount from the journal; the ledger from its pending wallet payments. */
  const recount = () => {
    if (!journal) return;
    const recs = journal.pending(512);
    let sum = 0;
    ledger.clear();
    for (let i = 0; i < recs.length; i++) {
      const e = decodeEntry(recs[i].payload);
      if (!e) continue;
      sum += entryAmount(e);
      if (e.kind === EntryKind.WalletPayment) {
        const p = decodePayment(e.payment);
        if (p) ledger.record(entryWalletId(d.crypto, e), p.allowance.expiryDay, p.counter, entryAmount(e));
      }
    }
    status.pending = recs.length;
    status.unsettledMinor = sum;
    const w = journal.warning();
    warning = w ? w.message : "";
  };

  /** The gateway's limits once synced, else provisioning's limits.json, else DEFAULT_LIMITS; fields merged. */
  const limits = (): Limits => {
    const l: any = (sync && sync.state.limits) || readJson(d, "limits.json") || {};
    const out: any = {};
    for (const k in DEFAULT_LIMITS) out[k] = typeof l[k] === "number" ? l[k] : (DEFAULT_LIMITS as any)[k];
    return out as Limits;
  };

  /** Since the last sync: this boot's, else the stored day (a sync on an earlier boot, or provisioning). */
  const sinceSync = (): number => {
    const m = sync ? msSinceSync(sync.state, d.clock) : -1;
    if (m >= 0) return m;
    return syncDay >= 0 ? Math.max(0, now() - syncDay * DAY_MS) : 1e15;
  };
  const noteSyncDay = () => {
    const day = Math.floor(now() / DAY_MS);
    if (day <= syncDay) return;
    syncDay = day;
    d.storage.write(SYNC_DAY_FILE, ascii(String(day)));
  };

  /** Risk limits (firmware/app/limits.ts); walletId "" before the wallet is known (amount checks only). */
  const checkRisk = (amountMinor: number, walletId: string): Refused | null => {
    const r = checkLimits(limits(), {
      amountMinor: amountMinor,
      unsyncedMinor: status.unsettledMinor,
      walletSpentMinor: walletId ? ledger.walletSpent(walletId) : 0,
      msSinceSync: sinceSync(),
      denied: walletId ? ledger.denied(walletId) : false,
      currency: cfg.currency,
    });
    return r ? { code: r.code, message: r.message, limit: r.limit } : null;
  };

  const print = (p: PaidInfo, done: (err: string | null) => void) => {
    const job = receiptJob(
      {
        merchantName: cfg.merchantName,
        merchantId: String(cfg.merchantId),
        terminalId: terminalId,
        utr: p.utr,
        txIdHex: toHex(p.txId),
        amountMinor: p.amountMinor,
        currency: cfg.currency,
        method: methodLabel(p.method),
        timeMs: p.time * 1000,
        settled: false,
        orderRef: p.orderRef,
        recoveryQr: toQrText(p.receipt),
      },
      {},
    );
    d.printer.print(job, done);
  };

  const ended = (o: PayOutcome) => {
    if ("paid" in o) {
      const p = o.paid;
      status.pending++;
      status.unsettledMinor += p.amountMinor;
      if (journal) {
        const w = journal.warning();
        warning = w ? w.message : "";
      }
      const lines = [formatMoney(p.amountMinor, cfg.currency), "UTR " + p.utr, o.printError ? "Printer: " + o.printError : "Receipt printed"];
      return result("Paid", Ink.Accent, lines);
    }
    if ("refused" in o) activity.add("error", "refused " + o.refused.code);
    if ("refused" in o) {
      const r = o.refused;
      return result("Refused", Ink.Alert, r.limit ? [r.code, "Limit: " + r.limit, r.message, "Any key: back"] : [r.code, r.message, "Any key: back"]);
    }
    result("Cancelled", Ink.Text, [o.cancelled]);
  };

  const openPayment = (amountMinor: number, orderRef: string) => {
    if (!provisioned || !journal || !cert) return result("Not provisioned", Ink.Alert, ["see technician"]);
    mode = "pay";
    const ctx = {
      device: d,
      terminalId: terminalId,
      currencyNum: currencyNumber(cfg.currency),
      cert: cert,
      journal: journal,
      now: now,
      issuerKey: (id: number) => {
        const h = cfg.issuerKeys ? cfg.issuerKeys[String(id)] : undefined;
        const k = h ? fromHex(h) : undefined;
        return k && k.length === 64 ? k : null;
      },
      ledger: {
        denied: (w: string) => ledger.denied(w),
        lastCounter: (w: string, day: number) => ledger.lastCounter(w, day),
        spentMinor: (w: string, day: number) => ledger.spentMinor(w, day),
      },
      limits: checkRisk,
      view: {
        request: (amount: number, qr: string, hint: string) => show(() => drawRequest(screen, status, now(), formatMoney(amount, cfg.currency), qr, hint)),
        progress: (title: string, line: string) => message(title, Ink.Accent, [formatMoney(amountMinor, cfg.currency), line]),
        notice: (r: Refused) => message("Not a payment", Ink.Alert, [r.code + " " + r.message, "Show the payment code again", "C cancel"]),
      },
      print: print,
    };
    const s = new PaySession(ctx, amountMinor, orderRef, (o) => {
      if (session !== s) return;
      if ("paid" in o) ledger.record(o.paid.walletId, o.paid.allowanceDay, o.paid.counter, o.paid.amountMinor);
      ended(o);
    });
    session = s;
    s.open();
  };

  // -------------------------------------------------------------- merchant menu (A at idle)
  const showMenu = () => {
    mode = "menu";
    message("Menu", Ink.Accent, ["1 Send now (sync)", "2 End-of-day report", "* Back"]);
  };
  const menuKey = (k: string) => {
    if (k === "1") {
      if (!sync) return result("Not syncing", Ink.Alert, ["No gateway or Wi-Fi configured"]);
      sync.sendNow();
      return result("Sending", Ink.Accent, [status.pending + " pending", "Status bar shows the progress"]);
    }
    if (k === "2") return printReport();
    if (k === "*" || k === "C") toIdle();
  };

  /** End-of-day report: today's (UTC) journaled transactions by method, pending against settled (acknowledged). */
  const printReport = () => {
    if (!journal) return result("No journal", Ink.Alert, ["Not provisioned"]);
    const t = new ReportTally();
    const day = Math.floor(now() / DAY_MS);
    const recs = journal.records(1024);
    for (let i = 0; i < recs.length; i++) {
      const e = decodeEntry(recs[i].payload);
      if (!e || Math.floor(entryTime(e) / 86400) !== day) continue;
      t.add(e.kind === EntryKind.Refund ? 0 : e.method, entryAmount(e), recs[i].acked);
    }
    mode = "busy";
    message("Printing", Ink.Accent, ["End-of-day report"]);
    const job = reportJob({ merchantName: cfg.merchantName, merchantId: String(cfg.merchantId), terminalId: terminalId, currency: cfg.currency, fromMs: day * DAY_MS, toMs: now(), tally: t }, {});
    d.printer.print(job, (err) => result(err ? "Printer: " + err : "Report printed", err ? Ink.Alert : Ink.Accent, []));
  };

  // -------------------------------------------------------------- technician menu (helper H)
  /** The vault, opened on first use when boot had no keys (provisioning makes them through the console). */
  const secrets = {
    get(n: string, done: (e: string | null, v?: Uint8Array) => void) {
      withVault((e, v) => (e || !v ? done(e || "no vault") : v.get(n, done)));
    },
    put(n: string, val: Uint8Array, done: (e: string | null) => void) {
      withVault((e, v) => (e || !v ? done(e || "no vault") : v.put(n, val, done)));
    },
  };
  const withVault = (fn: (err: string | null, v?: Vault) => void) => {
    if (vault) return fn(null, vault);
    deriveStorageKeys(d.secure, d.crypto, (err, keys) => {
      if (err || !keys) return fn(err ? err.message : "no keys");
      openVault(d.storage, d.crypto, keys.vault, (_verr, v) => {
        vault = v;
        fn(null, v);
      });
    });
  };
  const openTech = () => {
    mode = "tech";
    activity.add("tech", "menu");
    menu = openTechMenu({
      device: d,
      vault: secrets,
      lockout: lockout,
      openConsole: () => d.platform.openConsole((req, out) => techConsole({ device: d, vault: secrets, out: out })(req)),
      closeConsole: () => d.platform.closeConsole(),
      journalState: () => (journal ? "records " + journal.stats().records + ", pending " + status.pending : "no journal"),
      onExit: () => {
        menu = null;
        toIdle();
      },
    });
  };

  // -------------------------------------------------------------- input routing
  d.keypad.listen((k) => {
    if (mode === "tech" && menu) return menu.key(k);
    if (mode === "pay" && session) return session.key(k);
    if (mode === "menu") return menuKey(k);
    if (mode === "result") {
      toIdle();
      // a digit already starts the next amount; any other key only dismisses the result
      if (!(k >= "0" && k <= "9")) return;
    }
    if (mode !== "idle") return;
    if (k === "D") return openTech();
    if (k === "A") return showMenu();
    if (k === "#" && idle.digits) {
      const amount = parseMinor(idle.digits);
      if (amount > 0) return openPayment(amount, "");
    }
    if (idleKey(idle, k)) showIdle();
  });
  d.scanner.listen((err, code) => {
    if (err || !code) return;
    if (mode === "tech" && menu) return menu.code(code.text);
    if (mode === "pay" && session) return session.code(code.text);
  });
  d.wifi.onChange((s) => {
    if ((s === "connected") !== status.online) activity.add(s === "connected" ? "connect" : "disconnect", "wifi");
    status.online = s === "connected";
    if (mode !== "tech") redrawCurrent();
  });
  d.clock.setInterval(() => {
    if (mode === "idle") showIdle();
  }, STATUS_REFRESH_MS);

  // -------------------------------------------------------------- boot
  message("Starting", Ink.Accent, ["Reading keys and journal"]);
  confirmBoot(d.storage);
  deriveStorageKeys(d.secure, d.crypto, (err, keys) => {
    if (err || !keys) {
      mode = "idle";
      return showIdle();
    }
    journal = new Journal({ pages: d.journal, crypto: d.crypto, keys: keys.journal });
    journal.recover();
    openVault(d.storage, d.crypto, keys.vault, (_verr, v) => {
      vault = v;
      cert = d.storage.read("cert.bin") || null;
      provisioned = !!(terminalId && cert && cert.length === 141);
      activity.add("boot", d.platform.version + (provisioned ? "" : " unprovisioned"));
      const sd = d.storage.read(SYNC_DAY_FILE);
      syncDay = sd ? parseInt(bytesToText(sd), 10) : -1;
      if (!(syncDay >= 0)) syncDay = -1;
      if (provisioned && syncDay < 0) noteSyncDay();
      recount();
      if (provisioned) startLink();
      toIdle();
    });
  });

  const startLink = () => {
    const sc = readSyncConfig(d.storage);
    if ("code" in sc || !journal) return;
    sync = startSync({
      device: d,
      journal: journal,
      terminalId: sc.terminalId,
      gatewayUrl: sc.gatewayUrl,
      gatewayKey: sc.gatewayKey,
      networks: sc.networks,
      secrets: secrets,
      firmwareVersion: d.platform.version,
      denyVersion: deny.version,
      onDeny: (version, ids) => {
        const l = denyListFromBytes(ids, version);
        if (saveDenyList(d.storage, l)) deny = l;
      },
      onAlert: (e) => activity.add("error", e.code),
      // The Wi-Fi HAL has one listener and the sync loop takes it: online/offline reach the flows from here.
      onProgress: (p) => {
        if (!sync) return;
        if (sync.state.online !== status.online) {
          activity.add(sync.state.online ? "connect" : "disconnect", "gateway link");
          status.online = sync.state.online;
          // never silently: whatever is on screen (an open request too) is redrawn with the new status bar
          if (mode !== "idle" && mode !== "tech") redrawCurrent();
        }
        if (p.phase === "done") {
          status.lastSyncMs = now();
          noteSyncDay();
          if (mode !== "pay") recount();
        }
        if (mode === "idle") showIdle();
      },
    });
  };

  return {
    status: status,
    idle: idle,
    mode: () => mode,
    sync: () => sync,
  };
}
