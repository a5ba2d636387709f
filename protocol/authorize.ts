/**
 * The `authorize` link op (docs/sync.md section 3): an online terminal's customer-presented wallet payment, sent to
 * the gateway before it is journaled, and the gateway's answer. The request and reply travel sealed like every link
 * message (protocol/sync.ts); the sealed reply, under the request's seq and echoing its nonce and txId, is the
 * proof the terminal acts on.
 *
 *   terminal: body = sealRequest(c, keys, seq, { op: Authorize.Op, tid, nonce, entry: toBase64(entryBytes) })
 *   gateway:  reply: AuthorizeReply = { result: "approved", txId, ref, status: "approved", time }
 *                                   | { result: "declined", txId, code: "A_DENIED", message }
 *   terminal: only a reply whose txId is its payment's decides (firmware/app/pay.ts); anything else is no answer
 */

/**
 * The op's name, and how long the terminal waits for the gateway's answer before it says so and goes on offline.
 * A const enum: inlined where used, so the device keeps no variable for either (its idle JsVars are counted).
 */
export const enum Authorize {
  Op = "authorize",
  Ms = 3000,
  /**
   * How long a payment the offline limits refuse waits in all for the link's own end before it is refused: the
   * request may queue behind one in flight (the sync's 15 s HTTP timeout), then take its own 15 s.
   */
  LastMs = 35000,
}

/** The reply's fields besides `nonce` (docs/sync.md; docs/gateway-api.yaml AuthorizeReply). */
export type AuthorizeReply =
  | { result: "approved"; txId: string; ref: string; status: "approved"; time: number }
  | { result: "declined"; txId: string; code: string; message: string };
