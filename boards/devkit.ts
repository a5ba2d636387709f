/**
 * Devkit: ESP32-DevKitC (Espruino 2v2x, official ESP32 build) with a GM65 QR scanner on Serial2, a 58 mm ESC/POS
 * printer on Serial3, an ATECC608 on I2C1, an ST7789 240x240 on SPI1 and a 4x4 membrane keypad.
 */
import { ble } from "../hal/espruino/ble.ts";
import { clock } from "../hal/espruino/clock.ts";
import { builtinCrypto } from "../hal/espruino/crypto.ts";
import { surface } from "../hal/espruino/graphics.ts";
import { digital, i2c, spi, uart } from "../hal/espruino/io.ts";
import { http, wifi } from "../hal/espruino/net.ts";
import { platform } from "../hal/espruino/platform.ts";
import { storage } from "../hal/espruino/storage.ts";
import { flashPages } from "../hal/espruino/flash-pages.ts";
import { Atecc608 } from "../hal/drivers/atecc608.ts";
import { EscPosPrinter } from "../hal/drivers/escpos-printer.ts";
import { Gm65Scanner } from "../hal/drivers/gm65.ts";
import { MatrixKeypad } from "../hal/drivers/keypad-matrix.ts";
import { ST7789 } from "../hal/drivers/st7789.ts";
import type { BoardDef, Wiring } from "./board.ts";

const wiring: Wiring = {
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

export const devkit: BoardDef = {
  name: "devkit",
  description: "ESP32-DevKitC + GM65 + 58 mm ESC/POS + ATECC608 + ST7789 240x240 + 4x4 keypad",
  wiring: wiring,
  platform: {
    id: "ESP32",
    espruinoVersion: "2v29",
    builtinModules: ["Storage", "Wifi", "http", "crypto", "TelnetServer", "net", "tls", "heatshrink", "Flash", "fs", "timer", "neopixel", "dgram", "NetworkJS"],
    storage: { address: 0x320000, pageSize: 4096, pages: 224 },
    // 768 KB at the start of the ota_0 partition of Espruino's ESP32 partition table (factory 0x10000, ota_0
    // 0x190000, storage 0x320000): never written by Espruino's flashing steps. Unverified on hardware.
    journal: { address: 0x190000, pageSize: 4096, pageCount: 192 },
    console: { port: "Serial1", baud: 115200 },
  },
  budget: { jsVars: 16383, idleJsVars: 8000, bundleBytes: 48 * 1024, storageBytes: 896 * 1024 },
  createDevice(version) {
    const w = wiring;
    const c = clock();
    const d = w.display;
    const k = w.keypad;
    return {
      board: "devkit",
      platform: platform(version),
      clock: c,
      storage: storage(),
      journal: flashPages(devkit.platform.journal),
      crypto: builtinCrypto(),
      display: new ST7789({
        spi: spi({ sck: d.sck, mosi: d.mosi, cs: d.cs }),
        dc: digital(d.dc),
        rst: digital(d.rst),
        surface: surface,
        clock: c,
        width: d.width,
        height: d.height,
        bpp: d.bpp,
        madctl: d.madctl,
        rowOffset: d.rowOffset,
        palette: d.palette,
      }),
      keypad: new MatrixKeypad({ rows: k.rows.map(digital), cols: k.cols.map(digital), keys: k.keys }),
      wifi: wifi(c, 20000),
      http: http(c),
      ble: ble(),
      secure: new Atecc608({ i2c: i2c(w.secure), clock: c, address: w.secure.address }),
      scanner: new Gm65Scanner({ serial: uart(w.scanner), clock: c }),
      printer: new EscPosPrinter({ serial: uart(w.printer), clock: c, baud: w.printer.baud }),
    };
  },
};
