/**
 * The update installer's screen: a firmware update the gateway offered at sync, installed only from idle
 * (firmware/update/updater.ts), with its progress on screen, then a restart; no keys while it runs.
 *
 *   installOffer(kit, offer, bundleBytes);
 */
import { Ink } from "../../hal/display.ts";
import { fromHex } from "../../protocol/codec/hex.ts";
import type { UpdateOffer } from "../update/updater.ts";
import { alreadyInstalled, installUpdate } from "../update/updater.ts";
import type { Kit } from "./kit.ts";

export function installOffer(k: Kit, u: UpdateOffer, maxBytes: number): void {
  const d = k.d;
  const sync = k.sync();
  if (!sync || alreadyInstalled(d.storage, u)) return;
  // the firmware keys provisioning gave (offline keys, never the issuer keys that sign allowances)
  const keys: { [id: string]: Uint8Array } = {};
  let any = false;
  for (const id in k.cfg.firmwareKeys) {
    const key = fromHex(k.cfg.firmwareKeys[id] || "");
    if (key && key.length === 64) (keys[id] = key), (any = true);
  }
  if (!any) return k.activity.add("error", "update: no firmware key");
  const shown = (pct: number) => k.message("Updating firmware", Ink.Accent, ["Version " + u.version, pct + " %", "Payments resume when done"]);
  k.go("update", { show: () => shown(0), key: () => {} });
  let last = -1;
  installUpdate(
    { store: d.storage, crypto: d.crypto, se: d.secure, firmwareKeys: keys, board: d.board, running: d.platform.version, maxBytes: maxBytes, fetchChunk: sync.chunkFetcher(u.version) },
    u,
    (done, total) => {
      const pct = total ? Math.floor((done * 100) / total) : 0;
      if (pct >= last + 10 || done === total) shown((last = pct));
    },
    (err) => {
      k.activity.add(err ? "error" : "update", err ? "update " + err.code : "update " + u.version);
      if (err) return k.result("Update failed", Ink.Alert, [err.code, err.message, "Payments continue on this version"]);
      k.busy("Update installed", ["Version " + u.version, "Restarting"]);
      d.clock.setTimeout(() => d.platform.reboot(), 2000);
    },
  );
}
