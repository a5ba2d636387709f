/** Scenarios that need only the boot and idle screen: power on, the keypad, a power cut. */
import type { Scenario } from "./index.ts";
import { idle, money, shows, typeAmount } from "./steps.ts";

export const boot: Scenario = {
  describe: "power on and reach the idle screen; report what it shows and the console lock-down",
  async run(w) {
    await idle(w);
    return { screen: w.screenText(), consoles: w.host.consoles };
  },
};

export const keypad: Scenario = {
  describe: "type 12.50 on the keypad, see it on the display, clear it with *",
  async run(w) {
    await idle(w);
    await typeAmount(w, 1250);
    await w.until("the typed amount 12.50 on the display", () => shows(w, money(1250)));
    const typed = w.screenText();
    await w.type("*");
    await w.until("the amount cleared", () => !shows(w, money(1250)));
    return { typed, cleared: w.screenText() };
  },
};

export const powerCut: Scenario = {
  describe: "cut power during the next flash write, power on again, and reach the idle screen",
  async run(w) {
    await idle(w);
    w.powerCutAtNextWrite();
    // Anything that writes flash tears here; on a terminal at rest nothing may, and power is cut on the next write.
    await w.type("1");
    await w.run(500);
    const cutWhileRunning = !w.host.poweredOn;
    w.powerOn();
    await idle(w);
    return { cutWhileRunning, screen: w.screenText(), errors: w.host.errors.slice() };
  },
};
