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
import { chipFlash, flashPages } from "../hal/espruino/flash-pages.ts";
import { Atecc608 } from "../hal/drivers/atecc608.ts";
import { EscPosPrinter } from "../hal/drivers/escpos-printer.ts";
import { Gm65Scanner } from "../hal/drivers/gm65.ts";
import { MatrixKeypad } from "../hal/drivers/keypad-matrix.ts";
import { ST7789 } from "../hal/drivers/st7789.ts";
import type { Device } from "../hal/device.ts";
import type { BoardDef } from "./board.ts";
import { boardDef } from "./board.ts";
import { devkitData, devkitPlatform, devkitWiring } from "./devkit-data.ts";

/**
 * The kept link orders' pages, made each time they are used (a link scanned or kept, an upload): a region's binding
 * held for as long as the firmware runs costs about 40 JsVars (measured: `npm run build` with ESPRUINO).
 */
function ordersPages() {
  return flashPages(devkitPlatform().orders);
}

/**
 * The device the bundle starts (build.ts's entry calls this, not `devkit.createDevice`, so the board's descriptive
 * data never reaches the bundle): the wiring and platform objects exist only while the parts are made.
 */
export function createDevkit(version: string): Device {
  const w = devkitWiring();
  const p = devkitPlatform();
  const c = clock();
  const d = w.display;
  const k = w.keypad;
  return {
    board: "devkit",
    platform: platform(version),
    clock: c,
    storage: storage(),
    journal: flashPages(p.journal),
    orders: ordersPages,
    flash: chipFlash(p.journal, p.orders, p.storage),
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
}

export const devkit: BoardDef = /* @__PURE__ */ boardDef(devkitData, createDevkit);
