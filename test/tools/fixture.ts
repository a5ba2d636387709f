/**
 * A test firmware for the technician tools: the devkit with its lock-down, the technician menu on the D key and,
 * once the console is opened from the menu, the console commands as the global `tech` — the wiring the lead puts
 * in firmware/main.ts and the Espruino platform binding (reported by helper H). The vault is helper A's sealed
 * vault (firmware/vault.ts) over the storage keys from the secure element.
 */
import { Atecc608Emulator } from "../../sim/peripherals/atecc608.ts";
import { compile } from "../../build.ts";
import { boardData } from "../update/helpers.ts";

const ENTRY = `
import { devkit } from "./boards/devkit.ts";
import { techConsole } from "./firmware/tech/console.ts";
import { openTechMenu } from "./firmware/tech/menu.ts";
import { confirmBoot } from "./firmware/update/slots.ts";
import { installUpdate } from "./firmware/update/updater.ts";
import { readyKeys } from "./firmware/se-ready.ts";
import { openVault } from "./firmware/vault.ts";
declare const E: any, global: any, print: any;
const device = devkit.createDevice("fixture-1");
device.platform.lockDown();
// The vault as the lead wires it: the secure element's readiness and storage keys (firmware/se-ready.ts), then the sealed vault
// (firmware/vault.ts), opened on first use (the keys exist only once provisioning made them).
let opened: any = null;
const withVault = (fn: (err: string | null, v?: any) => void) => {
  if (opened) return fn(null, opened);
  readyKeys(device, () => {}, (err, keys) => {
    if (err || !keys) return fn(err ? err.message : "no keys");
    openVault(device.storage, device.crypto, keys.vault, (verr, v) => {
      if (verr) return fn(verr);
      opened = v;
      fn(null, v);
    });
  });
};
const vault = {
  put(n: string, val: Uint8Array, done: (e: string | null) => void) { withVault((e, v) => (e ? done(e) : v.put(n, val, done))); },
  get(n: string, done: (e: string | null, v?: Uint8Array) => void) { withVault((e, v) => (e ? done(e) : v.get(n, done))); },
};
let menu: any = null;
device.keypad.listen((k) => {
  if (menu) return menu.key(k);
  if (k === "D") menu = openTechMenu({ device, vault,
    openConsole() { global.tech = techConsole({ device, vault, out: (l) => print(l) }); E.setConsole("Serial1"); },
    closeConsole() { E.setConsole(null, { force: true }); },
    onExit() { menu = null; } });
});
global.__installUpdate = installUpdate; // compiled in, so the gate checks it too
confirmBoot(device.storage);
print("fixture up");
`;

let cached: string | null = null;

export async function fixtureBundle(): Promise<string> {
  if (!cached) cached = await compile(ENTRY, "tech-fixture.entry.ts", boardData().platform.builtinModules);
  return cached;
}

/** A blank ATECC608 as Microchip ships it (zones unlocked, no keys): provisioning configures and locks it. */
export function shippedSecureElement(now: () => number): Atecc608Emulator {
  return new Atecc608Emulator({ now, address: boardData().wiring.secure.address, revision: "608B" });
}
