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
  // The session's write handlers, reached through this table: NRF keeps the service table (and the functions in it)
  // until the next setServices, and stop() must let the session go with its handlers (firmware/parts.ts).
  let writers: { [uuid: string]: ((data: Uint8Array) => void) | undefined } = {};
  NRF.on("connect", (a) => {
    if (onConnect) onConnect(a);
  });
  NRF.on("disconnect", () => {
    if (onDisconnect) onDisconnect();
  });
  const dispatch = (id: string, data: ArrayBuffer) => {
    const w = writers[id];
    if (w) w(new Uint8Array(data));
  };
  // Made here, not in start(): an Espruino closure holds its whole scope, and one made in start() would hold start's
  // options (the session's handlers, and through them the session) for as long as NRF keeps the table.
  const onWrite = (id: string) => (evt: { data: ArrayBuffer }) => dispatch(id, evt.data);
  return {
    start(o) {
      service = o.service;
      onConnect = o.onConnect;
      onDisconnect = o.onDisconnect;
      const chars: { [uuid: string]: object } = {};
      writers = {};
      for (const c of o.characteristics) {
        const id = hex4(c.uuid);
        writers[id] = c.onWrite;
        chars[id] = {
          value: c.value || new Uint8Array(0),
          readable: !!c.readable,
          writable: !!c.writable,
          notify: !!c.notify,
          onWrite: c.onWrite ? onWrite(id) : undefined,
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
      // the session stopped itself: no event of this stop reaches it, and nothing here holds it any more
      onConnect = undefined;
      onDisconnect = undefined;
      writers = {};
      try {
        NRF.disconnect();
      } catch (e) {
        // nothing connected
      }
      NRF.sleep();
    },
  };
}
