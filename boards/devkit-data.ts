/**
 * The devkit board's data alone (wiring, platform facts, budgets), with no Espruino binding behind it, so that Node
 * code (tests, benches, tools) can read the real figures without pulling in the device's bindings.
 */
import type { BoardData, PlatformFacts, Wiring } from "./board.ts";

/**
 * The wiring and the platform facts are made by functions, not held as constants: on the device the literals stay
 * in flash (in the function's code) and the objects live only while the device is built, instead of ~200 JsVars
 * for as long as the terminal runs (measured: `npm run build` with ESPRUINO).
 */
export function devkitWiring(): Wiring {
  return {
    scanner: { port: 2, tx: "D4", rx: "D5", baud: 9600 },
    printer: { port: 3, tx: "D17", rx: "D16", baud: 19200 },
    secure: { scl: "D22", sda: "D21", address: 0x60, hz: 100000 },
    display: {
      sck: "D18",
      mosi: "D23",
      cs: "D15",
      dc: "D27",
      rst: "D26",
      width: 240,
      height: 240,
      bpp: 2,
      // Adafruit's rotation 0 for 240x240 modules: MADCTL MY|MX, visible rows 80..319 of the 320-row RAM.
      madctl: 0xc0,
      rowOffset: 80,
      // background, text, accent, alert (RGB565)
      palette: [0xffff, 0x0000, 0x0339, 0xc800],
    },
    keypad: { rows: ["D13", "D12", "D14", "D25"], cols: ["D32", "D33", "D19", "D2"], keys: "123A456B789C*0#D" },
  };
}

/** Espruino's build and the flash map of the devkit (see devkitWiring for why a function). */
export function devkitPlatform(): PlatformFacts {
  return {
    id: "ESP32",
    espruinoVersion: "2v29",
    builtinModules: ["Storage", "Wifi", "http", "crypto", "TelnetServer", "net", "tls", "heatshrink", "Flash", "fs", "timer", "neopixel", "dgram", "NetworkJS"],
    storage: { address: 0x320000, pageSize: 4096, pages: 224 },
    // 800 KB (0x190000..0x258000) at the start of the ota_0 partition of Espruino's ESP32 partition table
    // (factory app 0x10000 + 1536K, ota_0 0x190000 + 1536K, "flash" data 0x310000 + 64K, Storage 0x320000): never
    // written by Espruino's flashing steps. 200 pages of 11 largest records (316-byte entries, 368 in flash) =
    // 2,200 slots: 2,000 pending plus the reserve and room for quarantined pages. Unverified on hardware.
    journal: { address: 0x190000, pageSize: 4096, pageCount: 200 },
    // The kept link orders' two pages right after the journal, in the same ota_0 (0x258000..0x25A000): a region of
    // their own rather than pages carved from the journal's, whose pages already hold payments on terminals in the
    // field. Unverified on hardware.
    orders: { address: 0x258000, pageSize: 4096, pageCount: 2 },
    console: { port: "Serial1", baud: 115200 },
  };
}

export const devkitData: BoardData = {
  name: "devkit",
  description: "ESP32-DevKitC + GM65 + 58 mm ESC/POS + ATECC608 + ST7789 240x240 + 4x4 keypad",
  wiring: /* @__PURE__ */ devkitWiring(),
  platform: /* @__PURE__ */ devkitPlatform(),
  // bundleBytes raised from 48 KB once the whole firmware (journal, sync, technician, BLE, flows) was in, then to
  // 128 KB with flows 2, 4 and 5 and the update install wired (bundle + two update slots = 384 KB of the 896 KB
  // Storage); the binding figure is idle JsVars (the bundle's code stays in memory-mapped Storage on the ESP32).
  // 136 KB with the security review's terminal fixes (time floor, PIN tries, settings digest: 3.4 KB), main being
  // at 130.5 KB of 128 KB's 131,072 bytes: bundle + two update slots = 408 KB of the 896 KB Storage.
  // 140 KB with the encrypted payment QR (R2/P2, docs/protocol.md section 3), main being at 139,250 of 136 KB's
  // 139,264 bytes: bundle + two update slots = 420 KB of the 896 KB Storage.
  // 160 KB once data the terminal held in RAM for as long as it runs (refusal tables, the board's wiring) became code
  // that makes it when used (docs/architecture.md, "Memory"): bytes in flash for JsVars, the binding budget; main
  // being at 143,748 of 140 KB's 143,360 bytes: bundle + two update slots = 480 KB of the 896 KB Storage.
  // 176 KB once each function at the top level takes its parameters from `arguments` (build.ts
  // paramsFromArguments: a parameter declared is a JsVar for as long as the function is defined, about 600 of them
  // at idle): bytes in flash for JsVars again, main being at 167,961 of 160 KB's 163,840 bytes: bundle + two update
  // slots = 528 KB of the 896 KB Storage. A terminal still running a firmware whose budget was 160 KB refuses a
  // larger update (its installer's limit): it takes one built within 160 KB first.
  // (Literals, not `176 * 1024`: esbuild keeps an unused object holding an expression, so the bundle would too.)
  // idleJsVars from 8,000 to 5,500 once the bundle idled at 4,936 provisioned (5,142 idle again after every flow,
  // 4,135 unprovisioned; test/engine/device-budget.test.ts): the build and the whole device's bench refuse a
  // bundle that gives back what the screens issue took (its own target, 5,000 at idle, is held by that test).
  budget: { jsVars: 16383, idleJsVars: 5500, bundleBytes: 180224, storageBytes: 917504 },
};
