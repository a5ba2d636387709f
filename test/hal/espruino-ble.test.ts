/**
 * The Espruino binding of the Bluetooth service (hal/espruino/ble.ts), built as the device's bundle is and run over a
 * recording stand-in for `NRF`: a session's handlers reach it while it runs, and once it stops nothing the binding or
 * NRF's service table holds reaches it any more (a stopped session's code may already be let go: firmware/parts.ts).
 */
import assert from "node:assert/strict";
import vm from "node:vm";
import { compile } from "../../build.ts";
import type { Ble } from "../../hal/ble.ts";

type Handler = (...a: unknown[]) => void;

type Services = Record<string, Record<string, { onWrite?: (e: { data: ArrayBuffer }) => void }>>;

function fakeNrf() {
  const on: Record<string, Handler[]> = {};
  const nrf = {
    services: null as null | Services,
    calls: [] as string[],
    on: (ev: string, f: Handler) => (on[ev] = on[ev] || []).push(f),
    emit: (ev: string, ...a: unknown[]) => (on[ev] || []).forEach((f) => f(...a)),
    setServices: (s: Services) => {
      nrf.services = s;
      nrf.calls.push("setServices");
    },
    setAdvertising: () => nrf.calls.push("setAdvertising"),
    updateServices: () => nrf.calls.push("updateServices"),
    wake: () => nrf.calls.push("wake"),
    sleep: () => nrf.calls.push("sleep"),
    disconnect: () => nrf.calls.push("disconnect"),
  };
  return nrf;
}

describe("hal/espruino/ble.ts: a stopped session is let go", function () {
  this.timeout(60000);
  let code = "";
  before(async () => {
    code = await compile(`import { ble } from "./hal/espruino/ble.ts";\nglobal.made = ble();\n`, "ble.entry.ts", []);
  });

  it("passes writes, connects and disconnects to the running session, and none of them once it stopped", () => {
    const nrf = fakeNrf();
    const ctx = vm.createContext({ NRF: nrf, Uint8Array });
    vm.runInContext("var global = this;", ctx);
    vm.runInContext(code, ctx);
    const b = (ctx as unknown as { made: Ble }).made;
    const seen: string[] = [];
    b.start({
      service: "FFF0",
      name: "PAY 7",
      characteristics: [{ uuid: 0xfff2, writable: true, onWrite: (d) => seen.push("write " + Array.from(d).join(",")) }, { uuid: 0xfff1, notify: true }],
      onConnect: () => seen.push("connect"),
      onDisconnect: () => seen.push("disconnect"),
    });
    const write = nrf.services!.FFF0.FFF2.onWrite!;
    nrf.emit("connect", "aa:bb");
    write({ data: new Uint8Array([1, 2]).buffer });
    nrf.emit("disconnect");
    assert.deepEqual(seen, ["connect", "write 1,2", "disconnect"]);
    b.stop();
    assert.deepEqual(nrf.calls.slice(-2), ["disconnect", "sleep"]);
    nrf.emit("connect", "aa:bb");
    write({ data: new Uint8Array([3]).buffer });
    nrf.emit("disconnect");
    assert.deepEqual(seen, ["connect", "write 1,2", "disconnect"], "nothing reaches a stopped session");
  });
});
