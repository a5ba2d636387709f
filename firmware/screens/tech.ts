/**
 * The technician menu (D at idle, firmware/tech/menu.ts) as a screen: it draws itself and takes every key and scan
 * until it exits; the console it opens runs the technician's tools (firmware/tech/console.ts).
 *
 *   kit.go("tech", techScreen(kit, { secrets, provisioned, journalState }));
 */
import { techConsole } from "../tech/console.ts";
import type { SecretVault } from "../tech/console.ts";
import { openTechMenu } from "../tech/menu.ts";
import type { Kit, ScreenDef } from "./kit.ts";
import type { OrderInfo } from "../app/order.ts";
import { orderRefusals } from "../app/order.ts";
import { isOrderLink } from "../../protocol/order-link.ts";
import { checkScanned, orderScreen } from "./order.ts";

export interface TechDeps {
  secrets: SecretVault;
  /** Whether the terminal is provisioned, asked of the vault (never of cfg.json). */
  provisioned: (done: (yes: boolean) => void) => void;
  journalState: () => string;
}

export function techScreen(k: Kit, t: TechDeps): ScreenDef {
  const d = k.d;
  k.activity.add("tech", "menu");
  const menu = openTechMenu({
    device: d,
    vault: t.secrets,
    tries: k.tries,
    provisioned: t.provisioned,
    openConsole: () => d.platform.openConsole((req, out) => techConsole({ device: d, vault: t.secrets, out: out, journalState: t.journalState, order: order })(req)),
    closeConsole: () => d.platform.closeConsole(),
    journalState: t.journalState,
    onExit: () => k.toIdle(),
  });
  // a typed pay-api link (console op "order"): answered first, then the menu and console close for its screen
  function order(link: string, done: (err: string | null, o?: OrderInfo) => void): void {
    if (!isOrderLink(link)) return done("O08 " + orderRefusals().O08);
    checkScanned(k, link, (o, l) => {
      if ("code" in o) return done(o.code + " " + o.message);
      done(null, o);
      d.clock.setTimeout(() => {
        menu.close();
        if (k.mode() === "idle") orderScreen(k, o, l);
      }, 100);
    });
  }
  // the menu draws itself
  return { show: () => {}, key: menu.key, code: menu.code };
}
