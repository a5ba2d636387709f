/**
 * Espruino binding of hal/platform.ts: closes the consoles Espruino opens by default (espruino-notes.md,
 * "Open consoles by default") and reports memory.
 */
import type { Platform } from "../platform.ts";

export function platform(version: string): Platform {
  return {
    version: version,
    lockDown() {
      // Telnet: a JavaScript console on port 23 for anyone on the network.
      try {
        require("TelnetServer").setOptions({ mode: "off" });
      } catch (e) {
        // module absent on this build: nothing listens
      }
      // Bluetooth: the Nordic UART service is a console for anyone in range.
      try {
        NRF.setServices({}, { uart: false });
      } catch (e) {
        // no Bluetooth on this build
      }
      // Serial: detach the console; a technician re-attaches it from the keypad menu.
      E.setConsole(null, { force: true });
    },
    openConsole(onRequest) {
      global.tech = (r: string) => onRequest(r, (l) => print(l));
      E.setConsole("Serial1", { force: true });
    },
    closeConsole() {
      delete global.tech;
      E.setConsole(null, { force: true });
    },
    memory() {
      const m = process.memory(false);
      return { used: m.usage, total: m.total };
    },
    reboot() {
      E.reboot();
    },
  };
}
