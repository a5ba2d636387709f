/**
 * Time and JsVars of the terminal's flows on a real Espruino interpreter (ESPRUINO=/path/to/espruino): the very
 * terminal application (firmware/app/terminal.ts), built by the firmware's pipeline, over a bench device whose
 * secure element answers at once (its command times are the part's, not the interpreter's: issue 5 leaves them
 * out), a journal on the interpreter's flash, Storage, crypto and timers of the interpreter, and a display canvas
 * that only records text (drawing is the panel driver's, not measured here). Scanner and keypad are driven from
 * the script; the printer records when the receipt's first byte would go out.
 *
 *   ESPRUINO=/path/to/espruino npx tsx bench/flows.ts
 *
 * Per flow: milliseconds from the trigger (the scanner's last byte, the key, or the phone's last frame) to the
 * first journal write and to the receipt handed to the printer (flow 3: notified to the phone), and the peak JsVars
 * in use (no garbage collection forced while a flow runs, so an upper bound; sampled at every device call). Target (issue 5): flow 1 within 60 ms on x86, peak <= 12,000.
 *
 * Flow 3 (Bluetooth): the terminal's real Bluetooth driver (hal/espruino/ble.ts) over an NRF that the probe
 * emulates (the Linux build has none), its BleSession and PaySession. The phone is a central in that emulation
 * replaying frames made here in Node with WebCrypto (bench/ble-phone.ts): a HELLO with a fresh P-256 key, then,
 * once the terminal's ACCEPT and Request went out, its Payment sealed under the session's w2t keys. The bench
 * secure element is deterministic (session key, ECDH secret), which lets the phone's keys be made ahead; every
 * notification the terminal sent is checked here afterwards with the wallet SDK's unseal (sdk/ble.ts): the
 * ACCEPT, the Request (seq 1, the amount keyed) and the Receipt (seq 2, bound to the payment). Flow 3's receipt
 * time is the receipt's first frame notified to the phone; the signatures are the bench element's and are not
 * checked.
 */
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../build.ts";
import { fromHex, toHex } from "../protocol/codec/hex.ts";
import { encodeEntry } from "../protocol/entry.ts";
import { decodeAllowance, encodeOrder, encodePayment } from "../protocol/messages.ts";
import { toQrText } from "../protocol/qr.ts";
import { Issuer } from "../gateway/issuer.ts";
import { interpreter, runFromStorage } from "../test/espruino/interpreter.ts";
import { BLE_AMOUNT, checkTerminalFrames, frameLens, phoneFrames } from "./ble-phone.ts";
import { IDLE_LIMIT, measureDevice, PEAK_LIMIT, report } from "./device-flows.ts";

const TERMINAL = 7;
const MERCHANT = 42;
const EUR = 978;
const DAY = 86400000;
/** The bench's secure element numbers transactions from here (counter 0). */
const FIRST_TX = 100;

/** Journal pages on the interpreter's flash, and records already pending in the second run. */
const PAGES = 40;
const FILL = 300;

async function main(): Promise<void> {
  console.log("flows bench: the terminal application on the Espruino interpreter");
  const bin = interpreter();
  if (!bin) {
    console.log("  skipped: set ESPRUINO=/path/to/espruino (a Linux build of Espruino) to measure the flows");
    return;
  }
  if (await run(bin, 0)) await run(bin, FILL);
  // the whole device: the flashed bundle booted from Storage with every part bridged (sim/engine/)
  const f = await measureDevice(bin, (l) => console.log(l));
  for (const l of report(f)) console.log(l);
  const peak = Math.max(...f.flows.map((x) => x.peak));
  if (f.errors.length) console.log("    the device reported: " + f.errors.join(" | "));
  if (peak > PEAK_LIMIT || f.idleBundle > IDLE_LIMIT || f.errors.length) process.exitCode = 1;
}

async function run(bin: string, fill: number): Promise<boolean> {
  const now = Date.now();
  const today = Math.floor(now / DAY);
  const issuer = Issuer.generate(1);
  const cert = issuer.issueTerminalCert({ terminalId: TERMINAL, merchantId: MERCHANT, terminalPub: new Uint8Array(64).fill(9), expiryDay: today + 365 });
  const allowance = decodeAllowance(issuer.issueAllowance({ walletPub: new Uint8Array(64).fill(5), capMinor: 50000, currency: EUR, expiryDay: today + 30, startCounter: 1 }))!;
  // the bench's secure element says every signature is valid: the wallet's is left out, as the part checks it
  const payment = (counter: number) => toQrText(encodePayment({ allowance, counter, walletSig: new Uint8Array(64).fill(1) }));
  const orderKey = new Uint8Array(32).fill(0x4f);
  const order = encodeOrder({ merchantId: MERCHANT, orderRef: "ORD-1", amountMinor: 2599, currency: EUR, expires: Math.floor(now / 1000) + 3600, tag: new Uint8Array(16) });
  order.set(createHmac("sha256", orderKey).update(order.subarray(0, 28)).digest().subarray(0, 16), 28);
  // flow 1 takes tx FIRST_TX + 1, flow 4's payment + 2, flow 2's invoice + 3
  const paid = issuer.signPaid({ terminalId: TERMINAL, invoiceNo: FIRST_TX + 3, amountMinor: 3000, currency: EUR, paidAt: Math.floor(now / 1000), method: 1, paymentRef: new Uint8Array(8).fill(3) });
  const cfg = { terminalId: String(TERMINAL), merchantName: "Bench Cafe", currency: "EUR", gatewayUrl: "https://pay.example.com", merchantId: MERCHANT, issuerKeys: { "1": toHex(issuer.publicKey) } };
  // pending records of amount 0 already in the journal (a request header, another wallet's payment)
  const request = new Uint8Array(88);
  request[0] = 1;
  request[1] = 0x10;
  // flow 3: the phone's writes, made here (bench/ble-phone.ts); wallet counter 3 (flows 1 and 4 used 1 and 2)
  const blePayment = encodePayment({ allowance, counter: 3, walletSig: new Uint8Array(64).fill(1) });
  const phone = await phoneFrames(blePayment);
  const filler = encodeEntry({ kind: 1, txId: new Uint8Array(8), method: 1, request, payment: encodePayment({ allowance: { ...allowance, walletPub: new Uint8Array(64).fill(6) }, counter: 9, walletSig: new Uint8Array(64) }), orderRef: "" });
  const entry = `
import { startTerminal } from "./firmware/app/terminal.ts";
import { Journal } from "./firmware/journal/journal.ts";
import { deriveStorageKeys } from "./firmware/keys.ts";
import { openVault, hashPin } from "./firmware/vault.ts";
import { fromHex, ascii, toHex } from "./protocol/codec/hex.ts";
import { ble } from "./hal/espruino/ble.ts";
import { builtinCrypto } from "./hal/espruino/crypto.ts";
import { clock } from "./hal/espruino/clock.ts";
import { storage } from "./hal/espruino/storage.ts";
import { flashPages } from "./hal/espruino/flash-pages.ts";
declare const getTime: any, process: any, print: any, quit: any, require: any, global: any;
let peak = 0;
const sample = () => { const u = process.memory(false).usage; if (u > peak) peak = u; };
let tJournal = 0, tPrint = 0, tNotify = 0, armed = false;
let drawn: string[] = [];
const c = clock();
const crypto = builtinCrypto();
const st = storage();
// the journal's pages at the end of the interpreter's fake flash (Storage's files stay at its start); a
// journal page spans several of the Linux build's smaller flash pages, each erased
const F = require("Flash");
const area = F.getFree()[0];
const base = area.addr + area.length - ${PAGES} * 4096;
const pages = flashPages({ address: base, pageSize: 4096, pageCount: ${PAGES} }, {
  read: (n: number, a: number) => F.read(n, a),
  write: (d: Uint8Array, a: number) => F.write(d, a),
  erasePage: (a: number) => { for (let x = a; x < a + 4096; x += F.getPage(x).length) F.erasePage(x); },
});
const journal = { pageSize: pages.pageSize, pageCount: pages.pageCount,
  read(p: number, o: number, l: number) { sample(); return pages.read(p, o, l); },
  write(p: number, o: number, d: Uint8Array) { sample(); if (armed && !tJournal) tJournal = getTime(); pages.write(p, o, d); },
  erase(p: number) { pages.erase(p); } };
let tx = ${FIRST_TX};
const later = (fn: () => void) => { sample(); setTimeout(fn, 0); };
const secure = {
  info(d: any) { later(() => d(null, new Uint8Array([0, 0, 0x60, 2]))); },
  random(d: any) { later(() => d(null, new Uint8Array(32).fill(7))); },
  sign(_s: number, _h: Uint8Array, d: any) { later(() => d(null, new Uint8Array(64).fill(2))); },
  verify(_h: Uint8Array, _s: Uint8Array, _k: Uint8Array, d: any) { later(() => d(null, true)); },
  counter(id: number, inc: boolean, d: any) { later(() => d(null, id === 0 ? (inc ? ++tx : tx) : 1)); },
  publicKey(_s: number, d: any) { later(() => d(null, new Uint8Array(64).fill(9))); },
  ecdh(_s: number, _p: Uint8Array, d: any) { later(() => d(null, new Uint8Array(32).fill(0x33))); },
};
// NRF as the terminal's Bluetooth driver sees it, with the phone as the central: the driver publishes the service
// and advertises, the phone connects and writes FFF2, the terminal's notifications of FFF1 are recorded whole
// (in one preallocated buffer, checked in Node afterwards) and counted by message (a frame with the last bit)
const nrfOn: any = {};
let nrfServices: any = null, advName = "", advertising = false, linked = false;
// (flow 3's buffers are made when it starts, so the other flows' figures do not carry them)
let bleOut: Uint8Array = new Uint8Array(0);
let bleOutLen = 0, bleMsgs = 0;
global.NRF = {
  on(ev: string, f: any) { nrfOn[ev] = f; },
  setServices(s: any, _o: any) { nrfServices = s; },
  setAdvertising(_d: any, o: any) { advName = o.name; },
  updateServices(u: any) {
    sample();
    if (armed && !tNotify) tNotify = getTime();
    const v = u.FFF0.FFF1.value;
    if (bleOutLen + v.length <= bleOut.length) bleOut.set(v, bleOutLen);
    bleOutLen += v.length;
    if (v[0] & 0x40) bleMsgs++;
  },
  disconnect() { if (linked) { linked = false; setTimeout(() => { if (nrfOn.disconnect) nrfOn.disconnect(19); }, 0); } },
  sleep() { advertising = false; },
  wake() { advertising = true; },
};
const canvas: any = {};
["clear", "setColor", "setBgColor", "fillRect", "clearRect", "drawRect", "drawLine", "setPixel", "setFont", "setFontAlign", "drawImage"].forEach((m) => (canvas[m] = () => canvas));
canvas.drawString = (t: string) => { drawn.push(t); return canvas; };
canvas.stringWidth = (t: string) => t.length * 6;
canvas.getWidth = () => 240; canvas.getHeight = () => 240;
let onKey: any = null, onCode: any = null;
const device: any = {
  board: "bench",
  platform: { lockDown() {}, openConsole() {}, closeConsole() {}, memory: () => process.memory(), version: "bench", reboot() {} },
  clock: c, storage: st, journal: journal, crypto: crypto, secure: secure,
  display: { width: 240, height: 240, paint(_a: number, _b: number, draw: any) { draw(canvas, 0); sample(); }, power() {} },
  keypad: { listen(f: any) { onKey = f; } },
  scanner: { listen(f: any) { onCode = f; }, trigger() {} },
  printer: { print(_job: Uint8Array, done: any) { sample(); if (armed && !tPrint) tPrint = getTime(); setTimeout(() => done(null), 5); }, status(d: any) { d("ready"); } },
  ble: ble(),
  wifi: { connect(_s: string, _p: string, d: any) { d("bench: no Wi-Fi"); }, disconnect() {}, state: () => "off", onChange() {} },
  http: { request(_r: any, d: any) { d("bench: no network"); } },
};
st.write("cfg.json", ascii(${JSON.stringify(JSON.stringify(cfg))}));
st.write("cert.bin", fromHex("${toHex(cert)}"));
const seen = (t: string) => { for (let i = 0; i < drawn.length; i++) if (drawn[i].indexOf(t) >= 0) return true; return false; };
const waitFor = (t: string, then: () => void) => {
  const t0 = getTime();
  const iv = setInterval(() => {
    if (seen(t)) { clearInterval(iv); then(); }
    else if (getTime() - t0 > 20) { clearInterval(iv); print("FAIL waiting for " + t + ": " + drawn.slice(-8).join(" / ")); quit(); }
  }, 2);
};
const keys = (s: string) => { for (let i = 0; i < s.length; i++) onKey(s.charAt(i)); };
let t0 = 0;
const arm = () => { drawn = []; process.memory(); peak = 0; sample(); tJournal = 0; tPrint = 0; tNotify = 0; armed = true; t0 = getTime(); };
const ms = (t: number) => (t ? ((t - t0) * 1000).toFixed(1) : "-");
const report = (name: string, tReceipt?: number) => { const tEnd = getTime(); armed = false; print("FLOW " + name + " " + ms(tJournal) + " " + ms(tReceipt === undefined ? tPrint : tReceipt) + " " + ms(tEnd) + " " + peak); };
const scan = (text: string) => onCode(null, { text: text });
const back = (then: () => void) => waitFor("Any key", () => { keys("*"); drawn = []; setTimeout(then, 50); });

const flow1 = (next: () => void) => {
  drawn = []; keys("1250#");
  waitFor("Scan, then show", () => { arm(); scan(${JSON.stringify(payment(1))}); waitFor("Receipt printed", () => { report("1"); back(next); }); });
};
const flow4 = (next: () => void) => {
  arm(); scan(${JSON.stringify(toQrText(order))});
  waitFor("Order ORD-1", () => {
    report("4a");
    keys("#");
    waitFor("Scan, then show", () => { arm(); scan(${JSON.stringify(payment(2))}); waitFor("Receipt printed", () => { report("4b"); back(next); }); });
  });
};
const flow2 = (next: () => void) => {
  drawn = []; keys("3000A3");
  waitFor("Pay online", () => { arm(); scan(${JSON.stringify(toQrText(paid))}); waitFor("Receipt printed", () => { report("2"); back(next); }); });
};
// the phone writes one frame per turn of the event loop, as separate BLE writes arrive; beforeLast() runs just
// before the last frame is written
const phoneWrite = (frames: Uint8Array, lens: number[], beforeLast: () => void, then: () => void) => {
  let i = 0, off = 0;
  const step = () => {
    if (i === lens.length - 1) beforeLast();
    const f = new Uint8Array(frames.subarray(off, off + lens[i]));
    off += lens[i]; i++;
    nrfServices.FFF0.FFF2.onWrite({ data: f.buffer });
    if (i < lens.length) setTimeout(step, 0); else then();
  };
  setTimeout(step, 0);
};
const waitMsgs = (n: number, then: () => void) => {
  const t0 = getTime();
  const iv = setInterval(() => {
    if (bleMsgs >= n) { clearInterval(iv); then(); }
    else if (getTime() - t0 > 20) { clearInterval(iv); print("FAIL waiting for " + n + " Bluetooth messages: " + bleMsgs + " / " + drawn.slice(-8).join(" / ")); quit(); }
  }, 2);
};
const flow3 = (next: () => void) => {
  const hello = fromHex("${toHex(phone.hello)}") as Uint8Array;
  const pay = fromHex("${toHex(phone.pay)}") as Uint8Array;
  bleOut = new Uint8Array(1024);
  drawn = []; keys("${BLE_AMOUNT}#");
  waitFor("Scan, then show", () => {
    const svc = nrfServices && nrfServices.FFF0;
    if (!advertising || advName !== "PAY ${TERMINAL}" || !svc || !svc.FFF1 || !svc.FFF1.notify || !svc.FFF2 || !svc.FFF2.onWrite) { print("FAIL the terminal does not advertise its payment service"); return quit(); }
    bleOutLen = 0; bleMsgs = 0; tPrint = 0;
    linked = true; nrfOn.connect("12:34:56:78:9a:bc");
    phoneWrite(hello, ${JSON.stringify(frameLens(phone.hello))}, arm, () => waitMsgs(2, () => {
      report("3a");
      phoneWrite(pay, ${JSON.stringify(frameLens(phone.pay))}, arm, () => waitFor("Receipt printed", () => {
        const tp = tPrint;
        report("3b", tNotify);
        print("PRINTED " + ms(tp));
        print("BLE " + toHex(new Uint8Array(bleOut.buffer, 0, Math.min(bleOutLen, bleOut.length))));
        back(next);
      }));
    }));
  });
};
const flow5 = (next: () => void) => {
  drawn = []; keys("A41357");
  arm(); keys("#");
  waitFor("which payment", () => {
    report("5a");
    keys("1");
    waitFor("# void", () => { arm(); keys("#"); waitFor("Receipt printed", () => { report("5b"); back(next); }); });
  });
};

deriveStorageKeys(secure as any, crypto, (err: any, k: any) => {
  if (err || !k) { print("FAIL keys " + err); return quit(); }
  const pre = new Journal({ pages: journal, crypto: crypto, keys: k.journal });
  pre.recover();
  const filler = fromHex("${toHex(filler)}");
  for (let i = 0; i < ${fill}; i++) {
    filler[8] = i & 255; filler[7] = i >> 8;
    const r: any = pre.append(filler);
    if (r.code) { print("FAIL fill " + r.code); return quit(); }
  }
  openVault(st, crypto, k.vault, (_e: any, v: any) => {
    v.put("order.${MERCHANT}", fromHex("${toHex(orderKey)}"), () => {
      v.put("pin.merchant", hashPin(crypto, new Uint8Array(16).fill(4), "1357"), () => {
        const boot = getTime();
        startTerminal(device);
        waitFor("Ready", () => {
          print("BOOT " + ((getTime() - boot) * 1000).toFixed(0) + " " + process.memory().usage + " " + process.memory().total);
          flow1(() => flow4(() => flow2(() => flow5(() => flow3(() => { print("DONE"); quit(); })))));
        });
      });
    });
  });
});
`;
  const dir = mkdtempSync(join(tmpdir(), "flows-bench-"));
  const file = join(dir, "flows.js");
  writeFileSync(file, await compile(entry, "flows-bench.entry.ts", ["crypto", "Storage", "Flash"]));
  // stored as .bootcde and evaluated from Storage, as on the device (code stays in flash)
  const r = await runFromStorage(bin, file, { timeoutMs: 300000 });
  const rows = r.lines.filter((l) => l.startsWith("FLOW "));
  const bootLine = r.lines.find((l) => l.startsWith("BOOT "));
  if (!r.lines.includes("DONE") || r.errors.length) {
    console.log(`  interpreter, ${fill} records pending: did not finish; it printed: ` + r.lines.slice(-8).join(" | ").slice(0, 600));
    process.exitCode = 1;
    return false;
  }
  const names: Record<string, string> = {
    "1": "1 customer QR: scan -> journal / receipt",
    "4a": "4 order QR: scan -> order on screen",
    "4b": "4 order's payment: scan -> journal / receipt",
    "2": "2 invoice: confirmation scanned -> journal / receipt",
    "5a": "5 refund: PIN # -> transaction list",
    "5b": "5 void: # -> journal / receipt",
    "3a": "3 Bluetooth: HELLO -> session open, request sent",
    "3b": "3 Bluetooth: payment's last frame -> journal / receipt",
  };
  console.log(`  interpreter (${bin}), journal of ${PAGES} pages with ${fill} records pending before the flows; secure element answers at once (its command time excluded)`);
  if (bootLine) {
    const [, ms, used, total] = bootLine.split(" ");
    console.log(`    boot to idle: ${ms} ms, JsVars in use at idle ${used} (of ${total})`);
  }
  console.log("    " + "flow (from the trigger)".padEnd(52) + "journal ms".padStart(11) + "receipt ms".padStart(11) + "screen ms".padStart(10) + "peak JsVars".padStart(12));
  for (const row of rows) {
    const [, id, j, p, end, peak] = row.split(" ");
    console.log("    " + (names[id] || id).padEnd(52) + j.padStart(11) + p.padStart(11) + end.padStart(10) + peak.padStart(12));
  }
  console.log("    (screen ms: until the next screen's text was seen, polled every 2 ms; after a receipt, its result screen)");
  const f1 = rows.find((l) => l.split(" ")[1] === "1");
  if (f1) {
    const [, , j, p, , peak] = f1.split(" ");
    const ok = Number(j) <= 60 && Number(p) <= 60 && Number(peak) <= 12000;
    console.log(`    target (issue 5): flow 1 journal and receipt within 60 ms, peak <= 12,000 JsVars: ${ok ? "met" : "NOT met"}`);
  }
  const printed = r.lines.find((l) => l.startsWith("PRINTED "));
  console.log(`    (flow 3: receipt ms is the receipt's first frame notified to the phone; the printer got it at ${printed ? printed.split(" ")[1] : "?"} ms; the 3a row's screen ms is until the request's last frame went out)`);
  const bleLine = r.lines.find((l) => l.startsWith("BLE "));
  const bad = bleLine
    ? await checkTerminalFrames(fromHex(bleLine.slice(4)) ?? new Uint8Array(0), phone.t2w, { cert, terminalId: TERMINAL, amountMinor: BLE_AMOUNT, payment: blePayment })
    : "the probe recorded no Bluetooth notifications";
  if (bad) {
    console.log("    flow 3: the terminal's Bluetooth answers are wrong: " + bad);
    process.exitCode = 1;
    return false;
  }
  console.log("    flow 3: the phone read ACCEPT, the request and the receipt in the session (unsealed in Node, amount and payment hash checked)");
  return true;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
