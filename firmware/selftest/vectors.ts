/**
 * Published vectors for the primitives: FIPS 180-2 SHA-256, RFC 4231 HMAC-SHA256 (cases 1-4, 6, 7),
 * NIST SP 800-38A F.2.1/F.2.2 AES-128-CBC. Hex strings; the cases run on every crypto backend.
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { ascii, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import type { Case } from "./runner.ts";
import { expectEqual } from "./runner.ts";

function h(s: string): Uint8Array {
  return fromHex(s) as Uint8Array;
}
function repeat(byte: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += byte;
  return s;
}

const SHA256: string[][] = [
  ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  ],
];

// [key hex, data hex, HMAC-SHA256 hex]
const HMAC: string[][] = [
  [repeat("0b", 20), "4869205468657265", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  ["4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  [repeat("aa", 20), repeat("dd", 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
  [
    "0102030405060708090a0b0c0d0e0f10111213141516171819",
    repeat("cd", 50),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  ],
  [
    repeat("aa", 131),
    "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  ],
  [
    repeat("aa", 131),
    "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ],
];

const AES_KEY = "2b7e151628aed2a6abf7158809cf4f3c";
const AES_IV = "000102030405060708090a0b0c0d0e0f";
const AES_PLAIN =
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const AES_CIPHER =
  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";

export function primitiveCases(c: CryptoBackend): Case[] {
  const cases: Case[] = [];
  SHA256.forEach((v, i) => {
    cases.push({ name: c.name + " sha256 #" + i, run: () => expectEqual(toHex(c.sha256(ascii(v[0]))), v[1]) });
  });
  HMAC.forEach((v, i) => {
    cases.push({
      name: c.name + " hmac-sha256 rfc4231 #" + i,
      run: () => expectEqual(toHex(hmacSha256(c, h(v[0]), h(v[1]))), v[2]),
    });
  });
  cases.push({
    name: c.name + " aes-128-cbc encrypt sp800-38a",
    run: () => expectEqual(toHex(c.aesCbcEncrypt(h(AES_KEY), h(AES_IV), h(AES_PLAIN))), AES_CIPHER),
  });
  cases.push({
    name: c.name + " aes-128-cbc decrypt sp800-38a",
    run: () => expectEqual(toHex(c.aesCbcDecrypt(h(AES_KEY), h(AES_IV), h(AES_CIPHER))), AES_PLAIN),
  });
  return cases;
}
