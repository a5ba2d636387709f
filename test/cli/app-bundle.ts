/**
 * The terminal application (firmware/app/terminal.ts: idle, payments, technician menu, sync) as a devkit bundle,
 * for the simulator's scenario and page tests: the wiring firmware/main.ts gets. Null while the application is
 * not in the tree.
 */
import { existsSync } from "node:fs";
import { compile } from "../../build.ts";
import { boardData } from "../update/helpers.ts";

export const APP_SOURCE = "firmware/app/terminal.ts";

const ENTRY = `
import { devkit } from "./boards/devkit.ts";
import { startTerminal } from "./firmware/app/terminal.ts";
const device = devkit.createDevice("app-test");
device.platform.lockDown();
startTerminal(device);
`;

let cached: string | null = null;

export async function appBundle(): Promise<string | null> {
  if (!existsSync(APP_SOURCE)) return null;
  if (!cached) cached = await compile(ENTRY, "app-test.entry.ts", boardData().platform.builtinModules);
  return cached;
}
