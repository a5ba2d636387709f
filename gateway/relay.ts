/**
 * Relayed records (docs/protocol.md section 3, "Relayed records"): a terminal's pending journal records that a
 * customer's phone carried here sealed (protocol/relay.ts). POST /v1/wallets/{walletId}/relay `{bundle, time}`,
 * signed by the wallet like every wallet call (routes.ts authenticates it before this runs).
 *
 * The bundle opens under the named terminal's relay keys (relayKeys(Z), Z from the gateway's link key and the
 * terminal's identity key, as the link's); its
 * records then go through the link's own upload entry (link.ts upload(), then ingest()), exactly as if the
 * terminal had uploaded them: the same checks, entered once by record and txId. So a second upload of the bundle,
 * by this phone or another, and the terminal's own upload of the same records later, are acknowledged as
 * duplicates and enter nothing. A bundle that does not authenticate is refused whole (400 RELAY_AUTH) and, the
 * request being one store transaction, changes nothing at all.
 */
import { toHex } from "./hex.ts";
import { openRelay, relayKeys, relayTerminalId, RELAY_FORMAT } from "../protocol/relay.ts";
import { createECDH } from "node:crypto";
import type { LinkRequest } from "../protocol/sync.ts";
import { toBase64 } from "../protocol/sync.ts";
import type { Gateway } from "./gateway.ts";
import { GatewayError, strictBase64 } from "./fields.ts";

/** What the route answers: the upload's reply for the bundle's terminal. */
export interface RelayReply {
  terminalId: number;
  acked: number[];
  rejected: { seq: number; code: string; message: string }[];
}

/** Opens a relayed bundle and enters its records through the link's upload (idempotent). Throws GatewayError. */
export function relayBundle(g: Gateway, walletId: string, b: Record<string, unknown>): RelayReply {
  const bytes = typeof b.bundle === "string" ? strictBase64(b.bundle) : null;
  const tid = bytes ? relayTerminalId(bytes) : null;
  if (!bytes || tid === null) throw new GatewayError(400, RELAY_FORMAT, "bundle: a relay bundle as standard base64 (01 50, terminal ID, sealed records)");
  const t = g.store.getTerminal(tid);
  if (!t) throw new GatewayError(404, "UNKNOWN_TERMINAL", "the bundle names terminal " + tid + ", which is not registered");
  if (t.revokedAt) throw new GatewayError(403, "TERMINAL_REVOKED", "the bundle's terminal " + tid + " was revoked");
  // Z as the link's keysFor() makes it (docs/sync.md section 1); one ECDH per bundle, nothing cached
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(g.linkPrivate));
  const z = new Uint8Array(ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(t.pub)])));
  const o = openRelay(g.crypto, relayKeys(g.crypto, z), bytes);
  if ("code" in o) throw new GatewayError(400, o.code, o.message);
  const records = o.records.map((r) => (r.prev ? { seq: r.seq, prev: toHex(r.prev), entry: toBase64(r.entry) } : { seq: r.seq, entry: toBase64(r.entry) }));
  const msg: LinkRequest = { op: "upload", tid: tid, nonce: "", records: records };
  const reply = g.upload(t, msg) as { acked: number[]; rejected: RelayReply["rejected"] };
  g.log(t.merchantId, t.id, "relay", { walletId, bundleSeq: o.seq, records: records.length, acked: reply.acked.length, rejected: reply.rejected.length });
  return { terminalId: tid, acked: reply.acked, rejected: reply.rejected };
}
