/**
 * Bearer tokens that rotate and expire: the admin token (kept in `meta`) and each merchant's API key (its hash on the
 * merchant's row, schema 7). A rotation returns the new secret once; the previous one keeps working for a grace
 * period (default one hour, at most 7 days) so clients can switch over, then answers 401 TOKEN_EXPIRED. A token may
 * be given a lifetime (`expiresInDays`, 0 for none). Several processes see a rotation at once: every check reads
 * the database.
 *
 *   POST /v1/admin/token                   {graceSeconds?, expiresInDays?} -> {adminToken, expiresAt, previousValidUntil}
 *   POST /v1/merchants/{id}/api-key        {graceSeconds?, expiresInDays?} -> {apiKey, expiresAt, previousValidUntil}
 */
import { randomBytes } from "node:crypto";
import type { Gateway } from "./gateway.ts";
import { bad, DAY_MS, GatewayError, sha256Hex } from "./fields.ts";
import type { MerchantRow } from "./store.ts";

export const DEFAULT_GRACE_MS = 3600000;
export const MAX_GRACE_MS = 7 * DAY_MS;

export interface RotateSpec {
  /** How long the previous token still works (default 3600, at most 7 days). */
  graceSeconds?: number;
  /** The new token's lifetime in days (default 0: it does not expire). */
  expiresInDays?: number;
}

export interface Rotated {
  expiresAt: number;
  previousValidUntil: number;
}

function times(g: Gateway, o: RotateSpec): { grace: number; expiresAt: number } {
  const gs = o.graceSeconds ?? DEFAULT_GRACE_MS / 1000;
  if (typeof gs !== "number" || !Number.isInteger(gs) || gs < 0 || gs * 1000 > MAX_GRACE_MS) throw bad("BAD_GRACE", "graceSeconds: 0 to " + MAX_GRACE_MS / 1000);
  const d = o.expiresInDays ?? 0;
  if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > 3650) throw bad("BAD_EXPIRY", "expiresInDays: 0 (never) to 3650");
  return { grace: gs * 1000, expiresAt: d ? g.now() + d * DAY_MS : 0 };
}

/** "ok", "expired" (a token that was valid), or "no" (not the admin token). */
export function adminTokenState(g: Gateway, tok: string): "ok" | "expired" | "no" {
  const h = sha256Hex(tok);
  const now = g.now();
  const cur = g.store.getMeta("adminToken") ?? "";
  if (cur && h === sha256Hex(cur)) {
    const exp = Number(g.store.getMeta("adminTokenExpiresAt") || "0");
    return exp && now >= exp ? "expired" : "ok";
  }
  const prev = g.store.getMeta("adminTokenPrevHash") ?? "";
  if (prev && h === prev) return now < Number(g.store.getMeta("adminTokenPrevUntil") || "0") ? "ok" : "expired";
  return "no";
}

export function rotateAdminToken(g: Gateway, o: RotateSpec): Rotated & { adminToken: string } {
  const { grace, expiresAt } = times(g, o ?? {});
  return g.store.transaction(() => {
    const old = g.store.getMeta("adminToken") ?? "";
    const token = "adm_" + randomBytes(18).toString("hex");
    const previousValidUntil = g.now() + grace;
    g.store.setMeta("adminTokenPrevHash", sha256Hex(old));
    g.store.setMeta("adminTokenPrevUntil", String(previousValidUntil));
    g.store.setMeta("adminToken", token);
    g.store.setMeta("adminTokenExpiresAt", String(expiresAt));
    g.log(0, 0, "admin-token-rotated", { expiresAt, previousValidUntil });
    return { adminToken: token, expiresAt, previousValidUntil };
  });
}

/** The merchant a key belongs to and whether it still works ("expired": it did once). */
export function merchantKeyState(g: Gateway, tok: string): { m: MerchantRow; state: "ok" | "expired" } | null {
  const h = sha256Hex(tok);
  const now = g.now();
  const m = g.store.merchantByKeyHash(h);
  if (m) return { m, state: m.apiKeyExpiresAt && now >= m.apiKeyExpiresAt ? "expired" : "ok" };
  const p = g.store.merchantByPrevKeyHash(h);
  if (p) return { m: p, state: now < (p.prevKeyUntil ?? 0) ? "ok" : "expired" };
  return null;
}

export function rotateMerchantKey(g: Gateway, merchantId: number, o: RotateSpec): Rotated & { apiKey: string } {
  const { grace, expiresAt } = times(g, o ?? {});
  return g.store.transaction(() => {
    const m = g.merchant(merchantId);
    const apiKey = "mk_" + randomBytes(24).toString("hex");
    const previousValidUntil = g.now() + grace;
    g.store.updateMerchant(m.id, { apiKeyHash: sha256Hex(apiKey), apiKeyExpiresAt: expiresAt, prevKeyHash: m.apiKeyHash, prevKeyUntil: previousValidUntil });
    g.log(m.id, 0, "api-key-rotated", { expiresAt, previousValidUntil });
    return { apiKey, expiresAt, previousValidUntil };
  });
}

export function expired(what: string): GatewayError {
  return new GatewayError(401, "TOKEN_EXPIRED", "the " + what + " has expired or was rotated: use the new one");
}
