/**
 * The gateway's Node codec for the link (gateway/link.ts, nodeLinkCodec) answers exactly as the protocol's portable
 * one (protocol/sync.ts, fromBase64 and parseJsonObject), which the terminal runs: same bytes, same refusals.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { nodeLinkCodec } from "../../gateway/link.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { seal } from "../../protocol/seal.ts";
import { fromBase64, linkKeys, openRequest, toBase64 } from "../../protocol/sync.ts";

describe("gateway: the link codec on Node answers as the portable one", () => {
  it("decodes the same base64 and refuses the same non-canonical, padded-wrong or foreign text", () => {
    const cases = ["", "AA==", "AB==", "AAA=", "AAB=", "AAAA", "A===", "A", "AA", "AAA", "AA=A", "=AAA", "AA==AAAA", " AAAA", "AAAA\n", "-_AA", "Zm9v", "Zm9vYg==", "Zm9vYh==", "Zm9vYmE=", "Zm9vYmF="];
    for (let n = 0; n < 40; n++) cases.push(toBase64(new Uint8Array(randomBytes(n))));
    for (const s of cases) {
      const a = fromBase64(s);
      const b = nodeLinkCodec.fromBase64(s);
      assert.deepEqual(b === undefined ? undefined : Array.from(b), a === undefined ? undefined : Array.from(a), JSON.stringify(s));
    }
  });

  it("opens the same requests and refuses the same bodies: not JSON, not an object, bytes above 0x7e", () => {
    const c = nodeCrypto();
    const k = linkKeys(c, new Uint8Array(randomBytes(32)));
    const ok = '{"op":"upload","tid":7,"nonce":"0123456789abcdef","records":[]}';
    const texts = [ok, ok.replace("[]", '["\x7e"]'), ok.replace("[]", '["\x7f"]'), ok.replace("[]", '["\xe9"]'), ok.replace("[]", '["\\u00e9"]'), "[1]", "1", "{bad", ""];
    const bodies = texts.map((t, i) => toBase64(seal(c, k.t2g, i + 1, new Uint8Array(Buffer.from(t, "latin1")))));
    bodies.push("not base64!", toBase64(new Uint8Array(40)), " " + bodies[0] + "\n");
    for (const body of bodies) {
      const o = { lastSeq: 0, op: "upload", tid: 7 };
      assert.deepEqual(openRequest(c, k, body, { ...o, codec: nodeLinkCodec }), openRequest(c, k, body, o), JSON.stringify(body.slice(0, 40)));
    }
    const first = openRequest(c, k, bodies[0], { lastSeq: 0, codec: nodeLinkCodec });
    assert.equal("seq" in first ? first.seq : 0, 1, "the plain request opens");
  });
});
