/**
 * Service printouts: the provisioning slip (who this terminal is, for the technician's records) and diagnostics.
 *
 *   printer.print(provisioningJob({ terminalId: 42, merchantName, merchantId, gatewayUrl, firmware: "1.4.0",
 *     identityKeyHex, timeMs: now }, opts), done);
 *   printer.print(diagnosticsJob(["SE ok", "Journal 12/4096"], { timeMs: now }), done);
 */
import { COLUMNS, EscPos } from "../../hal/escpos.ts";
import { heading, qrBlock, rule } from "./common.ts";
import type { PrintOptions } from "./common.ts";
import { formatDateTime } from "./time.ts";

export interface ProvisioningInfo {
  terminalId: number;
  merchantName: string;
  merchantId: string;
  gatewayUrl: string;
  firmware: string;
  /** The terminal's identity public key (64 bytes) in hex, printed 32 characters a line. */
  identityKeyHex: string;
  timeMs: number;
  /** Optional QR text (e.g. the identity key in Base45 for the gateway's registration screen). */
  qr?: string;
}

/** Text cut into lines of 32 characters. */
function wrapped(p: EscPos, s: string): EscPos {
  for (let i = 0; i < s.length; i += COLUMNS) p.line(s.slice(i, i + COLUMNS));
  return p;
}

export function provisioningJob(r: ProvisioningInfo, o: PrintOptions): Uint8Array {
  const p = heading(new EscPos(), r.merchantName, r.merchantId, r.terminalId, o);
  rule(p);
  p.align(1).bold(true).line("PROVISIONED").bold(false).align(0);
  p.pair("Time", formatDateTime(r.timeMs));
  p.pair("Firmware", r.firmware);
  p.line("Gateway");
  wrapped(p, r.gatewayUrl);
  p.line("Identity key");
  wrapped(p, r.identityKeyHex);
  if (r.qr) qrBlock(p, r.qr, o);
  return p.feed(3).bytes();
}

/** Any lines (each wrapped at 32 characters) under a "DIAGNOSTICS" title and the time. */
export function diagnosticsJob(lines: string[], o: PrintOptions & { timeMs?: number; title?: string }): Uint8Array {
  const p = new EscPos().init().align(1).bold(true).line(o.title || "DIAGNOSTICS").bold(false).align(0);
  if (o.timeMs !== undefined) p.line(formatDateTime(o.timeMs));
  rule(p);
  for (let i = 0; i < lines.length; i++) wrapped(p, lines[i].length ? lines[i] : " ");
  return p.feed(3).bytes();
}
