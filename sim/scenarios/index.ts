/**
 * Named scenarios for `npm run sim -- --scenario NAME` (and the page's tests): each is a small async function over
 * a World (sim/world.ts) that drives it as a merchant, a customer or a technician would, and returns what a script
 * checks. A scenario fails with an Error naming the step that did not happen and what the screen showed.
 *
 * Add one: write sim/scenarios/<name>.ts exporting a `Scenario`, and list it in SCENARIOS below.
 */
import type { World } from "../world.ts";
import { boot, keypad, powerCut } from "./basics.ts";
import { blePayment, offlinePayment } from "./payment.ts";
import { provisionScenario } from "./provision.ts";
import { sync } from "./sync.ts";

export interface Scenario {
  /** One line for --help and the page. */
  describe: string;
  run(w: World): Promise<Record<string, unknown>>;
}

export const SCENARIOS: Record<string, Scenario> = {
  boot,
  keypad,
  "power-cut": powerCut,
  provision: provisionScenario,
  "offline-payment": offlinePayment,
  "ble-payment": blePayment,
  sync,
};

export interface ScenarioResult {
  scenario: string;
  ok: boolean;
  simulatedMs: number;
  result?: Record<string, unknown>;
  error?: string;
}

/** Runs one scenario by name; an unknown name throws (a usage error), a failing scenario is reported, not thrown. */
export async function runScenario(w: World, name: string): Promise<ScenarioResult> {
  const sc = SCENARIOS[name];
  if (!sc) throw new RangeError(`no scenario "${name}" (scenarios: ${Object.keys(SCENARIOS).join(", ")})`);
  const t0 = w.host.sched.now;
  try {
    const result = await sc.run(w);
    return { scenario: name, ok: true, simulatedMs: w.host.sched.now - t0, result };
  } catch (e) {
    return { scenario: name, ok: false, simulatedMs: w.host.sched.now - t0, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The scenario list for usage texts: "name: description" a line. */
export function scenarioList(indent = "  "): string {
  const names = Object.keys(SCENARIOS);
  const width = Math.max(...names.map((n) => n.length));
  return names.map((n) => indent + n.padEnd(width + 2) + SCENARIOS[n].describe).join("\n");
}
