/**
 * Rig of the flow-module tests (invoice, refund): the real ATECC608 driver over the emulated part on a virtual
 * clock (identity key in slot 0), Node's crypto, the real journal on a simulated flash region, a printer that
 * records jobs, and a device object with just those parts (anything else the module touches fails loudly).
 */
import type { Device } from "../../hal/device.ts";
import { Journal } from "../../firmware/journal/journal.ts";
import { decodeEntry } from "../../protocol/entry.ts";
import type { Entry } from "../../protocol/entry.ts";
import { publicKeyOf } from "../../gateway/issuer.ts";
import { rig as journalRig } from "../journal/helpers.ts";
import { crypto, seRig, TestTerminal, testIssuer } from "../protocol/helpers.ts";
import type { SeRig } from "../protocol/helpers.ts";

export const TERMINAL_ID = 4242;

export interface FlowRig {
  se: SeRig;
  device: Device;
  journal: Journal;
  terminalPub: Uint8Array;
  issuer: ReturnType<typeof testIssuer>;
  printed: Uint8Array[];
  /** Journal entries as decoded from the journal itself. */
  entries(): Entry[];
  /** Run the virtual clock (the SE's commands take simulated milliseconds). */
  advance(ms: number): void;
}

function loud(name: string): unknown {
  return new Proxy(
    {},
    {
      get(_t, p) {
        throw new Error(`the flow used device.${name}.${String(p)}, which this test does not provide`);
      },
    },
  );
}

export function flowRig(o: { printError?: string } = {}): FlowRig {
  const se = seRig();
  const t = new TestTerminal(se, TERMINAL_ID);
  const printed: Uint8Array[] = [];
  const device = {
    board: "test",
    secure: se.se,
    crypto,
    clock: se.clock,
    printer: {
      print(job: Uint8Array, done: (err: string | null) => void) {
        printed.push(job);
        se.clock.setTimeout(() => done(o.printError || null), 10);
      },
      status(done: (s: string) => void) {
        done("ready");
      },
    },
    platform: loud("platform"),
    storage: loud("storage"),
    journal: loud("journal"),
    display: loud("display"),
    keypad: loud("keypad"),
    wifi: loud("wifi"),
    http: loud("http"),
    ble: loud("ble"),
    scanner: loud("scanner"),
  } as unknown as Device;
  const journal = journalRig(8).journal();
  journal.recover();
  return {
    se,
    device,
    journal,
    terminalPub: t.pub,
    issuer: testIssuer(),
    printed,
    entries: () => journal.records(100).map((r) => decodeEntry(r.payload) as Entry),
    advance: (ms: number) => se.clock.advance(ms, undefined, 1),
  };
}

export { crypto, publicKeyOf };
