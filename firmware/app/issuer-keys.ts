/**
 * The issuer keys the terminal trusts, and their rotation at sync: a key offered is trusted once an issuer key
 * already held has signed it, a revocation once a held key other than the revoked one has (docs/protocol.md
 * section 1), so the last key can never go. Saved as the vault's settings digest first ([new, current]), then the
 * keys (firmware/settings.ts saveIssuerKeys): a power cut between leaves a digest that matches. Keys that could not
 * be saved stay in RAM and are tried again after each sync (`retry`).
 *
 *   const keys = issuerKeys({ device, cfg, altered: () => cfgBad, digest, withVault, log });
 *   keys.key(1);                     // 64-byte public key, or null
 *   onKeys: keys.offered;  onSyncDone: keys.retry();
 */
import type { Device } from "../../hal/device.ts";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import { issuerKeyBody, revokeBody } from "../../protocol/keys.ts";
import { saveIssuerKeys, SETTINGS_SUM, settingsSum } from "../settings.ts";
import type { Settings } from "../settings.ts";
import type { IssuerKeyOffer, IssuerKeyRevoke } from "../sync/sync.ts";
import type { Vault } from "../vault.ts";

export interface IssuerKeyDeps {
  device: Device;
  cfg: Settings;
  /** The settings do not match the vault's digest: no key is trusted. */
  altered(): boolean;
  /** The digest of the settings as they are now (firmware/settings.ts settingsDigest). */
  digest(): Uint8Array;
  withVault(fn: (err: string | null, v?: Vault) => void): void;
  /** An activity-log line: kind ("error", "update") and text. */
  log(kind: "error" | "update", text: string): void;
}

export interface IssuerKeys {
  key(id: number): Uint8Array | null;
  offered(list: IssuerKeyOffer[], revoke: IssuerKeyRevoke[]): void;
  /** Save keys an earlier save could not (after a sync). */
  retry(): void;
}

export function issuerKeys(o: IssuerKeyDeps): IssuerKeys {
  const d = o.device;
  const cfg = o.cfg;
  let unsaved = false;
  const key = (id: number) => {
    const h = cfg.issuerKeys && !o.altered() ? cfg.issuerKeys[String(id)] : undefined;
    const k = h ? fromHex(h) : undefined;
    return k && k.length === 64 ? k : null;
  };
  const save = () => {
    const dg = o.digest();
    unsaved = true;
    o.withVault((e, v) => {
      if (e || !v) return o.log("error", "issuer keys not saved");
      v.put(SETTINGS_SUM, settingsSum(dg, v.value(SETTINGS_SUM) || null), (perr) => {
        unsaved = !!perr || !saveIssuerKeys(d.storage, cfg.issuerKeys);
        if (unsaved) o.log("error", "issuer keys not saved");
      });
    });
  };
  return {
    key: key,
    retry: () => (unsaved ? save() : undefined),
    // additions first, then revocations
    offered(list: IssuerKeyOffer[], revoke: IssuerKeyRevoke[]) {
      let changed = false;
      const n = list.length;
      const step = (i: number): void => {
        if (i >= n + revoke.length) return changed ? save() : undefined;
        const k: { id: number; by: number; sig: Uint8Array; pub?: Uint8Array } = i < n ? list[i] : revoke[i - n];
        const id = String(k.id);
        const held = cfg.issuerKeys[id];
        const by = key(k.by);
        const what = (k.pub ? "key " : "revoke ") + id;
        if (k.pub ? held || !by : !held || !by) {
          if (k.pub ? held !== toHex(k.pub) : held) o.log("error", what + (by ? " id taken" : " unknown signer"));
          return step(i + 1);
        }
        d.secure.verify(d.crypto.sha256(k.pub ? issuerKeyBody(k.id, k.pub) : revokeBody(k.id)), k.sig, by as Uint8Array, (e, ok) => {
          if (e || !ok) o.log("error", what + " bad signature");
          else {
            if (k.pub) cfg.issuerKeys[id] = toHex(k.pub);
            else delete cfg.issuerKeys[id];
            changed = true;
            o.log("update", "issuer " + what);
          }
          step(i + 1);
        });
      };
      step(0);
    },
  };
}
