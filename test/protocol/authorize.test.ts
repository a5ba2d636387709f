/** The `authorize` link op's reply as the terminal reads it (docs/sync.md, op authorize). */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { AUTHORIZE_MS, AUTHORIZE_OP, authorizeAnswer } from "../../protocol/authorize.ts";
import { isLinkError, linkKeys, openReply, openRequest, sealReply, sealRequest } from "../../protocol/sync.ts";
import { crypto } from "./helpers.ts";

const TX = "002a000000000007";

describe("protocol: the authorize op", () => {
  it("reads an approval for this payment's txId", () => {
    assert.deepEqual(authorizeAnswer({ nonce: "n", result: "approved", txId: TX, ref: TX, status: "approved", time: 1 }, TX), { approved: true, code: "", message: "" });
  });

  it("reads a decline with its code and message", () => {
    assert.deepEqual(authorizeAnswer({ nonce: "n", result: "declined", txId: TX, code: "A_DENIED", message: "the wallet is on the deny list" }, TX), { approved: false, code: "A_DENIED", message: "the wallet is on the deny list" });
  });

  it("takes an answer for another txId, without a result, or a decline without a code as no answer", () => {
    assert.equal(authorizeAnswer({ nonce: "n", result: "approved", txId: "002a000000000008" }, TX), null);
    assert.equal(authorizeAnswer({ nonce: "n", txId: TX }, TX), null);
    assert.equal(authorizeAnswer({ nonce: "n", result: "maybe", txId: TX }, TX), null);
    assert.equal(authorizeAnswer({ nonce: "n", result: "declined", txId: TX }, TX), null);
  });

  it("travels sealed like every link op: an approval replayed to a later request does not open", () => {
    const keys = linkKeys(crypto, new Uint8Array(randomBytes(32)));
    const nonce = "0123456789abcdef";
    const body = sealRequest(crypto, keys, 7, { op: AUTHORIZE_OP, tid: 42, nonce, entry: "AAAA" });
    const r = openRequest(crypto, keys, body, { lastSeq: 6, op: AUTHORIZE_OP, tid: 42 });
    assert.ok(!isLinkError(r));
    const reply = sealReply(crypto, keys, r.seq, { nonce, result: "approved", txId: TX });
    const ok = openReply(crypto, keys, reply, { seq: 7, nonce });
    assert.ok(!isLinkError(ok) && authorizeAnswer(ok.msg, TX)?.approved);
    const later = openReply(crypto, keys, reply, { seq: 8, nonce: "fedcba9876543210" });
    assert.ok(isLinkError(later) && later.code === "REPLY_REPLAY");
    assert.ok(AUTHORIZE_MS >= 2000 && AUTHORIZE_MS <= 5000, "a few seconds");
  });
});
