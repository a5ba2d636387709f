/** protocol/firmware.ts: the signed update body and the version order the terminal installs by. */
import assert from "node:assert/strict";
import { compareVersions, firmwareBody, isLabel } from "../../protocol/firmware.ts";

describe("protocol: firmware update body and versions", () => {
  it("lays out label, board, version and hash, NUL-separated, starting with no protocol VERSION byte", () => {
    const sha = new Uint8Array(32).fill(0xab);
    const b = firmwareBody("devkit", "0.2.0", sha);
    assert.equal(Buffer.from(b.subarray(0, b.length - 32)).toString("latin1"), "offline-pay firmware v1\0devkit\0" + "0.2.0\0");
    assert.deepEqual(b.subarray(b.length - 32), sha);
    assert.notEqual(b[0], 0x01);
    // board and version cannot trade bytes: the separators fix where each ends
    assert.notDeepEqual(firmwareBody("dev", "kit0.2.0", sha), b);
  });

  it("orders versions part by part, numerically where both parts are numbers", () => {
    const older: [string, string][] = [
      ["0.1.0", "0.2.0"],
      ["9", "10"],
      ["1.9.9", "2"],
      ["1.0", "1.0.1"],
      ["0.1.0+abc", "0.2.0"],
      ["2.5.0", "3.0.0"],
      ["1.0.0-a", "1.0.0-b"],
    ];
    for (const [a, b] of older) {
      assert.ok(compareVersions(a, b) < 0, a + " < " + b);
      assert.ok(compareVersions(b, a) > 0, b + " > " + a);
    }
    assert.equal(compareVersions("1.0", "1.0.0"), 0);
    assert.equal(compareVersions("3.0.0", "3.0.0"), 0);
  });

  it("takes 1 to 32 printable ASCII characters without spaces as a board or version", () => {
    for (const ok of ["devkit", "0.2.0+abc", "x".repeat(32)]) assert.ok(isLabel(ok), ok);
    for (const bad of ["", "a b", "x".repeat(33), "a\0b", "\u20ac", 5, undefined]) assert.ok(!isLabel(bad), String(bad));
  });
});
