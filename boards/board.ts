/**
 * What a board file describes: which part sits on which bus and pins, the platform's facts, and the budgets the
 * build holds the bundle to. Pure data plus `createDevice`; the build writes the data to dist/<board>.board.json,
 * which the simulator wires its emulated parts from and the flasher hands to EspruinoTools.
 */
import type { Budget, Device } from "../hal/device.ts";

export interface UartPins {
  port: number;
  tx: string;
  rx: string;
  baud: number;
}
export interface Wiring {
  scanner: UartPins;
  printer: UartPins;
  secure: { scl: string; sda: string; address: number; hz: number };
  display: {
    sck: string;
    mosi: string;
    cs: string;
    dc: string;
    rst: string;
    width: number;
    height: number;
    bpp: number;
    madctl: number;
    rowOffset: number;
    palette: number[];
  };
  keypad: { rows: string[]; cols: string[]; keys: string };
}

/** Facts of the interpreter build the board runs (from Espruino's board file for the chip). */
export interface PlatformFacts {
  /** Espruino board id EspruinoTools expects, e.g. "ESP32". */
  id: string;
  espruinoVersion: string;
  /** Modules `require()` can load. */
  builtinModules: string[];
  /** Storage area: start address, page size and page count. */
  storage: { address: number; pageSize: number; pages: number };
  /**
   * Raw flash pages for the transaction journal (outside Storage, so no Storage compaction can touch it).
   * Reached through `require("Flash")`.
   */
  journal: { address: number; pageSize: number; pageCount: number };
  /**
   * Raw flash pages for the link orders kept until the gateway acknowledges them (firmware/app/kept-orders.ts),
   * outside Storage like the journal's and in the same partition (the boot's place check requires it). Two pages.
   */
  orders: { address: number; pageSize: number; pageCount: number };
  /** Default console UART and its speed. */
  console: { port: string; baud: number };
}

/** A board's data: what Node-side code (tests, benches, tools) may import. */
export interface BoardData {
  name: string;
  description: string;
  wiring: Wiring;
  platform: PlatformFacts;
  budget: Budget;
}

export interface BoardDef extends BoardData {
  createDevice(version: string): Device;
}

/** A board's definition: its data and the function that makes its device. */
export function boardDef(data: BoardData, createDevice: (version: string) => Device): BoardDef {
  return { name: data.name, description: data.description, wiring: data.wiring, platform: data.platform, budget: data.budget, createDevice: createDevice };
}
