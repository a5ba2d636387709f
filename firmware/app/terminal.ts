/**
 * The terminal's application core: boot (storage keys from the secure element -> journal + vault), the router that
 * gives the panel, keypad and scanner to one screen at a time (firmware/screens/kit.ts), the payment and invoice
 * sessions (./pay.ts, ./invoice.ts), results, and the sync loop when provisioned. The screens live beside it in
 * firmware/screens/: merchant menu, order, refund and void, end-of-day report, technician menu, update installer.
 *
 *   const app = startTerminal(device);   // after device.platform.lockDown()
 *   app.mode();                          // "boot" | "idle" | "pay" | "result" | "tech" | ... (Mode)
 *
 * Keys (every screen shows its own):
 *   idle      digits amount, B/C delete, * clear; # customer-presented payment (QR or Bluetooth, flows 1 and 3);
 *             an order QR at the scanner fills in order and amount (flow 4); A merchant menu; D technician menu
 *   payment / invoice   C or * cancel while nothing is journaled
 *   results   any key back (a digit starts the next amount); idle after RESULT_MS
 * Any screen waiting for the merchant returns to idle after 30 s without a key. A firmware update the gateway
 * offers is installed only from idle, never during a payment, with its progress on screen.
 * A terminal whose secure element has no storage key, or that has no terminal ID or certificate, is not
 * provisioned: it says so and only the technician menu opens.
 */
import type { Device } from "../../hal/device.ts";
import { Ink } from "../../hal/display.ts";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import { toQrText } from "../../protocol/qr.ts";
import { Journal } from "../journal/journal.ts";
import { checkJournalPlace } from "../journal/place.ts";
import { deriveStorageKeys } from "../keys.ts";
import { currencyNumber, formatMoney, parseMinor } from "../money.ts";
import { decodeEntry, entryAmount, entryWalletId, EntryKind, EntryMethod } from "../../protocol/entry.ts";
import { decodePaid, decodePayment } from "../../protocol/messages.ts";
import { bytesToText, loadSettings, saveIssuerKeys, SETTINGS_FILE, SETTINGS_SUM, settingsDigest, settingsSum, settingsSumHas } from "../settings.ts";
import { loadSyncDay, saveSyncDay } from "../sync-day.ts";
import { TrustedTime } from "../time-floor.ts";
import type { Settings } from "../settings.ts";
import type { TerminalStatus } from "../status.ts";
import { syncNote } from "../status.ts";
import { readSyncConfig } from "../sync/config.ts";
import type { IssuerKeyOffer, IssuerKeyRevoke, SyncHandle, SyncOptions } from "../sync/sync.ts";
import { issuerKeyBody, revokeBody } from "../../protocol/keys.ts";
import { msSinceSync, startSync, trustedNow } from "../sync/sync.ts";
import { dropParts, PART_ORDERS, PART_PRINT, PART_SCREENS, PARTS_LINGER_MS } from "../parts.ts";
import { PinTries } from "../tech/pin-tries.ts";
import { TECH_PIN } from "../tech/console.ts";
import { confirmBoot } from "../update/slots.ts";
import type { Vault } from "../vault.ts";
import { openVault } from "../vault.ts";
import { readyKeys } from "../se-ready.ts";
import { journalLine } from "../tech/diagnose.ts";
import { drawIdle, idleKey } from "../ui/idle.ts";
import type { IdleState } from "../ui/idle.ts";
import { Screen } from "../ui/screen.ts";
import { drawMessage, drawRequest } from "../ui/screens.ts";
import { ActivityLog } from "../activity.ts";
import { methodLabel, receiptJob } from "../receipt/receipt.ts";
import type { ReceiptInfo } from "../receipt/receipt.ts";
import type { UpdateOffer } from "../update/updater.ts";
import { alreadyInstalled } from "../update/updater.ts";
import type { InvoiceContext, InvoiceOutcome } from "./invoice.ts";
import { acceptPaid, invoiceQrText, InvoiceSession } from "./invoice.ts";
import { InvoiceBook } from "./invoice-book.ts";
import { isOrderText } from "./order.ts";
import { keptOrders } from "./kept-orders.ts";
import { RamLedger } from "./ledger.ts";
import type { DenyList, Limits } from "./limits.ts";
import { checkLimits, DAY_MS, denyListFromBytes, denyListHasHex, limitsFrom, loadDenyList, saveDenyList } from "./limits.ts";
import type { PaidInfo, PayOutcome, Refused } from "./pay.ts";
import { PaySession, SESSION_MS } from "./pay.ts";
import { sealRelay } from "../../protocol/relay.ts";
import type { Kit, Mode, ReceiptLine, ScreenDef } from "../screens/kit.ts";
import { menuScreen } from "../screens/menu.ts";
import { scanOrder } from "../screens/order.ts";
import { techScreen } from "../screens/tech.ts";
import { installOffer } from "../screens/update.ts";

/** How often the status bar's clock and "time since sync" are redrawn. */
const STATUS_REFRESH_MS = 15000;
/** Free Storage below which idle asks for a technician (who compacts it on stable power: docs/technician.md). */
const STORAGE_LOW = 16384;
/** How long a result screen stays before idle comes back (any key returns at once). */
const RESULT_MS = 8000;

/** Bundle budget when the board gives none (boards/devkit-data.ts budget.bundleBytes). */
const BUNDLE_BYTES = 128 * 1024;


export interface TerminalApp {
  status: TerminalStatus;
  idle: IdleState;
  mode(): Mode;
  /** The sync loop, once provisioned. */
  sync(): SyncHandle | null;
  /** The gateway's online notice of a paid invoice (a PaidConfirmation), as the sync layer hands it over. */
  invoicePaid(bytes: Uint8Array): void;
}

export interface TerminalOptions {
  /** Largest firmware bundle the board takes (its budget.bundleBytes). */
  bundleBytes?: number;
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

export function startTerminal(device: Device, opts?: TerminalOptions): TerminalApp {
  const d = device;
  const cfg: Settings = loadSettings(d.storage);
  // Where the journal would write, checked against the chip's partition table before anything opens it: a region
  // that holds code or Storage is refused, and the terminal takes no payment (firmware/journal/place.ts). Only the
  // code is kept; the message is read again when a screen or report needs it.
  const place = checkJournalPlace(d.flash).code;
  const screen = new Screen(d.display);
  const status: TerminalStatus = { online: false, pending: 0, unsettledMinor: 0, currency: cfg.currency, lastSyncMs: 0 };
  const idle: IdleState = { digits: "" };
  /** The gateway's deny list, read from flash when a payment's check or a sync's hello first needs it: its code is in
   * the sessions part, which boot then need not load. */
  let deny: DenyList | null = null;
  const denyList = (): DenyList => deny || (deny = loadDenyList(d.storage));
  const ledger = new RamLedger((w) => denyListHasHex(denyList(), w));
  const activity = new ActivityLog(d.storage, () => now());
  let syncDay = -1;
  const terminalId = parseInt(cfg.terminalId || "0", 10) || 0;
  let mode: Mode = "boot";
  /** The screen that has the keypad and the scanner (the router: go()). */
  let cur: ScreenDef | null = null;
  let journal: Journal | null = null;
  let vault: Vault | null = null;
  /** The vault on flash did not open (tampered): it still counts as provisioned. */
  let vaultBad = false;
  /** cfg.json, limits.json or the issuer keys do not match the digest in the vault: no key trusted, no payment. */
  let cfgBad = false;
  /** The secure element is not configured and locked as the terminal needs it (firmware/se-ready.ts): no payment. */
  let seBad = "";
  const cfgDigest = () => settingsDigest(d.crypto, d.storage.read(SETTINGS_FILE), d.storage.read("limits.json"), cfg.issuerKeys);
  let cert: Uint8Array | null = null;
  let provisioned = false;
  let sync: SyncHandle | null = null;
  let session: PaySession | null = null;
  let invoice: InvoiceSession | null = null;
  let dropTimer = 0;
  /** The last session that ended, whose Bluetooth stops a moment later (or as the next session opens). */
  let ending: { release(): void } | null = null;
  const release = () => {
    if (ending) ending.release();
    ending = null;
  };
  const book = new InvoiceBook();
  /** Online notices that came while another flow had the screen; recorded once idle. */
  const notices: Uint8Array[] = [];
  let offer: UpdateOffer | null = null;
  /** A screen waiting for the merchant (menu, order, PIN, refund) goes back to idle after SESSION_MS. */
  let waitTimer = 0;
  let poll = 0;
  // wrong technician (0) and merchant (1) PINs, kept across reboots, each one logged: one lockout type for both
  const tries = new PinTries(d.storage, d.clock, (m) => activity.add("error", m));
  let resultTimer = 0;
  let warning = "";
  /** What the current screen is, so a status change (Wi-Fi lost mid-payment) redraws it with the new bar. */
  let redrawCurrent: () => void = () => {};
  /** A payment waiting for the sync round it asked for (its last sync was too old while online). */
  let afterSync: (() => void) | null = null;

  // trusted time: the gateway's since a sync this boot, else the device clock if not before the saved floor
  // (firmware/time-floor.ts); offline payments wait for a sync when neither holds
  const time = new TrustedTime(d.storage, d.clock, () => (sync ? trustedNow(sync.state, d.clock) : 0), Math.max(0, loadSyncDay(d.storage)) * DAY_MS, d.secure);
  const now = () => time.now();

  const show = (fn: () => void) => {
    redrawCurrent = fn;
    fn();
  };
  const message = (title: string, ink: number, lines: string[]) => show(() => drawMessage(screen, status, now(), title, ink, lines));

  /** The router: `s` takes the keypad and the scanner in `m`, and is drawn. */
  const go = (m: Mode, s: ScreenDef | null) => {
    mode = m;
    cur = s;
    if (s) s.show();
  };
  const busy = (title: string, lines: string[]) => {
    go("busy", null);
    disarm();
    message(title, Ink.Accent, lines);
  };
  const toIdle = (inv?: boolean) => {
    if (resultTimer) d.clock.clear(resultTimer);
    resultTimer = 0;
    disarm();
    if (poll) d.clock.clear(poll);
    poll = 0;
    session = null;
    invoice = null;
    idle.digits = "";
    idle.invoice = !!inv;
    go("idle", idleScreen);
    linger();
    // the screens' and the printouts' code leaves no tail (a receipt is bytes before the printer takes it): it goes
    // as idle is reached, once out of the key handler that came here, so that the next flow starts without it
    d.clock.setTimeout(() => {
      if (mode !== "idle") return;
      dropParts(PART_SCREENS);
      dropParts(PART_PRINT);
    }, 0);
    // work that waits for idle: a paid-invoice notice, then an offered update
    while (notices.length) {
      const n = notices.shift() as Uint8Array;
      if (!knownPaid(n)) return notePaid(n);
    }
    if (offer) startUpdate();
  };
  /**
   * The flows' code (parts the bundle loads from flash) goes once idle has lasted past the sessions' tails, and with
   * it the last session: its radio is long stopped by then, and letting it go frees what it held (its request, its
   * screens' closures: some 590 JsVars measured after a payment, with the Bluetooth table's handlers).
   */
  const linger = () => {
    if (dropTimer) d.clock.clear(dropTimer);
    dropTimer = d.clock.setTimeout(() => {
      dropTimer = 0;
      if (mode !== "idle" || session || invoice) return;
      release();
      dropParts();
    }, PARTS_LINGER_MS);
  };
  const disarm = () => {
    if (waitTimer) d.clock.clear(waitTimer);
    waitTimer = 0;
  };
  /** (Re)start the no-key timeout of a screen that waits for the merchant. */
  const arm = () => {
    disarm();
    waitTimer = d.clock.setTimeout(() => {
      waitTimer = 0;
      if (mode === "menu" || mode === "order" || mode === "pin" || mode === "pick" || mode === "refund") result("Timed out", Ink.Text, ["No key in 30 s"]);
    }, SESSION_MS);
  };
  const showIdle = () =>
    show(() => {
      drawIdle(screen, idle, status, cfg, now(), d.platform.version);
      if (cfgBad) screen.line("Settings altered: see technician", 196, 1, Ink.Alert);
      else if (seBad) screen.line("Secure element " + seBad + " - technician", 196, 1, Ink.Alert);
      else if (warning) screen.line(warning, 196, 1, Ink.Alert);
      else if (provisioned && !time.trusted()) screen.line("No trusted time: sync to take payments", 196, 1, Ink.Alert);
      if (!provisioned && cfg.terminalId && !place) screen.line("Not provisioned - see technician", 196, 1, Ink.Alert);
      if (place) screen.line("Journal off: " + place + " - technician", 196, 1, Ink.Alert);
      if (warning || (!provisioned && cfg.terminalId) || place || !time.trusted() || cfgBad || seBad) screen.flip();
    });

  const idleScreen: ScreenDef = {
    show: showIdle,
    key(k: string) {
      if (k === "D") return openTech();
      if (k === "A") return go("menu", menuScreen(kit()));
      if (k === "#" && idle.digits) {
        const amount = parseMinor(idle.digits);
        if (amount > 0) return idle.invoice ? openInvoice(amount, "") : openPayment(amount, "");
      }
      if (k === "*" && idle.invoice && !idle.digits) {
        idle.invoice = false;
        return showIdle();
      }
      if (idleKey(idle, k)) showIdle();
    },
    // an order QR or a store's pay-api link fills in order and amount (flow 4)
    code: (text: string) => (isOrderText(text) ? scanOrder(kit(), text) : undefined),
    // a scan that could not be read as text gets a notice, never silence
    notice: (r) => result("Code not read", Ink.Alert, [r.message]),
  };
  /** A result: any key goes back (a digit already starts the next amount), as does an order QR. */
  const resultScreen: ScreenDef = {
    show: () => {},
    key(k: string) {
      toIdle();
      if (k >= "0" && k <= "9" && (mode as Mode) === "idle") idleScreen.key(k);
    },
    // an order QR starts the next order (scanOrder waits for idle)
    code(text: string) {
      if (isOrderText(text)) toIdle(), scanOrder(kit(), text);
    },
    notice: idleScreen.notice,
  };

  const result = (title: string, ink: number, lines: string[]) => {
    go("result", resultScreen);
    message(title, ink, lines);
    resultTimer = d.clock.setTimeout(() => {
      resultTimer = 0;
      if (mode === "result") toIdle();
    }, RESULT_MS);
  };

  /** No journal to take the flow: refused at boot for its flash region, or the terminal is not provisioned. */
  const noJournal = () => (place ? result("Journal not opened", Ink.Alert, [place + " " + checkJournalPlace(d.flash).message, "see technician"]) : result("Not provisioned", Ink.Alert, ["see technician"]));

  /** Pending count and unsettled amount from the journal; the ledger from its pending wallet payments. */
  const recount = () => {
    if (!journal) return;
    let sum = 0;
    let n = 0;
    ledger.clear();
    // one record at a time (journal.forEach), so a full journal is counted in the JsVars of one record
    journal.forEach(false, (r) => {
      n++;
      const e = decodeEntry(r.payload);
      if (!e) return;
      // approved online (the record's flag): settled, no offline risk, so not in the unsynced total
      if (!r.online) sum += entryAmount(e);
      if (e.kind === EntryKind.InvoicePaid) {
        // an invoice paid here and not yet uploaded: the gateway's repeated notice of it is not recorded twice
        const inv = decodePaid(e.paid);
        if (inv && !book.stateOf(inv.invoiceNo)) {
          book.add(inv.invoiceNo, inv.amountMinor, e.orderRef);
          book.markPaid(inv.invoiceNo);
        }
      }
      if (e.kind === EntryKind.WalletPayment) {
        const p = decodePayment(e.payment);
        if (p) ledger.record(entryWalletId(d.crypto, e), p.allowance.expiryDay, p.counter, entryAmount(e), r.online);
      }
    });
    status.pending = n;
    status.unsettledMinor = sum;
    const w = journal.warning();
    warning = w ? w.message : "";
    // the settings, deny list, sync day and vault are written in place (firmware/record-log.ts), so only updates
    // and the activity log's rotations use up free space; a log's turnover needs room, and the binding refuses it
    // rather than let Storage compact
    if (!warning && d.storage.stats().freeBytes < STORAGE_LOW) warning = "Storage nearly full: call technician";
  };

  /** The gateway's limits once synced, else provisioning's limits.json, else DEFAULT_LIMITS; fields merged. */
  const limits = (): Limits => limitsFrom((sync && sync.state.limits) || readJson(d, "limits.json"));

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
    saveSyncDay(d.storage, day);
  };

  /**
   * Risk limits (firmware/app/limits.ts); walletId "" before the wallet is known (amount checks only). `online`:
   * the gateway authorizes the payment first, so only the terminal's own guards apply, none of the offline limits
   * (the payment is checked again with them if it goes on offline: firmware/app/pay.ts).
   */
  const checkRisk = (amountMinor: number, walletId: string, online?: boolean): Refused | null => {
    if (cfgBad) return { code: "SETTINGS_AUTH", message: "Settings altered: see technician", limit: "settings" };
    if (seBad) return { code: seBad, message: "Secure element not locked: see technician", limit: "secure element" };
    if (!time.trusted()) return { code: "LIMIT_NO_TIME", message: "No trusted time: sync first", limit: "trusted time" };
    if (online) return null;
    const r = checkLimits(limits(), {
      amountMinor: amountMinor,
      unsyncedMinor: status.unsettledMinor,
      walletSpentMinor: walletId ? ledger.walletSpent(walletId) : 0,
      msSinceSync: sinceSync(),
      denied: walletId ? ledger.denied(walletId) : false,
      currency: cfg.currency,
    });
    // online, the last sync is too old only because the gateway did not answer (openPayment asked it first)
    return r ? { code: r.code, message: r.code === "LIMIT_OFFLINE_DAYS" && status.online ? "Sync too old, gateway not reached" : r.message, limit: r.limit } : null;
  };

  /** The last receipt printed since boot (menu 5 prints it again, marked COPY). */
  let last: ReceiptInfo | null = null;
  /** A receipt (payment, paid invoice, refund) to the printer; `done` once it took it, or its error. */
  const printReceipt = (r: ReceiptLine, done: (err: string | null) => void) => {
    const info: ReceiptInfo = {
      merchantName: cfg.merchantName,
      merchantId: String(cfg.merchantId),
      terminalId: terminalId,
      utr: r.utr,
      txIdHex: toHex(r.txId),
      amountMinor: r.amountMinor,
      currency: cfg.currency,
      method: r.method,
      timeMs: r.time * 1000,
      settled: r.settled,
      online: r.online,
      orderRef: r.orderRef,
      recoveryQr: r.qr,
      title: r.title,
    };
    last = info;
    d.printer.print(receiptJob(info, {}), done);
  };
  const print = (p: PaidInfo, done: (err: string | null) => void) =>
    printReceipt({ utr: p.utr, txId: p.txId, amountMinor: p.amountMinor, method: methodLabel(p.method), time: p.time, settled: p.online, online: p.online, orderRef: p.orderRef, qr: toQrText(p.receipt) }, done);

  /** The end of a payment or an invoice: Paid (journaled, printed or the printer's error), Refused, Cancelled. */
  const ended = (o: PayOutcome | InvoiceOutcome) => {
    if ("paid" in o) {
      const p = o.paid;
      status.pending++;
      // approved online: settled at the gateway, so not unsettled (nor in the offline limits' unsynced total)
      if (!("online" in p && p.online)) status.unsettledMinor += p.amountMinor;
      if (journal) {
        const w = journal.warning();
        warning = w ? w.message : "";
      }
      const lines = [formatMoney(p.amountMinor, cfg.currency), "UTR " + p.utr];
      // a wallet payment: approved online, or the reason it went on offline (never a silent switch)
      if ("online" in p && (p.online || p.note)) lines.push(p.online ? "Approved online" : p.note);
      // approved online: its record goes up at once (a no-op at the gateway), so it stops counting as not uploaded
      if ("online" in p && p.online && sync) sync.sendNow();
      if (p.orderRef) lines.push("Order " + p.orderRef + " (store told at next sync)");
      lines.push(o.printError ? "Printer: " + o.printError : "Receipt printed", "Any key: back");
      return result("Paid", Ink.Accent, lines);
    }
    if ("refused" in o) {
      const r: Refused = o.refused;
      activity.add("error", "refused " + r.code);
      const lines = r.limit ? [r.code, "Limit: " + r.limit, r.message] : [r.code, r.message];
      // online, the offline limits applied only because the gateway did not answer: said so
      if (r.note) lines.push(r.note);
      lines.push("Any key: back");
      return result("Refused", Ink.Alert, lines);
    }
    result("Cancelled", Ink.Text, [o.cancelled, "Any key: back"]);
  };

  const issuerKey = (id: number) => {
    const h = cfg.issuerKeys && !cfgBad ? cfg.issuerKeys[String(id)] : undefined;
    const k = h ? fromHex(h) : undefined;
    return k && k.length === 64 ? k : null;
  };
  // issuer key rotation: a key offered at sync is trusted once an issuer key already held has signed it
  // (docs/protocol.md section 1); cfg.json that cannot be written keeps the key in RAM and is tried after each sync
  let keysUnsaved = false;
  // the vault's digest first ([new, current]), then the keys: a power cut between leaves a digest that matches
  const saveKeys = () => {
    const dg = cfgDigest();
    keysUnsaved = true;
    withVault((e, v) => {
      if (e || !v) return activity.add("error", "issuer keys not saved");
      v.put(SETTINGS_SUM, settingsSum(dg, v.value(SETTINGS_SUM) || null), (perr) => {
        keysUnsaved = !!perr || !saveIssuerKeys(d.storage, cfg.issuerKeys);
        if (keysUnsaved) activity.add("error", "issuer keys not saved");
      });
    });
  };
  // additions first, then revocations (signer held and not the revoked key: the last key can never go)
  const noteKeys = (list: IssuerKeyOffer[], revoke: IssuerKeyRevoke[]) => {
    let changed = false;
    const n = list.length;
    const step = (i: number): void => {
      if (i >= n + revoke.length) return changed ? saveKeys() : undefined;
      const k: { id: number; by: number; sig: Uint8Array; pub?: Uint8Array } = i < n ? list[i] : revoke[i - n];
      const id = String(k.id);
      const held = cfg.issuerKeys[id];
      const by = issuerKey(k.by);
      const what = (k.pub ? "key " : "revoke ") + id;
      if (k.pub ? held || !by : !held || !by) {
        if (k.pub ? held !== toHex(k.pub) : held) activity.add("error", what + (by ? " id taken" : " unknown signer"));
        return step(i + 1);
      }
      d.secure.verify(d.crypto.sha256(k.pub ? issuerKeyBody(k.id, k.pub) : revokeBody(k.id)), k.sig, by as Uint8Array, (e, ok) => {
        if (e || !ok) activity.add("error", what + " bad signature");
        else {
          if (k.pub) cfg.issuerKeys[id] = toHex(k.pub);
          else delete cfg.issuerKeys[id];
          changed = true;
          activity.add("update", "issuer " + what);
        }
        step(i + 1);
      });
    };
    step(0);
  };
  const progress = (amountMinor: number) => (title: string, line: string) => message(title, Ink.Accent, [formatMoney(amountMinor, cfg.currency), line]);

  // -------------------------------------------------------------- flows 1 and 3: the customer presents a QR / Bluetooth
  const openPayment = (amountMinor: number, orderRef: string, asked?: boolean) => {
    if (!provisioned || !journal || !cert) return noJournal();
    disarm();
    const r = checkRisk(amountMinor, "");
    if (r && r.code === "LIMIT_OFFLINE_DAYS" && status.online && sync) {
      // the sync just tried and did not reach the gateway: the payment could only go on offline, and the offline
      // limits refuse it (online, the session itself would ask the gateway before any offline limit)
      if (asked) return ended({ refused: r });
      // online with a sync too old: sync at once, then decide (the session checks the limits again)
      busy("Syncing first", [formatMoney(amountMinor, cfg.currency)]);
      // every round ends in done, failed or offline (firmware/sync/sync.ts)
      afterSync = () => {
        afterSync = null;
        openPayment(amountMinor, orderRef, true);
      };
      return sync.sendNow();
    }
    const ctx = {
      device: d,
      terminalId: terminalId,
      currencyNum: currencyNumber(cfg.currency),
      cert: cert,
      journal: journal,
      now: now,
      issuerKey: issuerKey,
      ledger: {
        denied: (w: string) => ledger.denied(w),
        lastCounter: (w: string, day: number) => ledger.lastCounter(w, day),
        spentMinor: (w: string, day: number) => ledger.spentMinor(w, day),
      },
      limits: checkRisk,
      // offline: up to 4 of the oldest pending records, sealed to the gateway, for the paying phone to carry
      // (docs/protocol.md "Relayed records"); they stay pending here and go up at the next sync as usual
      relay: (done: (b: Uint8Array | null) => void) => {
        const recs = (journal as Journal).pending(4);
        if (!sync || status.online || !recs.length) return done(null);
        sync.relayKeys((k) => done(k ? sealRelay(d.crypto, k, terminalId, recs) : null));
      },
      view: {
        request: (amount: number, qr: string, hint: string) => show(() => drawRequest(screen, status, now(), formatMoney(amount, cfg.currency), qr, hint, orderRef ? "Order " + orderRef : "")),
        progress: progress(amountMinor),
        notice: (r: Refused) => message("Not a payment", Ink.Alert, [r.code + " " + r.message, "Show the payment code again", "C cancel"]),
      },
      print: print,
      // online: the gateway authorizes the payment over the sync loop's link (docs/sync.md, authorize)
      link: sync && sync.state.online ? sync.call : undefined,
    };
    release();
    // a wallet payment runs no invoice or store-order code: what the last flow loaded of it goes (a store order's
    // screen calls in here from outside that part; whatever it needs again comes back through its stubs)
    dropParts(PART_ORDERS);
    const s = new PaySession(ctx, amountMinor, orderRef, (o) => {
      ending = s;
      if (session !== s) return;
      if ("paid" in o) ledger.record(o.paid.walletId, o.paid.allowanceDay, o.paid.counter, o.paid.amountMinor, o.paid.online);
      ended(o);
    });
    session = s;
    go("pay", s);
    s.open();
  };

  // -------------------------------------------------------------- flow 2: the merchant presents an invoice QR
  const invoiceCtx = (amountMinor: number): InvoiceContext => ({
    device: d,
    terminalId: terminalId,
    currencyNum: currencyNumber(cfg.currency),
    cert: cert || new Uint8Array(0),
    journal: journal as Journal,
    now: now,
    issuerKey: issuerKey,
    book: book,
    view: {
      invoice: (amount, qr, hint) => show(() => drawRequest(screen, status, now(), formatMoney(amount, cfg.currency), qr, hint, "INVOICE" + (invoice && invoice.orderRef ? "  order " + invoice.orderRef : ""))),
      progress: progress(amountMinor),
      notice: (r) => message("Not taken", Ink.Alert, [r.code + " " + r.message, "Invoice still open", "C cancel"]),
    },
    print: (p, done) =>
      printReceipt({ utr: p.utr, txId: p.txId, amountMinor: p.amountMinor, method: methodLabel(p.method), time: p.time, settled: true, orderRef: p.orderRef, qr: toQrText(p.receipt) }, done),
    qrText: (inv) => invoiceQrText(cfg.gatewayUrl, inv),
  });
  const openInvoice = (amountMinor: number, orderRef: string) => {
    if (!provisioned || !journal || !cert) return noJournal();
    disarm();
    // the risk limits are for money taken offline; an invoice is paid at the gateway, so none applies
    release();
    const s = new InvoiceSession(invoiceCtx(amountMinor), amountMinor, orderRef, (o) => {
      ending = s;
      if (invoice !== s) return;
      ended(o);
    });
    invoice = s;
    go("invoice", s);
    s.open();
    // online, ask the gateway every 10 s whether the invoice was paid (its notice comes with the hello reply)
    poll = d.clock.setInterval(() => {
      if (mode === "invoice" && sync && status.online) sync.sendNow();
    }, 10000);
  };
  /** The gateway's notice of a paid invoice: to the open invoice, else recorded on its own once idle. */
  /** A notice of an invoice already recorded here (the gateway repeats it until the entry is uploaded). */
  const knownPaid = (bytes: Uint8Array) => {
    const p = decodePaid(bytes);
    return !p || book.stateOf(p.invoiceNo) === 2;
  };
  const notePaid = (bytes: Uint8Array) => {
    if (!journal || knownPaid(bytes)) return;
    if (mode === "invoice" && invoice && invoice.paid(bytes, EntryMethod.PaidOnline)) return;
    if (mode !== "idle" && mode !== "result") {
      if (notices.length < 16) notices.push(bytes);
      return;
    }
    busy("Invoice paid", ["Recording the gateway's notice"]);
    acceptPaid(invoiceCtx(0), bytes, EntryMethod.PaidOnline, (o) => ("paid" in o ? ended(o) : toIdle()));
  };

  // -------------------------------------------------------------- signed updates (offered by the gateway at sync)
  const startUpdate = () => {
    const u = offer;
    offer = null;
    if (u) installOffer(kit(), u, (opts && opts.bundleBytes) || BUNDLE_BYTES);
  };
  const noteOffer = (u: UpdateOffer) => {
    if (alreadyInstalled(d.storage, u)) return;
    offer = u;
    if (mode === "idle") startUpdate();
  };

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
      openVault(d.storage, d.crypto, keys.vault, (verr, v) => {
        vault = v;
        vaultBad = !!verr;
        fn(null, v);
      });
    });
  };
  const journalState = () => {
    if (journal) return journalLine(journal);
    const p = checkJournalPlace(d.flash);
    return p.code ? "not opened: " + p.code + " " + p.message : "no journal";
  };
  // -------------------------------------------------------------- the screens' kit (firmware/screens/kit.ts)
  // made when a screen opens and dropped with it: about 60 JsVars that idle does not hold
  const kit = (): Kit => ({
    d: d,
    cfg: cfg,
    status: status,
    terminalId: terminalId,
    now: now,
    ready: () => (provisioned ? journal : null),
    idle: idle,
    sync: () => sync,
    mode: () => mode,
    go: go,
    busy: busy,
    message: message,
    result: result,
    toIdle: toIdle,
    arm: arm,
    noJournal: noJournal,
    printReceipt: printReceipt,
    activity: activity,
    tries: tries,
    withVault: withVault,
    pay: openPayment,
    invoice: openInvoice,
    reprint: () => {
      if (!last) return result("No receipt yet", Ink.Text, []);
      const r = last;
      const t = r.title;
      r.title = (t || "PAYMENT") + " - COPY";
      const job = receiptJob(r, {});
      r.title = t;
      busy("Printing a copy", ["UTR " + r.utr]);
      d.printer.print(job, (err) => result(err ? "Printer: " + err : "Copy printed", err ? Ink.Alert : Ink.Accent, []));
    },
  });
  const openTech = () =>
    go(
      "tech",
      techScreen(kit(), {
        secrets: secrets,
        // provisioned when the vault (sealed under the secure element's key) holds a PIN or was ever written: never
        // from cfg.json, which a power cut or an attacker can remove
        provisioned: (done) => withVault((e, v) => done(!e && !!v && (vaultBad || !!v.value(TECH_PIN) || v.generation() > 0))),
        journalState: journalState,
      }),
    );

  // -------------------------------------------------------------- input routing
  d.keypad.listen((k) => {
    if (cur) cur.key(k);
  });
  d.scanner.listen((err, code) => {
    // the module's own trouble (a setting, the trigger) is not a scan; a scan that could not be read gets a notice
    if (err === "config" || err === "trigger" || !cur) return;
    if (err || !code) {
      if (cur.notice) cur.notice({ code: "SCAN", message: "Unreadable (" + err + ")" });
      return;
    }
    if (cur.code) cur.code(code.text);
  });
  d.wifi.onChange((s) => {
    if ((s === "connected") !== status.online) activity.add(s === "connected" ? "connect" : "disconnect", "wifi");
    status.online = s === "connected";
    if (mode !== "tech") redrawCurrent();
  });
  d.clock.setInterval(() => {
    if (mode !== "idle") return;
    showIdle();
    // code loaded while idle went on (the records' count after a sync, a paid notice checked at sync, the
    // technician's console) goes too, once idle's own linger is over
    if (!dropTimer && !session && !invoice) dropParts();
  }, STATUS_REFRESH_MS);

  // -------------------------------------------------------------- boot
  message("Starting", Ink.Accent, ["Reading keys and journal"]);
  confirmBoot(d.storage);
  readyKeys(d, (se) => (seBad = se), (err, keys) => {
    if (err || !keys) return go("idle", idleScreen);
    if (!place) {
      journal = new Journal({ pages: d.journal, crypto: d.crypto, keys: keys.journal });
      journal.recover();
      // link orders an older firmware kept in Storage move to their flash pages, once (firmware/app/kept-orders.ts)
      keptOrders(d, true);
    } else activity.add("error", "journal " + place);
    openVault(d.storage, d.crypto, keys.vault, (verr, v) => {
      vault = v;
      vaultBad = !!verr;
      cert = d.storage.read("cert.bin") || null;
      provisioned = !!(terminalId && cert && cert.length === 141);
      // the trust anchors against the vault's digest; a vault from older firmware (a PIN, no digest) takes it once
      const sum = v.value(SETTINGS_SUM);
      if (provisioned && !sum && v.value(TECH_PIN)) v.put(SETTINGS_SUM, settingsSum(cfgDigest(), null), () => {});
      else if (provisioned && !settingsSumHas(sum, cfgDigest())) {
        cfgBad = true;
        activity.add("error", "settings altered");
      }
      activity.add("boot", d.platform.version + (provisioned ? "" : " unprovisioned"));
      syncDay = loadSyncDay(d.storage);
      // after power returns, the bar shows the last sync as the start of its day (a trusted lower bound), not "never"
      if (syncDay >= 0) status.lastSyncMs = syncDay * DAY_MS;
      if (provisioned && syncDay < 0 && time.trusted()) noteSyncDay();
      time.save();
      recount();
      if (provisioned && !cfgBad) startLink();
      toIdle();
    });
  });

  const startLink = () => {
    const sc = readSyncConfig(d.storage);
    if ("code" in sc || !journal) return;
    const so: SyncOptions = {
      device: d,
      journal: journal,
      terminalId: sc.terminalId,
      gatewayUrl: sc.gatewayUrl,
      gatewayKey: sc.gatewayKey,
      networks: sc.networks,
      secrets: secrets,
      firmwareVersion: d.platform.version,
      denyVersion: () => denyList().version,
      onDeny: (version, ids) => {
        // applied at once; a list Storage has no room for is asked for again after a reboot (the saved version)
        const l = (deny = denyListFromBytes(ids, version));
        if (!saveDenyList(d.storage, l)) activity.add("error", "deny list not saved: Storage full");
      },
      onAlert: (e) => activity.add("error", e.code),
      onUpdateOffer: noteOffer,
      // the gateway's notices of invoices paid online (its hello reply's "paid"), one PaidConfirmation each
      onPaid: notePaid,
      keyIds: () => {
        const ids: number[] = [];
        for (const id in cfg.issuerKeys) ids.push(parseInt(id, 10));
        return ids;
      },
      onKeys: noteKeys,
      // orders taken from store links, sent with each upload until the gateway acks or refuses them (docs/orders.md)
      orders: {
        list: () => keptOrders(d).list,
        settled: (r) => {
          const no = keptOrders(d).settle(r);
          for (let i = 0; i < no.length; i++) activity.add("error", "order " + no[i]);
        },
      },
      // The Wi-Fi HAL has one listener and the sync loop takes it: online/offline reach the flows from here.
      onProgress: (p) => {
        if (!sync) return;
        const was = status.sync;
        const note = syncNote(p);
        status.sync = note;
        const changed = sync.state.online !== status.online;
        if (changed) {
          activity.add(sync.state.online ? "connect" : "disconnect", "gateway link");
          status.online = sync.state.online;
        }
        if (p.phase === "done") {
          if (keysUnsaved) saveKeys();
          status.lastSyncMs = now();
          noteSyncDay();
          time.save();
          if (mode !== "pay") recount();
        }
        // the send-now screen says each step; never silently: whatever else is on screen (an open request too) is
        // redrawn with the new status bar
        if (mode === "send" && cur) cur.show();
        else if (changed && mode !== "idle" && mode !== "tech") redrawCurrent();
        else if (mode !== "idle" && mode !== "tech" && mode !== "boot" && (!was || was.bar !== note.bar || (note.bar && was.text !== note.text))) {
          // progress and failures on the status bar of whatever screen is open, the bar alone redrawn
          screen.bar(status, now());
          screen.flip();
        }
        if (mode === "idle") showIdle();
        if (afterSync && (p.phase === "done" || p.phase === "failed" || p.phase === "offline")) afterSync();
      },
    };
    sync = startSync(so);
  };

  return {
    status: status,
    idle: idle,
    mode: () => mode,
    sync: () => sync,
    invoicePaid: notePaid,
  };
}
