/**
 * The flows on the whole device on the real Espruino interpreter: the flashed bundle (dist/devkit.js) booted from
 * the interpreter's Storage by the espruino engine (sim/engine/), provisioned, every part the real driver over the
 * bridged emulator (ATECC608 with its own command times, GM65 at 9600 baud, ESC/POS printer, ST7789 panel, keypad),
 * the phone over the bridged Bluetooth, the reference gateway for the invoice's confirmation.
 *
 * Per flow, milliseconds of device time from the trigger (the scanner's last byte handed to the bundle, the phone's
 * last write, the key) to the first journal write, to the receipt's first byte on the printer's UART and to the
 * result screen's text, as the bridge saw them (each includes the bridge's transfer, well under a millisecond on
 * loopback); and the peak JsVars in use (sampled at every bridged transfer). Idle: JsVars in use once booted and idle
 * (process.memory(), after garbage collection), for the whole device and for the bundle alone (the bridge's own
 * cost, measured by booting the bridge without a bundle, taken off).
 *
 *   ESPRUINO=/path/to/espruino npx tsx bench/device-flows.ts
 */
import { devkitData } from "../boards/devkit-data.ts";
import { PARTS_LINGER_MS } from "../firmware/parts.ts";
import { EspruinoHost } from "../sim/engine/espruino-host.ts";
import { readBoard } from "../sim/host.ts";
import { loadReferenceGateway, World } from "../sim/world.ts";

/** The limits the figures are held to: the peak, and the board's idle budget. */
export const PEAK_LIMIT = 12000;
export const IDLE_LIMIT = devkitData.budget.idleJsVars;
/** The screens issue's targets for the bundle on the device: idle once booted, and what a flow holds at its peak
 *  (after a garbage collection: the live peak, the bridge's own JsVars taken off). */
export const IDLE_TARGET = 5000;
export const LIVE_PEAK_TARGET = 8000;

export interface FlowFigure {
  flow: string;
  journalMs: number | null;
  receiptMs: number | null;
  screenMs: number | null;
  /** JsVars in use at the flow's peak, whole device (bridge included), garbage not yet collected included. */
  peak: number;
  /** The same after a garbage collection: what the flow holds (sim/engine/bridge-prelude.js, `live`). */
  live: number;
}

export interface DeviceFigures {
  /** JsVars in use once booted and idle: the whole device (bundle and bridge), the bridge alone, the bundle. */
  idleWhole: number;
  idleBridge: number;
  idleBundle: number;
  total: number;
  flows: FlowFigure[];
  /** The bundle's JsVars idle again after every flow, once the parts are let go (firmware/parts.ts). */
  idleAfterBundle: number;
  /** The parts still loaded then (the loader's flags, build.ts PARTS): "0,0,0" when all were let go. */
  partsAfter: string;
  errors: string[];
}

const first = (xs: number[], after: number) => {
  const x = xs.find((t) => t >= after);
  return x === undefined ? null : x;
};

/** JsVars in use by the bridge alone (the interpreter with `.boot0` and no bundle), after garbage collection. */
async function bridgeOnly(bin: string): Promise<number> {
  const { board } = readBoard("devkit");
  const h = new EspruinoHost({ board, bundle: "", bin, maxLifetimeS: 120 });
  try {
    h.boot();
    await h.ready();
    await h.runFor(500);
    return (await h.memory()).usage;
  } finally {
    await h.close();
  }
}

/** The parts loaded now (the loader's flags, build.ts PARTS): "0,0,0" when none is; "none" in a bundle without parts. */
export async function partsLoaded(h: Pick<World["host"], "evalInDevice">): Promise<string> {
  const r = await h.evalInDevice("(function(){if(typeof __PL=='undefined')return 'none';var s=[];for(var i=0;i<__PL.length;i++)s.push(__PL[i]);return s.join(',');})()");
  return r.ok ? String(r.value) : "? " + JSON.stringify(r);
}

export async function measureDevice(bin: string, log: (s: string) => void = () => {}): Promise<DeviceFigures> {
  const idleBridge = await bridgeOnly(bin);
  const w = World.open({ engine: "espruino", espruino: bin, stateDir: null });
  try {
    const h = w.host as EspruinoHost;
    const g = await loadReferenceGateway(w);
    if (!g) throw new Error("the reference gateway is not in the tree");
    w.attachGateway(g);
    await w.provision();
    w.setWifi(false);
    await w.until("the idle screen", () => w.screenText().includes("Ready"), 60000);
    await w.run(2000);
    const idle = await h.memory();
    log(`    booted and idle: ${idle.usage} JsVars in use (bridge alone ${idleBridge})`);
    const flows: FlowFigure[] = [];
    const screen = () => w.screenText().join("\n");
    const qr = async (letter: string) => {
      for (let t = 0; t < 30000; t += 250) {
        const q = w.displayQr();
        // an invoice's QR is the gateway's pay URL (<gateway>/pay#…) when a gateway URL is provisioned, else "I1…"
        if (q && (q.charAt(0) === letter || (letter === "I" && q.indexOf("/pay#") > 0))) return q;
        await w.run(250);
      }
      throw new Error(`no "${letter}" QR on the panel; screen: ${w.screenText().join(" | ")}`);
    };
    const toIdle = async () => {
      await w.until("the result", () => !/Printing|Checking|Signing/.test(screen()), 60000);
      if (!w.screenText().includes("Ready")) await w.type("*");
      await w.until("idle", () => w.screenText().includes("Ready"), 30000);
    };
    /** Arm, run the trigger, wait for `done` on screen, and time it from the trigger `at` picks. */
    const timed = async (flow: string, trigger: () => Promise<void> | void, done: RegExp, at: (m: EspruinoHost["marks"]) => number | undefined) => {
      await h.memory({ resetPeak: true, live: true });
      h.clearMarks();
      await trigger();
      await w.until(flow, () => done.test(screen()), 60000);
      const m = h.marks;
      const t0 = at(m);
      if (t0 === undefined) throw new Error(flow + ": no trigger was recorded");
      // a flow that journals also sends a receipt: its first byte may follow the result screen
      if (m.journal.some((t) => t >= t0)) {
        const out = flow.startsWith("3") ? m.notify : m.printer;
        await w.until(flow + ": the receipt's first byte", () => out.some((t) => t >= t0), 30000);
      }
      const shown = m.texts.find((x) => x.t >= t0 && done.test(x.text));
      const since = (t: number | null | undefined) => (t === null || t === undefined ? null : Math.round((t - t0) * 10) / 10);
      const { peak, live } = await h.memory({ gc: false });
      const f: FlowFigure = { flow, journalMs: since(first(m.journal, t0)), receiptMs: since(first(flow.startsWith("3") ? m.notify : m.printer, t0)), screenMs: since(shown ? shown.t : null), peak, live };
      flows.push(f);
      log(`    ${flow}: journal ${f.journalMs} ms, receipt ${f.receiptMs} ms, screen ${f.screenMs} ms, peak ${f.peak}, live ${f.live}`);
    };
    const lastScan = (m: EspruinoHost["marks"]) => m.scanEnds[m.scanEnds.length - 1];
    const lastKey = (m: EspruinoHost["marks"]) => m.keys[m.keys.length - 1];

    // flow 1: the customer presents a QR
    await w.type("1250#");
    const pay1 = await w.pay("alice", await qr("R"));
    await timed("1 customer QR: scan -> journal / receipt / Paid", () => w.scanText(pay1), /Paid/, lastScan);
    await toIdle();

    // flow 4: an order from the store's system, then its payment
    await timed("4 order QR: scan -> order on screen", () => w.scanText(w.orderQr("ORD-1", 2599)), /Order ORD-1/, lastScan);
    await w.type("#");
    const pay4 = await w.pay("bob", await qr("R"));
    await timed("4 order's payment: scan -> journal / receipt / Paid", () => w.scanText(pay4), /Paid/, lastScan);
    await toIdle();
    // a store's pay-api link (docs/orders.md): its order kept on flash as # opens the payment
    await timed("4 order link: scan -> order on screen", () => w.scanText(w.orderLink("ORD-2", 1999, "https://shop.example/orders/2/paid")), /Order ORD-2/, lastScan);
    await timed("4 order link: # -> kept, request QR", () => w.type("#"), /show your code/, lastKey);
    await qr("R");
    await w.type("C");
    await toIdle();

    // flow 2: an invoice, paid at the gateway, its confirmation scanned from the phone
    await w.type("3000A3");
    await qr("I");
    const conf = await w.paidConfirmation("carol");
    await timed("2 invoice: confirmation scanned -> journal / receipt / Paid", () => w.scanText(conf), /Paid/, lastScan);
    await toIdle();

    // flow 3: Bluetooth (receipt: the first notification to the phone after the payment's last write)
    await w.type("990#");
    await w.until("advertising", () => !!h.ble.advertising && w.displayQr() !== null, 20000);
    await timed(
      "3 Bluetooth: payment's last write -> journal / receipt to phone / Paid",
      async () => {
        await w.payOverBluetooth("dana", 60000);
      },
      /Paid/,
      (m) => {
        const j = m.journal[0];
        const before = m.bleWrites.filter((t) => j === undefined || t <= j);
        return before[before.length - 1];
      },
    );
    await toIdle();

    // flow 5: refund menu behind the PIN, then a void of the newest payment
    await timed("5 refund: PIN # -> transaction list", () => w.type("A41357#"), /which payment/, lastKey);
    await w.type("1");
    await w.until("the void offer", () => /# void/.test(screen()), 10000);
    await timed("5 void: # -> journal / receipt / Voided", () => w.type("#"), /Voided/, lastKey);
    await toIdle();

    // idle again: the flows' code goes PARTS_LINGER_MS into idle
    await w.run(PARTS_LINGER_MS + 2000);
    const after = await h.memory();
    const partsAfter = await partsLoaded(h);
    return { idleWhole: idle.usage, idleBridge, idleBundle: idle.usage - idleBridge, total: idle.total, flows, idleAfterBundle: after.usage - idleBridge, partsAfter, errors: h.errors.slice() };
  } finally {
    await w.close();
  }
}

/** The figures as a table, with the limits they are held to. */
export function report(f: DeviceFigures): string[] {
  const out: string[] = [];
  const peak = Math.max(...f.flows.map((x) => x.peak));
  const live = Math.max(...f.flows.map((x) => x.live));
  out.push(`  whole device on the interpreter (espruino engine, code in Storage, parts bridged; the secure element's command times included)`);
  out.push(`    idle: ${f.idleWhole} JsVars in use (of ${f.total}); the bridge alone ${f.idleBridge}; the bundle ${f.idleBundle} (limit ${IDLE_LIMIT}, boards/devkit-data.ts; target ${IDLE_TARGET})`);
  out.push("    " + "flow (from the trigger)".padEnd(66) + "journal ms".padStart(11) + "receipt ms".padStart(11) + "screen ms".padStart(10) + "peak JsVars".padStart(12) + "live".padStart(7) + "bundle live".padStart(12));
  const n = (x: number | null) => (x === null ? "-" : String(x));
  for (const x of f.flows) out.push("    " + x.flow.padEnd(66) + n(x.journalMs).padStart(11) + n(x.receiptMs).padStart(11) + n(x.screenMs).padStart(10) + String(x.peak).padStart(12) + String(x.live).padStart(7) + String(x.live - f.idleBridge).padStart(12));
  out.push(`    idle again after every flow, ${PARTS_LINGER_MS / 1000} s on: the bundle ${f.idleAfterBundle} (limit ${IDLE_LIMIT}); parts still loaded: ${f.partsAfter}`);
  out.push(`    peak in any flow, garbage not yet collected included: ${peak} (limit ${PEAK_LIMIT}); after collection ${live}, the bundle's ${live - f.idleBridge} (target ${LIVE_PEAK_TARGET})`);
  out.push(`    peak of the whole device in any flow: ${peak} (limit ${PEAK_LIMIT}); idle of the bundle ${f.idleBundle} (limit ${IDLE_LIMIT}): ${peak <= PEAK_LIMIT && f.idleBundle <= IDLE_LIMIT ? "within" : "OVER"}`);
  return out;
}
