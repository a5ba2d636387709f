/**
 * What the printer sends on its UART reaches the bundle on the espruino engine as it does on the device
 * (sim/engine/bridge-prelude.js, sim/engine/espruino-host.ts):
 * - the emulated parts' clocks start at power-on, so a simulator process that has already run for a long time (a
 *   whole CI run before the interpreter suites) does not leave the printer in its boot time, ignoring every byte:
 *   that is how a CI run lost the customer-QR payment's receipt (journaled, the status unanswered, "offline");
 * - bytes that arrived while the bundle was busy in an event reach `on("data")` before a timer that expired
 *   meanwhile, because the interpreter's idle loop hands IO events over before it runs timers (Espruino's
 *   src/jsinteractive.c, jsiIdle); a socket is read after the timers, which turned the printer's prompt answer to
 *   DLE EOT into the driver's 300 ms timeout.
 * - the secure element runs on the bundle's clock: an I2C transfer waits for the simulator, and that wait is not
 *   time on the chip (a busy simulator let the part's 1.3 s watchdog run out between a wake and its read).
 * Skips without ESPRUINO.
 */
import assert from "node:assert/strict";
import sinon from "sinon";
import { espruinoBin } from "../../sim/engine/engine.ts";
import { EspruinoHost } from "../../sim/engine/espruino-host.ts";
import { readBoard } from "../../sim/host.ts";

/** The printer's UART set up; `ask(busyMs)` asks DLE EOT 1 with a 300 ms timeout, then stays busy for busyMs. */
function asker(p: { port: number; tx: string; rx: string; baud: number }): string {
  const u = "Serial" + p.port;
  return `
var fired = false, got = false;
${u}.setup(${p.baud}, { tx: new Pin("${p.tx}"), rx: new Pin("${p.rx}") });
${u}.on("data", function (d) {
  if (got) return;
  got = true;
  console.log("REPLY " + d.charCodeAt(0) + (fired ? " after" : " before") + " the timeout");
});
function ask(busyMs) {
  setTimeout(function () { fired = true; console.log("TIMEOUT " + (got ? "after" : "before") + " the reply"); }, 300);
  ${u}.write([0x10, 0x04, 1]);
  var end = getTime() + busyMs / 1000;
  while (getTime() < end);
}
`;
}

describe("the espruino engine's bridge: the printer and the secure element answer the bundle as on the device (ESPRUINO=...)", function () {
  this.timeout(60000);
  let h: EspruinoHost | null = null;

  before(function () {
    if (!espruinoBin()) {
      console.log("      skipped: ESPRUINO is unset");
      this.skip();
    }
  });

  afterEach(async () => {
    sinon.restore();
    if (h) await h.close();
    h = null;
  });

  const boot = async (): Promise<EspruinoHost> => {
    const { board } = readBoard("devkit");
    h = new EspruinoHost({ board, bundle: asker(board.wiring.printer), bin: espruinoBin()!, maxLifetimeS: 60 });
    h.boot();
    await h.ready();
    return h;
  };
  const answers = async (host: EspruinoHost): Promise<string[]> => {
    const of = () => host.output.filter((l) => /^(REPLY|TIMEOUT)/.test(l));
    for (let t = 0; t < 10000 && of().length < 2; t += 100) await host.runFor(100);
    return of();
  };

  it("answers DLE EOT a second after power-on, in a simulator process that has run for an hour", async () => {
    const real = performance.now.bind(performance);
    sinon.stub(performance, "now").callsFake(() => real() + 3600000);
    const host = await boot();
    await host.runFor(1000); // past the printer's 500 ms boot time, counted from power-on
    await host.evalInDevice("ask(0)");
    assert.deepEqual(await answers(host), ["REPLY 18 before the timeout", "TIMEOUT after the reply"], host.output.join(" | "));
    assert.equal(host.printer.droppedBytes, 0, "no byte fell into the printer's boot time");
    assert.deepEqual(host.errors, []);
  });

  it("clocks the secure element by the bundle's time: a simulator busy between a wake and its read does not let the part's watchdog run out", async () => {
    const { board } = readBoard("devkit");
    const se = board.wiring.secure;
    const bundle = `
I2C1.setup({ scl: new Pin("${se.scl}"), sda: new Pin("${se.sda}"), bitrate: 100000 });
function wakeAndRead() {
  try { I2C1.writeTo(0, [0]); } catch (e) {} // the wake pulse: nobody answers address 0
  setTimeout(function () {
    try { var r = I2C1.readFrom(${se.address}, 4); console.log("WOKE " + [r[0], r[1], r[2], r[3]].join(",")); }
    catch (e) { console.log("NACK"); }
  }, 2);
}`;
    h = new EspruinoHost({ board, bundle, bin: espruinoBin()!, maxLifetimeS: 60 });
    const host = h;
    // the simulator stays busy for 1.5 s (a test decoding the panel, a loaded machine) right after it answered the
    // wake pulse: longer than the part's 1.3 s watchdog, while the bundle reads 2 ms after the wake
    const write = host.secure.i2cWrite.bind(host.secure);
    host.secure.i2cWrite = (addr, data) => {
      const r = write(addr, data);
      if (addr === 0) setImmediate(() => {
        const end = performance.now() + 1500;
        while (performance.now() < end);
      });
      return r;
    };
    host.boot();
    await host.ready();
    await host.runFor(500);
    await host.evalInDevice("wakeAndRead()");
    for (let t = 0; t < 10000 && !host.output.some((l) => /^(WOKE|NACK)/.test(l)); t += 100) await host.runFor(100);
    assert.deepEqual(host.output.filter((l) => /^(WOKE|NACK)/.test(l)), ["WOKE 4,17,51,67"], host.output.join(" | "));
  });

  it("hands the status reply that arrived while an event kept the bundle busy to on('data') before the expired timeout", async () => {
    const host = await boot();
    await host.runFor(1000);
    // evalInDevice runs in the bridge's socket event: 800 ms busy there, the reply arrives meanwhile
    await host.evalInDevice("ask(800)");
    assert.deepEqual(await answers(host), ["REPLY 18 before the timeout", "TIMEOUT after the reply"], host.output.join(" | "));
    assert.deepEqual(host.errors, []);
  });
});
