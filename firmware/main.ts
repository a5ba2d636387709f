/**
 * Boot: close the platform's open doors first, then the terminal application (firmware/app/terminal.ts): storage
 * keys from the secure element, journal and vault, the idle screen, the flows, the technician menu and the sync.
 * The firmware's only contact with the hardware is the `device` it is handed.
 */
import type { Device } from "../hal/device.ts";
import type { TerminalApp } from "./app/terminal.ts";
import { startTerminal } from "./app/terminal.ts";

export type Terminal = TerminalApp;

export function start(device: Device): Terminal {
  device.platform.lockDown();
  return startTerminal(device);
}
