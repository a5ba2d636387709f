/**
 * The technician's console commands, answered by the firmware once the technician unlock has given the console
 * back (technician menu, "Open console"). tools/provision.ts and tools/diagnose.ts call them over the console:
 * each request is one JSON text with an `id` and an `op`; each answer is one line `TECH <json>` with the same
 * `id` and either `ok: true` and the result, or `ok: false` and an `error`.
 *
 *   const handle = techConsole({ device, vault, out: (l) => print(l) });
 *   handle('{"id":1,"op":"identity","create":true}');   // prints TECH {"id":1,"ok":true,"pub":"04ab..."}
 *
 * ops:
 * - `info`: firmware version, board, running update slot, terminal ID, memory and Storage figures.
 * - `identity` {create}: the identity public key in secure-element slot 0, generating it first when asked and
 *   the slot is empty.
 * - `provision` {terminalId, merchantId, merchantName, currency, gatewayUrl, linkKey, cert, issuerKeys, firmwareKeys, wifi,
 *   limits, techPin}: checks the certificate (the issuer's signature, this terminal's key and ID), writes
 *   the public settings (cfg.json, cert.bin, limits.json) and the secrets (Wi-Fi passwords as `wifi.<n>`, the
 *   technician PIN as a salted hash `pin.tech`, firmware/vault.ts hashPin) to the vault only, then prints the
 *   provisioning receipt.
 * - `diagnose` {interactiveMs}: the self-tests of ./diagnose.ts, printed as a report.
 * - `order` {link}: a store's pay-api link typed by the technician (docs/orders.md): checked as a scanned one is;
 *   answered with its `orderRef` and `amountMinor`, then the console and the menu close and the order screen opens
 *   (or `ok: false` and the refusal, "O09 Link not from this store (altered?)", the menu staying open).
 */
import type { Device } from "../../hal/device.ts";
import { ascii, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { decodeTerminalCert, signedPart, SIG } from "../../protocol/messages.ts";
import { bytesToText, settingsDigest, settingsSum, SETTINGS_SUM } from "../settings.ts";
import { runningSlot } from "../update/slots.ts";
import { hashPin } from "../vault.ts";
import { seSetup } from "../se-ready.ts";
import type { DiagnosticsReport } from "./diagnose.ts";
import { plainTextJob, reportLines, runDiagnostics } from "./diagnose.ts";

/** The vault as the technician code uses it (helper A's firmware/vault.ts, sealed by keys from the SE). */
export interface SecretVault {
  put(name: string, value: Uint8Array, done: (err: string | null) => void): void;
  get(name: string, done: (err: string | null, value?: Uint8Array) => void): void;
}

/** What the provisioning receipt shows (helper F's provisioningJob takes it). */
export interface ProvisioningInfo {
  terminalId: number;
  merchantId: number;
  merchantName: string;
  gatewayUrl: string;
  identity: string;
  networks: string[];
  version: string;
}

export interface TechDeps {
  device: Device;
  /** Where secrets go; without one, provisioning refuses to store any secret. */
  vault?: SecretVault;
  /** One answer line to the console. */
  out: (line: string) => void;
  /** Receipt builders (helper F: firmware/receipt); a plain text job is printed otherwise. */
  provisioningJob?: (p: ProvisioningInfo) => Uint8Array;
  diagnosticsJob?: (r: DiagnosticsReport) => Uint8Array;
  journalState?: () => string;
  /** A typed order link: checked, then (ok) the order screen opens once the answer is out. */
  order?: (link: string, done: (err: string | null, o?: { orderRef: string; amountMinor: number }) => void) => void;
}

/** 4 to 8 digits. */
export function validPin(pin: unknown): boolean {
  if (typeof pin !== "string" || pin.length < 4 || pin.length > 8) return false;
  for (let i = 0; i < pin.length; i++) if (pin.charCodeAt(i) < 48 || pin.charCodeAt(i) > 57) return false;
  return true;
}

export const CFG_FILE = "cfg.json";
export const CERT_FILE = "cert.bin";
export const LIMITS_FILE = "limits.json";
/** Vault entry names. */
export const TECH_PIN = "pin.tech";
/** The merchant's PIN (refunds and voids), stored as hashPin's salted form. */
export const MERCHANT_PIN = "pin.merchant";
/** Vault name of a merchant's order key (HMAC key of the store's order hand-offs; firmware/app/order.ts). */
export function orderKeySecret(merchantId: number): string {
  return "order." + merchantId;
}
/** Vault name of the n-th Wi-Fi network's password (cfg.json lists the SSIDs in the same order). */
export function wifiSecret(n: number): string {
  return "wifi." + n;
}

function readJson(d: Device, name: string): any {
  const raw = d.storage.read(name);
  if (!raw) return {};
  try {
    return JSON.parse(bytesToText(raw)) || {};
  } catch (e) {
    return {};
  }
}


export function techConsole(deps: TechDeps): (request: string) => void {
  const d = deps.device;
  const answer = (id: unknown, r: any) => {
    r.id = id;
    deps.out("TECH " + JSON.stringify(r));
  };
  const fail = (id: unknown, error: string) => answer(id, { ok: false, error: error });

  /**
   * Slot 0 (identity), read; with `create`, the part is first configured and locked for the terminal and its keys
   * made (../se-ready.ts seSetup, irreversible on a real part; an existing key is never replaced).
   */
  const identity = (create: boolean, done: (err: string | null, pub?: Uint8Array, created?: boolean) => void) => {
    d.secure.publicKey(0, (err, pub) => {
      const had = !err && pub && pub.length === 64;
      if (!create) return had ? done(null, pub, false) : done("no identity key in the secure element (" + err + ")");
      seSetup(d, (serr) =>
        serr ? done("secure element setup failed: " + serr) : d.secure.publicKey(0, (e2, p2) => (e2 || !p2 ? done("no identity key (" + e2 + ")") : done(null, p2, !had))),
      );
    });
  };

  /** Store each secret in the vault in turn. */
  const putSecrets = (names: string[], values: Uint8Array[], done: (err: string | null) => void) => {
    let i = 0;
    const next = (err: string | null) => {
      if (err) return done(err);
      if (i >= names.length) return done(null);
      const k = i++;
      deps.vault!.put(names[k], values[k], next);
    };
    next(null);
  };

  const provision = (id: unknown, p: any) => {
    if (!p || typeof p.terminalId !== "number" || typeof p.merchantId !== "number" || typeof p.gatewayUrl !== "string") return fail(id, "terminalId, merchantId and gatewayUrl are required");
    const cert = fromHex(p.cert || "");
    const c = cert ? decodeTerminalCert(cert) : null;
    if (!c || !cert) return fail(id, "certificate missing or malformed");
    const linkKey = fromHex(p.linkKey || "");
    if (!linkKey || linkKey.length !== 64) return fail(id, "gateway link key must be 64 bytes (X||Y)");
    const issuerHex = p.issuerKeys && p.issuerKeys[String(c.issuerKeyId)];
    const issuerKey = fromHex(issuerHex || "");
    if (!issuerKey || issuerKey.length !== 64) return fail(id, "the certificate's issuer key " + c.issuerKeyId + " was not given");
    // firmware keys (offline, never the issuer keys): the only keys an update is checked against
    const fw = p.firmwareKeys === undefined ? {} : p.firmwareKeys;
    if (!fw || typeof fw !== "object") return fail(id, "firmwareKeys: key ID -> public key X||Y in hex");
    for (const k in fw) {
      const n = parseInt(k, 10);
      const kb = fromHex(typeof fw[k] === "string" ? fw[k] : "");
      if (!(n >= 0 && n <= 255 && String(n) === k) || !kb || kb.length !== 64) return fail(id, "firmware key " + k + " must be an ID 0-255 and 64 bytes (X||Y) in hex");
    }
    const wifi: { ssid: string; password: string }[] = p.wifi || [];
    const names: string[] = [];
    const values: Uint8Array[] = [];
    for (let i = 0; i < wifi.length; i++) {
      if (!wifi[i] || typeof wifi[i].ssid !== "string" || typeof wifi[i].password !== "string") return fail(id, "wifi entries need ssid and password");
      names.push(wifiSecret(i));
      values.push(ascii(wifi[i].password));
    }
    if (p.orderKey !== undefined) {
      const ok = fromHex(typeof p.orderKey === "string" ? p.orderKey : "");
      if (!ok || ok.length < 16 || ok.length > 64) return fail(id, "orderKey must be 16 to 64 bytes in hex");
      names.push(orderKeySecret(p.merchantId));
      values.push(ok);
    }
    const pin = p.techPin;
    if (pin !== undefined && !validPin(pin)) return fail(id, "techPin must be 4 to 8 digits");
    const mpin = p.merchantPin;
    if (mpin !== undefined && !validPin(mpin)) return fail(id, "merchantPin must be 4 to 8 digits");
    if ((names.length || pin !== undefined || mpin !== undefined) && !deps.vault) return fail(id, "no vault on this firmware: secrets are never written in plaintext");
    // A PIN's stored form (firmware/vault.ts hashPin): a salt from the secure element's RNG and an HMAC.
    const hashed = (name: string, value: string | undefined, next: () => void) => {
      if (value === undefined) return next();
      d.secure.random((rerr, salt) => {
        if (rerr || !salt || salt.length < 16) return fail(id, "secure element RNG: " + rerr);
        names.push(name);
        values.push(hashPin(d.crypto, salt, value));
        next();
      });
    };
    const withPin = (next: () => void) => hashed(TECH_PIN, pin, () => hashed(MERCHANT_PIN, mpin, next));
    withPin(() => identity(false, (err, pub) => {
      if (err || !pub) return fail(id, err || "no identity");
      if (toHex(c.terminalPub) !== toHex(pub)) return fail(id, "the certificate is for another key than this terminal's identity");
      if (c.terminalId !== p.terminalId || c.merchantId !== p.merchantId) return fail(id, "the certificate names terminal " + c.terminalId + " of merchant " + c.merchantId);
      const digest = d.crypto.sha256(signedPart(cert));
      d.secure.verify(digest, cert.subarray(cert.length - SIG), issuerKey, (verr, valid) => {
        if (verr) return fail(id, "secure element: " + verr);
        if (valid !== true) return fail(id, "the certificate is not signed by issuer key " + c.issuerKeyId);
        const cfg = readJson(d, CFG_FILE);
        cfg.terminalId = String(p.terminalId);
        cfg.merchantId = p.merchantId;
        cfg.merchantName = String(p.merchantName || "");
        if (typeof p.currency === "string") cfg.currency = p.currency;
        cfg.gatewayUrl = p.gatewayUrl;
        cfg.linkKey = toHex(linkKey);
        cfg.issuerKeys = p.issuerKeys;
        cfg.firmwareKeys = fw;
        cfg.wifi = wifi.map((w) => w.ssid);
        const cfgRaw = ascii(JSON.stringify(cfg));
        const limRaw = p.limits ? ascii(JSON.stringify(p.limits)) : d.storage.read(LIMITS_FILE);
        // the settings' digest goes into the vault (sealed under the secure element's key): checked at boot
        if (deps.vault) {
          names.push(SETTINGS_SUM);
          values.push(settingsSum(settingsDigest(d.crypto, cfgRaw, limRaw, p.issuerKeys), null));
        }
        putSecrets(names, values, (serr) => {
          if (serr) return fail(id, "vault: " + serr);
          let ok = d.storage.write(CERT_FILE, cert) && d.storage.write(CFG_FILE, cfgRaw);
          if (ok && p.limits) ok = d.storage.write(LIMITS_FILE, limRaw as Uint8Array);
          if (!ok) return fail(id, "Storage full: settings not written");
          const info: ProvisioningInfo = {
            terminalId: p.terminalId,
            merchantId: p.merchantId,
            merchantName: cfg.merchantName,
            gatewayUrl: p.gatewayUrl,
            identity: toHex(pub).slice(0, 16),
            networks: cfg.wifi,
            version: d.platform.version,
          };
          const job = deps.provisioningJob
            ? deps.provisioningJob(info)
            : plainTextJob([
                "TERMINAL PROVISIONED",
                "Terminal " + info.terminalId,
                "Merchant " + info.merchantId,
                info.merchantName.slice(0, 32),
                info.gatewayUrl.slice(0, 32),
                "Key " + info.identity,
                "Wi-Fi " + info.networks.join(", ").slice(0, 25),
                "Firmware " + info.version,
              ]);
          d.printer.print(job, (perr) => answer(id, { ok: true, printed: !perr, printError: perr || undefined }));
        });
      });
    }));
  };

  return (request: string) => {
    let q: any;
    try {
      q = JSON.parse(request);
    } catch (e) {
      return fail(null, "request is not JSON");
    }
    const id = q && q.id;
    const op = q && q.op;
    if (op === "info") {
      const cfg = readJson(d, CFG_FILE);
      const st = d.storage.stats();
      const m = d.platform.memory();
      return answer(id, { ok: true, version: d.platform.version, board: d.board, slot: runningSlot(d.storage), terminalId: cfg.terminalId || "", memory: m, storage: st });
    }
    if (op === "identity") {
      return identity(!!q.create, (err, pub, created) => (err ? fail(id, err) : answer(id, { ok: true, pub: toHex(pub!), created: !!created })));
    }
    if (op === "provision") return provision(id, q);
    if (op === "diagnose") {
      return runDiagnostics({ device: d, interactiveMs: q.interactiveMs || 0, journalState: deps.journalState, testBle: !!q.testBle }, (r) => {
        const job = deps.diagnosticsJob ? deps.diagnosticsJob(r) : plainTextJob(reportLines(r));
        if (q.print === false) return answer(id, { ok: true, report: r, printed: false });
        d.printer.print(job, (perr) => answer(id, { ok: true, report: r, printed: !perr, printError: perr || undefined }));
      });
    }
    if (op === "order") {
      if (typeof q.link !== "string" || !deps.order) return fail(id, deps.order ? "link: the pay-api://payNow?... text" : "no order screen here");
      return deps.order(q.link, (e, o) => (e || !o ? fail(id, e || "refused") : answer(id, { ok: true, orderRef: o.orderRef, amountMinor: o.amountMinor })));
    }
    fail(id, "unknown op " + JSON.stringify(op));
  };
}
