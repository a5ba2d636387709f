/**
 * npm run sim -- …: the simulator without a page. Steps run in the order given, on one World (sim/world.ts), and a
 * JSON summary is printed at the end (screen text, paper text, wallets, errors, and what each step produced).
 * Exit code 0 when every step succeeded and the bundle raised no uncaught error, 1 otherwise, 2 on a usage error.
 */
import { mkdirSync, readFileSync, writeFileSync as writeFile } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { runScenario, scenarioList, SCENARIOS } from "./scenarios/index.ts";
import { decodeQrPngBytes } from "./render/qr-decode.ts";
import { loadReferenceGateway, qrPng, World } from "./world.ts";
import { isEspruino, parseEngine } from "./engine/engine.ts";
import { journalView } from "./journal-view.ts";
import { money } from "../gateway/index.ts";
import type { EngineName } from "./engine/engine.ts";

/** Writes an output file, making its folder first (the README's examples write into sim-out/). */
function writeFileSync(path: string, data: Buffer | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFile(path, data);
}

export const USAGE = `npm run sim -- [options] [steps…]

Options:
  --board NAME              board to simulate (default devkit)
  --engine v8|espruino      run the bundle in Node's V8 on simulated time (default), or on the real Espruino
                            interpreter named by ESPRUINO, booted from its Storage, in real time
  --state DIR               keep flash, secure element, issuer and wallets in DIR between runs
                            (default: in memory only, a fresh terminal each run)
  --quiet                   do not echo the device's console lines to stderr
  --no-gateway              run without the reference gateway (by default it is the terminal's HTTP peer
                            when gateway/gateway.ts is in the tree)

Steps (run in order):
  --scenario NAME           run a named scenario (see below)
  --provision               provision the terminal through its technician console (as npm run provision does)
  --keys SEQ                press keypad keys in turn, e.g. 1250#  (keys 0-9 A B C D * #;
                            # Enter, * Cancel, A Menu, B Back, C Clear, D Fn / technician menu)
  --scan-text TEXT          the scanner reads TEXT; the step reports the bytes the GM65 sent ("sent")
  --scan-image FILE.png     the scanner reads the QR code in the image (its bytes, as the module does)
  --wallet NAME             create customer wallet NAME with an offline allowance
  --pay NAME                wallet NAME pays the request QR shown on the terminal's display;
                            the payment QR is kept for --scan-payment and --wallet-qr-png
  --pay-ble NAME            wallet NAME pays over Bluetooth (encrypted session) while the terminal advertises
  --scan-payment            the scanner reads the last payment QR
  --pay-online NAME         wallet NAME pays the invoice QR on the display online (through the gateway) and
                            shows the relayed paid confirmation to the scanner
  --scan-receipt NAME       wallet NAME reads the last printed receipt's QR (checks it, keeps its transaction ID)
  --claim NAME              wallet NAME claims fraud on its last payment at the gateway
  --wallet-qr-png FILE      write the last payment QR as a PNG
  --display-png FILE        write what the display shows as a PNG
  --receipt-png FILE        write the last printed receipt as a PNG
  --paper-png FILE          write the whole paper roll (every printed receipt) as a PNG
  --journal                 report the journal's records (page, seq, state, kind, amount, tag ok) and what the
                            firmware's recovery would find in its flash now (anomalies, a torn tail)
  --wifi on|off             access point in range or not
  --gateway up|down         gateway reachable or not
  --power cut|on|cut-at-next-write
  --paper out|in
  --wait MS                 let the terminal run MS milliseconds
  --until TEXT              run until the display shows TEXT (up to 60 s of device time), e.g. "Receipt printed"
  --fast-forward DURATION   move the clock forward, e.g. 90s, 2h, 3d
  --help                    this text

Scenarios:
${"${scenarios}"}

Output: a JSON summary on stdout (screen text, paper text, printed QR codes, wallets, switches, gateway books,
errors, and each step's result); the device's console lines go to stderr. Exit code 0 when every step succeeded and the firmware raised
no uncaught error, 1 otherwise, 2 on a usage error.

Examples (npm run --silent keeps npm's own lines off stdout, for jq):
  npm run sim -- --scenario offline-payment
  npm run sim -- --keys 1250 --display-png sim-out/amount.png
  npm run sim -- --provision --wifi off --keys 1250# --wallet alice --pay alice --wallet-qr-png sim-out/pay.png \\
                 --scan-image sim-out/pay.png --until "Receipt printed" --receipt-png sim-out/receipt.png
  npm run sim -- --quiet --scan-text "HELLO"
  npm run sim -- --provision --wallet erin --keys A3 --keys 990# --until INVOICE --pay-online erin --until Paid
  npm run --silent sim -- --quiet --provision --wifi off --keys 1250# --wallet carol --pay carol \\
                 --power cut-at-next-write --scan-payment --journal --power on --until Ready --journal | jq '.steps'
`;

/** The usage text with the scenario list filled in. */
export function usage(): string {
  return USAGE.replace("${scenarios}", scenarioList());
}

export interface StepResult {
  step: string;
  ok: boolean;
  detail?: unknown;
  error?: string;
}

function duration(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s);
  if (!m) throw new UsageError(`bad duration "${s}" (e.g. 90s, 2h, 3d)`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] as "ms"];
  return Number(m[1]) * unit;
}

export class UsageError extends Error {}

type Step = { name: string; arg?: string };

const WITH_ARG = ["--until", "--paper-png", "--scenario", "--keys", "--scan-text", "--scan-image", "--wallet", "--pay", "--pay-ble", "--wallet-qr-png", "--display-png", "--receipt-png", "--wifi", "--gateway", "--power", "--paper", "--wait", "--fast-forward"];
const NO_ARG = ["--scan-payment", "--provision", "--journal"];
WITH_ARG.push("--pay-online", "--scan-receipt", "--claim");

export function parse(argv: string[]): { board: string; state: string | null; quiet: boolean; help: boolean; gateway: boolean; engine: EngineName; steps: Step[] } {
  const o = { board: "devkit", state: null as string | null, quiet: false, help: false, gateway: true, engine: "v8" as EngineName, steps: [] as Step[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") o.help = true;
    else if (a === "--quiet") o.quiet = true;
    else if (a === "--no-gateway") o.gateway = false;
    else if (a === "--engine") {
      const v = argv[++i];
      try {
        o.engine = parseEngine(v);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    } else if (a === "--board" || a === "--state") {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === "--board") o.board = v;
      else o.state = v;
    } else if (WITH_ARG.indexOf(a) >= 0) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      o.steps.push({ name: a, arg: v });
    } else if (NO_ARG.indexOf(a) >= 0) o.steps.push({ name: a });
    else throw new UsageError(`unknown option "${a}" (see --help)`);
  }
  return o;
}

function onOff(v: string, on: string, off: string, what: string): boolean {
  if (v === on) return true;
  if (v === off) return false;
  throw new UsageError(`${what} takes ${on} or ${off}, not "${v}"`);
}

/** Runs the steps on a world; every step's result is recorded, and the run stops at the first failed step. */
export async function runSteps(world: World, steps: Step[]): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let lastPayment: string | null = null;
  /** The QR on the panel, waiting up to 5 s of device time for one (a request is signed before it is shown). */
  const shownQr = async (): Promise<string | null> => {
    for (let t = 0; t < 5000 && !world.displayQr(); t += 100) await world.run(100);
    return world.displayQr();
  };
  /** What the scanner module puts on its UART during `fn`, as a (latin1) string: the code, and its tail. */
  const scannerSent = async (fn: () => void): Promise<string> => {
    let sent = "";
    const port = world.board.wiring.scanner.port;
    const stop = world.host.addPartListener((p, b) => {
      if (p === port) sent += Buffer.from(b).toString("latin1");
    });
    try {
      fn();
      // on the interpreter the code is held to the scanner in real time: until then
      if (world.engine === "espruino") await world.run(0);
    } finally {
      stop();
    }
    return sent;
  };
  for (const s of steps) {
    const label = s.arg === undefined ? s.name : `${s.name} ${s.arg}`;
    try {
      const a = s.arg as string;
      let detail: unknown;
      switch (s.name) {
        case "--scenario": {
          if (!SCENARIOS[a]) throw new UsageError(`no scenario "${a}" (scenarios: ${Object.keys(SCENARIOS).join(", ")})`);
          const r = await runScenario(world, a);
          if (!r.ok) throw new Error(`scenario ${a}: ${r.error}`);
          detail = r.result;
          break;
        }
        case "--provision": {
          const p = await world.provision();
          detail = { terminalId: p.terminalId, merchantId: p.merchantId };
          break;
        }
        case "--keys":
          await world.type(a);
          break;
        case "--scan-text":
          detail = { text: a, sent: await scannerSent(() => world.scanText(a)) };
          break;
        case "--scan-image": {
          const code = decodeQrPngBytes(readFileSync(a));
          if (!code) throw new Error(`no QR code found in ${a}`);
          // The code's bytes, as the module reads them (not re-encoded text).
          const sent = await scannerSent(() => world.scanText(code.bytes));
          detail = { text: code.text, sent };
          break;
        }
        case "--wallet":
          await world.wallet(a);
          detail = world.walletInfo(a);
          break;
        case "--pay": {
          // as a customer does: wait (device time, at most 5 s) for the request QR the terminal is making
          const req = await shownQr();
          if (!req) throw new Error("the terminal's display shows no QR code to pay");
          lastPayment = await world.pay(a, req);
          detail = { request: req, payment: lastPayment };
          break;
        }
        case "--pay-online": {
          await shownQr();
          const confirmation = await world.paidConfirmation(a);
          detail = { confirmation, sent: (await scannerSent(() => world.scanText(confirmation))).length + " bytes" };
          break;
        }
        case "--scan-receipt": {
          const w = world.wallets[a];
          if (!w) throw new Error(`no wallet "${a}" (use --wallet ${a} first)`);
          const qrs = world.printedQrs();
          if (!qrs.length) throw new Error("no receipt with a QR code printed yet");
          if (!lastPayment) throw new Error("no payment made yet (use --pay NAME first)");
          const bytes = world.paymentBytes(lastPayment);
          if (!bytes) throw new Error("the last payment is not a protocol message");
          const r = await w.checkReceipt(qrs[qrs.length - 1], bytes);
          detail = { utr: r.utr, txId: r.txId };
          break;
        }
        case "--claim":
          detail = (await world.claimFraud(a)) as unknown as Record<string, unknown>;
          break;
        case "--pay-ble":
          detail = await world.payOverBluetooth(a);
          break;
        case "--journal": {
          const v = journalView(world.host);
          const records = v.pages.flatMap((pg) => pg.records.map((r) => ({ page: pg.page, seq: r.seq, state: r.state, kind: r.kind, amount: r.amountMinor === null ? null : money(r.amountMinor, r.currency ?? 0), authentic: r.authentic })));
          detail = { readable: v.readable, counts: v.counts, tornTail: v.tornTail, anomalies: v.anomalies, records };
          break;
        }
        case "--scan-payment":
          if (!lastPayment) throw new Error("no payment made yet (use --pay NAME first)");
          detail = { sent: (await scannerSent(() => world.scanText(lastPayment as string))).length + " bytes" };
          break;
        case "--wallet-qr-png":
          if (!lastPayment) throw new Error("no payment made yet (use --pay NAME first)");
          writeFileSync(a, qrPng(lastPayment));
          detail = { file: a };
          break;
        case "--display-png":
          writeFileSync(a, world.displayPng());
          detail = { file: a };
          break;
        case "--receipt-png": {
          const all = world.receiptPngs();
          if (!all.length) throw new Error("nothing printed yet");
          writeFileSync(a, all[all.length - 1]);
          detail = { file: a, receipts: all.length };
          break;
        }
        case "--paper-png":
          writeFileSync(a, world.paperPng());
          detail = { file: a };
          break;
        case "--wifi":
          world.setWifi(onOff(a, "on", "off", "--wifi"));
          detail = { wifi: world.host.wifiWorld.enabled };
          break;
        case "--gateway":
          world.setGatewayReachable(onOff(a, "up", "down", "--gateway"));
          break;
        case "--power":
          if (a === "cut") world.powerCut();
          else if (a === "on") world.powerOn();
          else if (a === "cut-at-next-write") world.powerCutAtNextWrite();
          else throw new UsageError(`--power takes cut, on or cut-at-next-write, not "${a}"`);
          detail = { poweredOn: world.host.poweredOn };
          break;
        case "--paper":
          world.setPaperOut(!onOff(a, "in", "out", "--paper"));
          break;
        case "--wait": {
          const ms = Number(a);
          if (!(ms >= 0)) throw new UsageError(`--wait takes milliseconds, not "${a}"`);
          if (world.engine === "espruino") await world.run(ms);
          else world.wait(ms);
          break;
        }
        case "--fast-forward":
          world.fastForward(duration(a));
          detail = { now: new Date(world.now()).toISOString() };
          break;
        case "--until":
          await world.until(`"${a}" on the display`, () => world.screenText().join("\n").indexOf(a) >= 0, 60000);
          break;
      }
      results.push(detail === undefined ? { step: label, ok: true } : { step: label, ok: true, detail });
    } catch (e) {
      if (e instanceof UsageError) throw e;
      results.push({ step: label, ok: false, error: e instanceof Error ? e.message : String(e) });
      break;
    }
  }
  return results;
}

/** Where main() writes: the JSON summary and usage to `out`, the device's console and messages to `err`. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

const PROCESS_IO: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export async function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  let o: ReturnType<typeof parse>;
  try {
    o = parse(argv);
  } catch (e) {
    io.err(`sim: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.help || o.steps.length === 0) {
    io.out(usage());
    return o.help ? 0 : 2;
  }
  let world: World;
  try {
    world = World.open({ board: o.board, stateDir: o.state, engine: o.engine, onPrint: o.quiet ? undefined : (l) => io.err(`[device] ${l}\n`) });
  } catch (e) {
    io.err(`sim: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    return await runWorld(world, o, io);
  } finally {
    await world.close();
  }
}

async function runWorld(world: World, o: ReturnType<typeof parse>, io: CliIo): Promise<number> {
  if (o.gateway) {
    try {
      const g = await loadReferenceGateway(world);
      if (g) world.attachGateway(g);
    } catch (e) {
      io.err(`sim: no gateway: ${(e as Error).message}\n`);
    }
  }
  let steps: StepResult[];
  try {
    steps = await runSteps(world, o.steps);
  } catch (e) {
    io.err(`sim: ${(e as Error).message}\n`);
    return 2;
  }
  world.persist();
  // on the interpreter: its JsVars in use at the end (process.memory(), after garbage collection)
  const h = world.host;
  if (isEspruino(h) && h.poweredOn) await h.memory().catch(() => null);
  const summary = {
    ...world.summary(),
    switches: { wifi: world.host.wifiWorld.enabled, gatewayReachable: world.gatewayReachable, paperOut: world.host.printer.paperOut },
    printedQrs: world.printedQrs(),
    steps,
  };
  io.out(JSON.stringify(summary, null, 2) + "\n");
  const ok = steps.every((s) => s.ok) && world.host.errors.length === 0;
  return ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`sim: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
