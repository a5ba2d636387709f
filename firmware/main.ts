/**
 * Boot: close the platform's open doors first, then load settings and show the idle screen.
 * The firmware's only contact with the hardware is the `device` it is handed.
 */
import type { Device } from "../hal/device.ts";
import { loadSettings } from "./settings.ts";
import type { TerminalStatus } from "./status.ts";
import { drawIdle, idleKey } from "./ui/idle.ts";
import type { IdleState } from "./ui/idle.ts";
import { Screen } from "./ui/screen.ts";

/** How often the status bar's clock and "time since sync" are redrawn. */
const STATUS_REFRESH_MS = 15000;

export interface Terminal {
  status: TerminalStatus;
  idle: IdleState;
}

export function start(device: Device): Terminal {
  device.platform.lockDown();
  const cfg = loadSettings(device.storage);
  const t: Terminal = {
    status: { online: false, pending: 0, unsettledMinor: 0, currency: cfg.currency, lastSyncMs: 0 },
    idle: { digits: "" },
  };
  const screen = new Screen(device.display);
  const redraw = () => drawIdle(screen, t.idle, t.status, cfg, device.clock.now(), device.platform.version);
  redraw();
  device.keypad.listen((key) => {
    if (idleKey(t.idle, key)) redraw();
  });
  device.wifi.onChange((s) => {
    t.status.online = s === "connected";
    redraw();
  });
  device.clock.setInterval(redraw, STATUS_REFRESH_MS);
  return t;
}
