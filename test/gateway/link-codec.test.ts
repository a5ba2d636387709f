/**
 * The gateway's Node codec for the link (gateway/link.ts, nodeLinkCodec) answers exactly as the protocol's portable
 * one (protocol/sync.ts, fromBase64 and parseJsonObject), which the terminal runs: same bytes, same refusals.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { nodeLinkCodec } from "../../gateway/link.ts";
import { fromBase64, parseJsonObject, toBase64 } from "../../protocol/sync.ts";

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

  it("reads the same JSON objects and refuses bytes above 0x7e", () => {
    const enc = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
    for (const s of ['{"op":"upload","n":1}', "[1]", "1", "{bad", '{"a":"\x7e"}', '{"a":"\x7f"}', '{"a":"\xff"}', '{"a":"\\u00e9"}', ""]) {
      assert.deepEqual(parseJsonObject(enc(s), nodeLinkCodec), parseJsonObject(enc(s)), JSON.stringify(s));
    }
  });
});
