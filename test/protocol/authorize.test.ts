/** The `authorize` link op (docs/sync.md, op authorize): its name and wait, and its reply bound to one request. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Authorize } from "../../protocol/authorize.ts";
import type { AuthorizeReply } from "../../protocol/authorize.ts";
import { isLinkError, linkKeys, openReply, openRequest, sealReply, sealRequest } from "../../protocol/sync.ts";
import { crypto } from "./helpers.ts";

const TX = "002a000000000007";

describe("protocol: the authorize op", () => {
  it("is the link op `authorize`, and the terminal waits a few seconds for it", () => {
    const op: string = Authorize.Op;
    assert.equal(op, "authorize");
    assert.ok(Authorize.Ms >= 2000 && Authorize.Ms <= 5000, "a few seconds");
  });

  it("travels sealed like every link op: an approval replayed to a later request does not open", () => {
    const keys = linkKeys(crypto, new Uint8Array(randomBytes(32)));
    const nonce = "0123456789abcdef";
    const op: string = Authorize.Op;
    const body = sealRequest(crypto, keys, 7, { op, tid: 42, nonce, entry: "AAAA" });
    const r = openRequest(crypto, keys, body, { lastSeq: 6, op, tid: 42 });
    assert.ok(!isLinkError(r));
    const answer: AuthorizeReply = { result: "approved", txId: TX, ref: TX, status: "approved", time: 1 };
    const reply = sealReply(crypto, keys, r.seq, { nonce, ...answer });
    const ok = openReply(crypto, keys, reply, { seq: 7, nonce });
    assert.ok(!isLinkError(ok) && ok.msg.result === "approved" && ok.msg.txId === TX);
    const later = openReply(crypto, keys, reply, { seq: 8, nonce: "fedcba9876543210" });
    assert.ok(isLinkError(later) && later.code === "REPLY_REPLAY");
  });
});
