/**
 * The `authorize` link op (docs/sync.md section 3): an online terminal's customer-presented wallet payment, sent to
 * the gateway before it is journaled, and the gateway's answer. Pure: the request and reply travel sealed like every
 * link message (protocol/sync.ts); the sealed reply, under the request's seq and echoing its nonce and txId, is the
 * proof the terminal acts on.
 *
 *   terminal: body = sealRequest(c, keys, seq, { op: AUTHORIZE_OP, tid, nonce, entry: toBase64(entryBytes) })
 *   gateway:  reply = { nonce, result: "approved", txId, ref, status: "approved", time }
 *                   | { nonce, result: "declined", txId, code: "A_DENIED", message }
 *   terminal: const a = authorizeAnswer(openedReply.msg, toHex(txId));   // null: not an answer to this payment
 */
import type { LinkReply } from "./sync.ts";

export const AUTHORIZE_OP = "authorize";
/** How long the terminal waits for the gateway's answer before it says so and goes on offline. */
export const AUTHORIZE_MS = 3000;

/** The gateway's answer as the terminal reads it. */
export interface AuthorizeAnswer {
  approved: boolean;
  /** Declined: the reason code (A_* or an upload's E_*) and its text. */
  code: string;
  message: string;
}

/**
 * The answer of an authentic reply for the payment with txId `txHex` (16 hex digits), or null when the reply is not
 * one (another txId, no result, a declined one without a code): the terminal treats that as no answer.
 */
export function authorizeAnswer(m: LinkReply, txHex: string): AuthorizeAnswer | null {
  if (m.txId !== txHex) return null;
  if (m.result === "approved") return { approved: true, code: "", message: "" };
  if (m.result !== "declined" || typeof m.code !== "string") return null;
  return { approved: false, code: m.code.slice(0, 16), message: typeof m.message === "string" ? m.message.slice(0, 80) : "" };
}
