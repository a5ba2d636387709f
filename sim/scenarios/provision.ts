/** Provisioning as a technician does it: the technician menu on the keypad, then `npm run provision` on its console. */
import type { Scenario } from "./index.ts";
import { idle } from "./steps.ts";

export const provisionScenario: Scenario = {
  describe: "provision the terminal through the technician console (identity in the SE, certificate, settings)",
  async run(w) {
    await idle(w);
    const s = await w.provision();
    await idle(w);
    return { terminalId: s.terminalId, merchantId: s.merchantId, identity: Buffer.from(w.host.secure.publicKeyOf(0) ?? []).toString("hex"), paper: w.paperText(), screen: w.screenText() };
  },
};
