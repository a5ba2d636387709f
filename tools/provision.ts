/**
 * npm run provision -- --board devkit --port <serial | tcp://host:port> --terminal-id 7 --merchant-id 42
 *   --merchant-name "Cafe Blue" --gateway-url https://gw.example/ --link-key <hex 64 bytes>
 *   (--issuer-key-file key.hex [--issuer-key-id 1] | --cert-file cert.hex --issuer-pub <hex>)
 *   [--wifi "ssid:password,ssid2:password2"] [--limits '{"perTxMinor":5000,...}'] [--tech-pin 2580] [--currency EUR]
 *   [--merchant-pin 1234] [--order-key <hex, the merchant's order hand-off key, 16 to 64 bytes>]
 *   [--firmware-pub <hex 64 bytes> [--firmware-key-id 1]]
 *
 * With the terminal's console open (technician menu, "Open console"):
 * 1. checks the board, then creates (first time) or reads the terminal's identity key in the secure element;
 * 2. gets its certificate: signed here with the issuer key (the reference issuer, gateway/issuer.ts), or
 *    taken from a file the gateway's registration produced;
 * 3. sends terminal ID, merchant, gateway URL and link key, issuer key, the firmware public key (the offline key
 *    updates are signed with, tools/sign-update.ts; without one the terminal installs no update), Wi-Fi networks
 *    and limits; the terminal
 *    checks the certificate, keeps Wi-Fi passwords, the order key and the PIN hashes in its vault only, and prints a
 *    provisioning receipt.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeTerminalCert } from "../protocol/messages.ts";
import { Issuer } from "../gateway/issuer.ts";
import { checkBoard } from "./flash.ts";
import { checkPort, defaultOut, loadBoardDef, runMain } from "./common.ts";
import { espruinoBoardJson, openLink, ToolError } from "./link.ts";
import { techCall } from "./tech.ts";

export const PROVISION_USAGE = [
  "usage: npm run provision -- --board BOARD --port PORT --terminal-id N --merchant-id N --merchant-name NAME",
  "         --gateway-url URL --link-key HEX (--issuer-key-file FILE [--issuer-key-id N] | --cert-file FILE --issuer-pub HEX)",
  "         [--currency EUR] [--wifi ssid:pw,ssid2:pw2] [--limits JSON] [--tech-pin DIGITS] [--merchant-pin DIGITS]",
  "         [--order-key HEX] [--firmware-pub HEX [--firmware-key-id N]] [--cert-days N] [--verbose]",
  "  --link-key         the gateway's link public key X||Y, 128 hex digits",
  "  --issuer-key-file  sign the terminal certificate here with this issuer key (64 hex digits)",
  "  --cert-file        or a certificate from the gateway's registration, with --issuer-pub",
  "  --firmware-pub     the offline firmware key's public key (tools/sign-update.ts --new-key); none: no updates",
  "The first run configures and LOCKS the secure element (irreversible on a real part). The console must be open",
  "(technician menu, 1): docs/technician.md.",
].join("\n");

export interface ProvisionOptions {
  board: string;
  port: string;
  terminalId: number;
  merchantId: number;
  merchantName: string;
  currency?: string;
  gatewayUrl: string;
  /** Gateway's link public key X||Y, hex. */
  linkKey: string;
  /** Issues the terminal certificate for the identity public key (X||Y). */
  certify: (identity: Uint8Array) => Promise<{ cert: Uint8Array; issuerKeyId: number; issuerPub: Uint8Array }>;
  wifi?: { ssid: string; password: string }[];
  limits?: Record<string, number>;
  techPin?: string;
  /** The merchant's PIN for refunds and voids. */
  merchantPin?: string;
  /** The merchant's order hand-off key (HMAC), hex. */
  orderKey?: string;
  /** Firmware public keys X||Y (hex) by key ID: the offline keys updates are signed with (never an issuer key). */
  firmwareKeys?: { [id: string]: string };
  verbose?: boolean;
  out?: (line: string) => void;
}

export interface ProvisionResult {
  identity: string;
  created: boolean;
  cert: string;
  printed: boolean;
}

/** Certificates signed here by an issuer key (the reference issuer, gateway/issuer.ts), as a gateway's registration does. */
export function issuerCertify(iss: Issuer, terminalId: number, merchantId: number, expiryDay: number): ProvisionOptions["certify"] {
  return async (identity) => ({
    cert: iss.issueTerminalCert({ terminalId, merchantId, terminalPub: identity, expiryDay }),
    issuerKeyId: iss.keyId,
    issuerPub: iss.publicKey,
  });
}

export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
  const out = o.out ?? defaultOut;
  const def = await loadBoardDef(o.board);
  if (!(o.terminalId > 0) || !(o.merchantId > 0)) throw new ToolError("USAGE", "--terminal-id and --merchant-id must be positive numbers");
  if (!o.gatewayUrl) throw new ToolError("USAGE", "missing --gateway-url");
  if (!/^[0-9a-fA-F]{128}$/.test(o.linkKey || "")) throw new ToolError("USAGE", "--link-key must be the gateway's link public key X||Y as 128 hex digits");
  if (o.techPin !== undefined && !/^[0-9]{4,8}$/.test(o.techPin)) throw new ToolError("USAGE", "--tech-pin must be 4 to 8 digits");
  if (o.merchantPin !== undefined && !/^[0-9]{4,8}$/.test(o.merchantPin)) throw new ToolError("USAGE", "--merchant-pin must be 4 to 8 digits");
  if (o.orderKey !== undefined && !/^([0-9a-fA-F]{2}){16,64}$/.test(o.orderKey)) throw new ToolError("USAGE", "--order-key must be 16 to 64 bytes in hex");
  for (const k in o.firmwareKeys ?? {}) {
    if (!/^[0-9]{1,3}$/.test(k) || Number(k) > 255 || String(Number(k)) !== k || !/^[0-9a-fA-F]{128}$/.test(o.firmwareKeys![k])) {
      throw new ToolError("USAGE", "--firmware-pub must be a firmware public key X||Y as 128 hex digits, --firmware-key-id 0 to 255");
    }
  }
  const port = await checkPort(o.port);
  const link = await openLink({ port, board: espruinoBoardJson(def), verbose: o.verbose });
  try {
    const env = await checkBoard(link, def.platform.id, def.platform.espruinoVersion, out);
    out("provision: " + port + " is " + env.BOARD + ", Espruino " + env.VERSION);
    const info = await techCall(link, { op: "info" });
    out("provision: firmware " + info.version + (info.terminalId ? ", already terminal " + info.terminalId + " (re-provisioning)" : ""));
    const id = await techCall(link, { op: "identity", create: true });
    out("provision: identity key " + (id.created ? "created" : "read") + " in the secure element: " + String(id.pub).slice(0, 32) + "...");
    const identity = new Uint8Array(Buffer.from(String(id.pub), "hex"));
    const c = await o.certify(identity);
    const decoded = decodeTerminalCert(c.cert);
    if (!decoded || Buffer.from(decoded.terminalPub).toString("hex") !== id.pub) throw new ToolError("DEVICE_ERROR", "the certificate obtained is not for this terminal's identity key");
    out("provision: certificate for terminal " + decoded.terminalId + " of merchant " + decoded.merchantId + " (issuer key " + c.issuerKeyId + ")");
    const r = await techCall(
      link,
      {
        op: "provision",
        terminalId: o.terminalId,
        merchantId: o.merchantId,
        merchantName: o.merchantName,
        currency: o.currency,
        gatewayUrl: o.gatewayUrl,
        linkKey: o.linkKey.toLowerCase(),
        cert: Buffer.from(c.cert).toString("hex"),
        issuerKeys: { [String(c.issuerKeyId)]: Buffer.from(c.issuerPub).toString("hex") },
        wifi: o.wifi ?? [],
        limits: o.limits,
        techPin: o.techPin,
        merchantPin: o.merchantPin,
        orderKey: o.orderKey,
        firmwareKeys: lowerValues(o.firmwareKeys ?? {}),
      },
      30000,
    );
    if (!Object.keys(o.firmwareKeys ?? {}).length) out("provision: no firmware key given: this terminal will install no update");
    out("provision: written; receipt " + (r.printed ? "printed" : "NOT printed (" + r.printError + ")"));
    return { identity: String(id.pub), created: !!id.created, cert: Buffer.from(c.cert).toString("hex"), printed: !!r.printed };
  } finally {
    await link.close();
  }
}

function lowerValues(m: { [id: string]: string }): { [id: string]: string } {
  const r: { [id: string]: string } = {};
  for (const k in m) r[k] = m[k].toLowerCase();
  return r;
}

function parseWifi(s: string | undefined): { ssid: string; password: string }[] {
  if (!s) return [];
  return s.split(",").map((x) => {
    const i = x.indexOf(":");
    if (i <= 0) throw new ToolError("USAGE", "--wifi takes ssid:password pairs separated by commas");
    return { ssid: x.slice(0, i), password: x.slice(i + 1) };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMain("provision", async (a) => {
    const terminalId = Number(a["terminal-id"]);
    const merchantId = Number(a["merchant-id"]);
    const expiryDay = Math.floor(Date.now() / 86400000) + Number(a["cert-days"] ?? 3 * 365);
    let certify: ProvisionOptions["certify"];
    if (a["issuer-key-file"]) {
      const iss = new Issuer({ keyId: Number(a["issuer-key-id"] ?? 1), privateKey: new Uint8Array(Buffer.from(readFileSync(a["issuer-key-file"], "utf8").trim(), "hex")) });
      certify = issuerCertify(iss, terminalId, merchantId, expiryDay);
    } else if (a["cert-file"] && a["issuer-pub"]) {
      const cert = new Uint8Array(Buffer.from(readFileSync(a["cert-file"], "utf8").trim(), "hex"));
      const d = decodeTerminalCert(cert);
      if (!d) throw new ToolError("USAGE", "--cert-file does not hold a terminal certificate");
      certify = async () => ({ cert, issuerKeyId: d.issuerKeyId, issuerPub: new Uint8Array(Buffer.from(a["issuer-pub"], "hex")) });
    } else throw new ToolError("USAGE", "give --issuer-key-file (sign here) or --cert-file with --issuer-pub (from the gateway's registration)");
    await provision({
      board: a.board,
      port: a.port,
      terminalId,
      merchantId,
      merchantName: a["merchant-name"] ?? "",
      currency: a.currency,
      gatewayUrl: a["gateway-url"],
      linkKey: a["link-key"],
      certify,
      wifi: parseWifi(a.wifi),
      limits: a.limits ? JSON.parse(a.limits) : undefined,
      techPin: a["tech-pin"],
      merchantPin: a["merchant-pin"],
      orderKey: a["order-key"],
      firmwareKeys: a["firmware-pub"] ? { [String(Number(a["firmware-key-id"] ?? 1))]: a["firmware-pub"] } : undefined,
      verbose: a.verbose === "true",
    });
  }, PROVISION_USAGE);
}
