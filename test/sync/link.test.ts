import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { seal } from "../../protocol/seal.ts";
import type { LinkError, LinkReply, LinkRequest } from "../../protocol/sync.ts";
import {
  fromBase64,
  isLinkError,
  jsonBytes,
  linkKeys,
  linkPath,
  openReply,
  openRequest,
  plainError,
  sealReply,
  sealRequest,
  toBase64,
} from "../../protocol/sync.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";

const c = nodeCrypto();
const Z = new Uint8Array(32).fill(0x5a);
const K = linkKeys(c, Z);
const NONCE = "0011223344556677";
const HELLO: LinkRequest = { op: "hello", tid: 42, nonce: NONCE, fw: "1.0.0" };

function err(x: unknown): LinkError {
  assert.ok(isLinkError(x), "expected a LinkError, got " + JSON.stringify(x));
  return x;
}

function flipBase64(body: string, byte: number): string {
  const b = fromBase64(body) as Uint8Array;
  b[byte] ^= 1;
  return toBase64(b);
}

describe("link codec (protocol/sync.ts)", () => {
  describe("base64", () => {
    it("matches Node's encoding for every length 0..40", () => {
      for (let n = 0; n <= 40; n++) {
        const b = new Uint8Array(randomBytes(n));
        assert.equal(toBase64(b), Buffer.from(b).toString("base64"));
        assert.deepEqual(fromBase64(Buffer.from(b).toString("base64")), b);
      }
    });
    it("rejects bad length, characters, inner padding, non-zero pad bits and URL-safe letters", () => {
      for (const s of ["A", "AAA", "AA=A", "A===", "====", "AB==", "AAB=", "AA A", "AA-_", "AA\nA", "AAAA=", "AAA\u00e9"]) {
        assert.equal(fromBase64(s), undefined, JSON.stringify(s));
      }
      assert.deepEqual(fromBase64("AA=="), new Uint8Array([0]));
      assert.deepEqual(fromBase64(""), new Uint8Array(0));
    });
  });

  it("derives each key as HMAC-SHA256(Z, label)[0..16]", () => {
    const h = (label: string) => new Uint8Array(createHmac("sha256", Z).update(label).digest().subarray(0, 16));
    assert.deepEqual(K.t2g.enc, h("t2g enc"));
    assert.deepEqual(K.t2g.mac, h("t2g mac"));
    assert.deepEqual(K.g2t.enc, h("g2t enc"));
    assert.deepEqual(K.g2t.mac, h("g2t mac"));
    assert.equal(K.t2g.keyId, 1);
    assert.equal(K.g2t.keyId, 1);
  });

  it("names the path of an op under /v1/t/<terminalId>", () => {
    assert.equal(linkPath(42, "update-chunk"), "/v1/t/42/update-chunk");
  });

  it("writes JSON as ASCII, escaping anything else", () => {
    assert.equal(Buffer.from(jsonBytes({ m: "caf\u00e9 \u20ac" })).toString("latin1"), '{"m":"caf\\u00e9 \\u20ac"}');
    assert.equal(Buffer.from(jsonBytes({ m: "\u0001\u007f\n\"\\" })).toString("latin1"), '{"m":"\\u0001\\u007f\\n\\"\\\\"}');
  });

  describe("request (gateway side)", () => {
    it("opens what the terminal sealed, with its seq", () => {
      const r = openRequest(c, K, sealRequest(c, K, 7, HELLO), { lastSeq: 6, op: "hello", tid: 42 });
      assert.ok(!isLinkError(r));
      assert.equal(r.seq, 7);
      assert.deepEqual(r.msg, HELLO);
    });
    it("rejects a replayed seq (equal to or below the last accepted)", () => {
      const body = sealRequest(c, K, 7, HELLO);
      assert.equal(err(openRequest(c, K, body, { lastSeq: 7 })).code, "REQ_REPLAY");
      assert.equal(err(openRequest(c, K, body, { lastSeq: 9 })).status, 409);
    });
    it("rejects a tampered body as unauthenticated (401)", () => {
      const body = sealRequest(c, K, 7, HELLO);
      for (const at of [2, 10, 30, 40]) {
        const e = err(openRequest(c, K, flipBase64(body, at), { lastSeq: 0 }));
        assert.equal(e.code, "REQ_AUTH");
        assert.equal(e.status, 401);
      }
    });
    it("rejects a body sealed with the gateway-to-terminal keys (reflection)", () => {
      const reflected = toBase64(seal(c, K.g2t, 7, jsonBytes(HELLO)));
      assert.equal(err(openRequest(c, K, reflected, { lastSeq: 0 })).code, "REQ_AUTH");
    });
    it("rejects a body from another terminal's keys", () => {
      const other = linkKeys(c, new Uint8Array(32).fill(1));
      assert.equal(err(openRequest(c, K, sealRequest(c, other, 7, HELLO), { lastSeq: 0 })).code, "REQ_AUTH");
    });
    it("rejects a body that is not base64 (400)", () => {
      const e = err(openRequest(c, K, "not base64!", { lastSeq: 0 }));
      assert.equal(e.code, "REQ_BODY");
      assert.equal(e.status, 400);
    });
    it("rejects an authentic plaintext without op, tid or a 16-hex-digit nonce", () => {
      for (const bad of [{ tid: 42, nonce: NONCE }, { op: "hello", tid: "42", nonce: NONCE }, { op: "hello", tid: 42, nonce: "00112233" }, { op: "hello", tid: 42, nonce: "001122334455667G" }, [1, 2]]) {
        const body = toBase64(seal(c, K.t2g, 7, jsonBytes(bad)));
        assert.equal(err(openRequest(c, K, body, { lastSeq: 0 })).code, "REQ_FORMAT", JSON.stringify(bad));
      }
      const notJson = toBase64(seal(c, K.t2g, 7, new Uint8Array([0x7b, 0x7b])));
      assert.equal(err(openRequest(c, K, notJson, { lastSeq: 0 })).code, "REQ_FORMAT");
    });
    it("rejects a request whose op or terminal is not the URL's", () => {
      const body = sealRequest(c, K, 7, HELLO);
      assert.equal(err(openRequest(c, K, body, { lastSeq: 0, op: "upload" })).code, "REQ_MISMATCH");
      assert.equal(err(openRequest(c, K, body, { lastSeq: 0, tid: 43 })).code, "REQ_MISMATCH");
    });
  });

  describe("reply (terminal side)", () => {
    const REPLY: LinkReply = { nonce: NONCE, time: 1_700_000_000_000 };
    it("opens the reply to its request", () => {
      const a = openReply(c, K, sealReply(c, K, 7, REPLY), { seq: 7, nonce: NONCE });
      assert.ok(!isLinkError(a));
      assert.deepEqual(a.msg, REPLY);
    });
    it("reports a tampered reply as 'gateway reply failed authentication'", () => {
      const e = err(openReply(c, K, flipBase64(sealReply(c, K, 7, REPLY), 25), { seq: 7, nonce: NONCE }));
      assert.equal(e.code, "REPLY_AUTH");
      assert.equal(e.message, "gateway reply failed authentication");
    });
    it("reports garbage (not base64) as failed authentication", () => {
      assert.equal(err(openReply(c, K, "<html>proxy login</html>", { seq: 7, nonce: NONCE })).code, "REPLY_AUTH");
    });
    it("rejects the terminal's own request reflected back as a reply", () => {
      assert.equal(err(openReply(c, K, sealRequest(c, K, 7, HELLO), { seq: 7, nonce: NONCE })).code, "REPLY_AUTH");
    });
    it("rejects a genuine reply to an earlier request (other seq) as replayed", () => {
      const old = sealReply(c, K, 6, { nonce: "8899aabbccddeeff" });
      assert.equal(err(openReply(c, K, old, { seq: 7, nonce: NONCE })).code, "REPLY_REPLAY");
    });
    it("rejects a genuine reply with the right nonce under another seq", () => {
      const other = sealReply(c, K, 6, { nonce: NONCE });
      assert.equal(err(openReply(c, K, other, { seq: 7, nonce: NONCE })).code, "REPLY_REPLAY");
    });
    it("rejects a genuine reply under the right seq that echoes another nonce", () => {
      const other = sealReply(c, K, 7, { nonce: "8899aabbccddeeff" });
      assert.equal(err(openReply(c, K, other, { seq: 7, nonce: NONCE })).code, "REPLY_REPLAY");
    });
    it("rejects an authentic reply that is not a JSON object", () => {
      const body = toBase64(seal(c, K.g2t, 7, jsonBytes("hello")));
      assert.equal(err(openReply(c, K, body, { seq: 7, nonce: NONCE })).code, "REPLY_FORMAT");
    });
  });

  it("shows a plain (unauthenticated) error as printable text only, cut short", () => {
    assert.equal(plainError(404, JSON.stringify({ error: "E", message: "unknown terminal\u0007 42" }), 40), "HTTP 404: unknown terminal 42");
    assert.equal(plainError(502, "Bad gateway", 40), "HTTP 502");
    assert.equal(plainError(400, JSON.stringify({ message: "x".repeat(100) }), 10), "HTTP 400: xxxxxxxxxx");
  });
});
