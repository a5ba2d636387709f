/**
 * Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser). `.ci/run` installs
 * it; CHROMIUM_PATH overrides the location. The flags keep it off this machine's closed network.
 */
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";

export const BROWSER = process.env.CHROMIUM_PATH || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** Says the suite skipped, and skips it, when there is no Chromium. */
export function skipWithoutChromium(ctx: Mocha.Context): void {
  if (BROWSER) return;
  console.log("      (skipped: no Chromium at /usr/bin/chromium; install Debian's chromium or set CHROMIUM_PATH)");
  ctx.skip();
}

/** Chromium headless; `extraArgs` add to the flags (a fake camera, say). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: BROWSER,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", ...extraArgs],
  });
}
