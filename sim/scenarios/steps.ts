/** Small steps the scenarios share: what the screen says, typing an amount, a provisioned terminal. */
import type { World } from "../world.ts";

/** Whether any line on the display contains `text`. */
export function shows(w: World, text: string): boolean {
  return w.screenText().some((l) => l.indexOf(text) >= 0);
}

/** The idle screen is up: it says "Ready". "Starting" comes first, and keys pressed while it shows are lost. */
export async function idle(w: World): Promise<void> {
  await w.until("the idle screen", () => shows(w, "Ready"));
}

/** Provision the terminal unless this world already did. */
export async function provisioned(w: World): Promise<void> {
  if (!w.provisioned) await w.provision();
  await idle(w);
}

/** Type an amount in minor units on the keypad (digits only), as the merchant does. */
export async function typeAmount(w: World, minor: number): Promise<void> {
  await w.type(String(minor));
}

/** The amount as the display formats it (two decimals). */
export function money(minor: number): string {
  return (minor / 100).toFixed(2);
}
