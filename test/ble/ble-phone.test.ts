/** The simulated phone (sim/peripherals/ble-phone.ts) against a tiny bundle that uses Espruino's NRF directly. */
import assert from "node:assert/strict";
import { SimHost } from "../../sim/host.ts";
import { SimPhone } from "../../sim/peripherals/ble-phone.ts";
import { boardData } from "../update/helpers.ts";

/** Publishes FFF0 with FFF1 (read, notify) and FFF2 (write); every write comes back as a notification, reversed. */
const ECHO = `
NRF.on("connect", function (a) { print("CONNECT " + a); });
NRF.on("disconnect", function (r) { print("DISCONNECT " + r); });
NRF.setServices({ "FFF0": {
  "FFF1": { value: [7, 8, 9], readable: true, notify: true },
  "FFF2": { writable: true, onWrite: function (evt) {
    var d = new Uint8Array(evt.data);
    var out = new Uint8Array(d.length);
    for (var i = 0; i < d.length; i++) out[i] = d[d.length - 1 - i];
    print("WRITE " + d.length);
    NRF.updateServices({ "FFF0": { "FFF1": { value: out, notify: true } } });
  } }
} }, { uart: false, advertise: ["FFF0"] });
NRF.setAdvertising({}, { name: "PAY 1", connectable: true });
`;

function device(): SimHost {
  const host = new SimHost({ board: boardData(), bundle: ECHO });
  host.boot();
  host.advance(10);
  assert.deepEqual(host.errors, []);
  return host;
}

describe("simulated phone over Bluetooth", () => {
  it("connects, and the bundle's NRF connect handler runs", () => {
    const host = device();
    const phone = new SimPhone(host);
    phone.connect("11:22:33:44:55:66");
    host.advance(5);
    assert.ok(host.output.includes("CONNECT 11:22:33:44:55:66"));
    assert.equal(phone.isConnected, true);
  });

  it("reads a characteristic's stored value", () => {
    const host = device();
    const phone = new SimPhone(host);
    phone.connect();
    assert.deepEqual(Array.from(phone.read(0xfff1)), [7, 8, 9]);
  });

  it("writes reach onWrite as an ArrayBuffer of the bundle's realm, and notifications come back", () => {
    const host = device();
    const phone = new SimPhone(host);
    const got: [number, number[]][] = [];
    phone.onNotify((uuid, b) => got.push([uuid, Array.from(b)]));
    phone.connect();
    phone.write(0xfff2, Uint8Array.of(1, 2, 3));
    assert.deepEqual(got, [], "delivered from the device's event loop, not inside write()");
    host.advance(5);
    assert.ok(host.output.includes("WRITE 3"));
    assert.deepEqual(got, [[0xfff1, [3, 2, 1]]]);
  });

  it("refuses a write over 20 bytes (ESP32's Espruino does not reassemble prepared writes)", () => {
    const host = device();
    const phone = new SimPhone(host);
    phone.connect();
    assert.throws(() => phone.write(0xfff2, new Uint8Array(21)), /exceeds MTU 23/);
  });

  it("refuses writes to a characteristic that is not writable, or before connecting", () => {
    const host = device();
    const phone = new SimPhone(host);
    assert.throws(() => phone.write(0xfff2, Uint8Array.of(1)), /not connected/);
    phone.connect();
    assert.throws(() => phone.write(0xfff1, Uint8Array.of(1)), /not writable/);
  });

  it("disconnects with reason 19 and receives nothing after", () => {
    const host = device();
    const phone = new SimPhone(host);
    const got: number[][] = [];
    phone.onNotify((_u, b) => got.push(Array.from(b)));
    phone.connect();
    phone.write(0xfff2, Uint8Array.of(1));
    phone.disconnect();
    host.advance(5);
    assert.ok(host.output.includes("DISCONNECT 19"));
    assert.deepEqual(got, []);
  });
});
