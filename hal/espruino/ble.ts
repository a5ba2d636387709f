/**
 * Espruino binding of hal/ble.ts over `NRF` on ESP32: one service, 16-bit characteristic UUIDs, no UART console.
 * Services change only while nothing is connected (the stack restarts), so start() disconnects first.
 */
import type { Ble } from "../ble.ts";

function hex4(n: number): string {
  return ("000" + n.toString(16)).slice(-4).toUpperCase();
}

export function ble(): Ble {
  let service = "";
  let onConnect: ((a: string) => void) | undefined;
  let onDisconnect: (() => void) | undefined;
  NRF.on("connect", (a) => {
    if (onConnect) onConnect(a);
  });
  NRF.on("disconnect", () => {
    if (onDisconnect) onDisconnect();
  });
  return {
    start(o) {
      service = o.service;
      onConnect = o.onConnect;
      onDisconnect = o.onDisconnect;
      const chars: { [uuid: string]: object } = {};
      for (const c of o.characteristics) {
        const w = c.onWrite;
        chars[hex4(c.uuid)] = {
          value: c.value || new Uint8Array(0),
          readable: !!c.readable,
          writable: !!c.writable,
          notify: !!c.notify,
          onWrite: w ? (evt: { data: ArrayBuffer }) => w(new Uint8Array(evt.data)) : undefined,
        };
      }
      const services: { [uuid: string]: object } = {};
      services[o.service] = chars;
      try {
        NRF.disconnect();
      } catch (e) {
        // nothing connected
      }
      NRF.setServices(services, { uart: false, advertise: [o.service] });
      NRF.setAdvertising({}, { name: o.name, connectable: true });
      NRF.wake();
    },
    notify(uuid, value) {
      const upd: { [uuid: string]: object } = {};
      const ch: { [uuid: string]: object } = {};
      ch[hex4(uuid)] = { value: value, notify: true };
      upd[service] = ch;
      NRF.updateServices(upd);
    },
    stop() {
      try {
        NRF.disconnect();
      } catch (e) {
        // nothing connected
      }
      NRF.sleep();
    },
  };
}
