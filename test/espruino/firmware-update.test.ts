/**
 * The update checks' pure parts on a real Espruino interpreter (ESPRUINO=/path/to/espruino): the signed body's
 * SHA-256 (what the secure element verifies), the version order and the persisted minimum version, each the same as
 * in Node. Skipped without ESPRUINO.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { compareVersions, firmwareBody } from "../../protocol/firmware.ts";
import { runEntry } from "./entry-run.ts";
import { interpreter } from "./interpreter.ts";

const bin = interpreter();
const PAIRS: [string, string][] = [["0.1.0", "0.2.0"], ["9", "10"], ["1.9.9", "2"], ["1.0", "1.0.0"], ["0.1.0+abc", "0.1.0+abd"], ["3.0.0", "2.5.0"], ["1.0.0-b", "1.0.0-a"]];

const ENTRY = `
import { storageOver } from "./hal/espruino/storage.ts";
import { builtinCrypto } from "./hal/espruino/crypto.ts";
import { toHex } from "./protocol/codec/hex.ts";
import { compareVersions, firmwareBody } from "./protocol/firmware.ts";
import { raiseMinVersion, readMinVersion } from "./firmware/update/min-version.ts";
declare const require: any, print: any, quit: any;
const store = storageOver(require("Storage"));
const c = builtinCrypto();
const sha = new Uint8Array(32);
sha.fill(171);
const pairs = ${JSON.stringify(PAIRS)};
const order = pairs.map((p: string[]) => compareVersions(p[0], p[1]));
const mins: string[] = [];
const raised = [raiseMinVersion(store, "1.0.0"), raiseMinVersion(store, "0.9.0"), raiseMinVersion(store, "10.0.0")];
mins.push(readMinVersion(store));
print("RESULT " + JSON.stringify({ digest: toHex(c.sha256(firmwareBody("devkit", "0.2.0", sha))), order: order, raised: raised, min: mins[0], files: require("Storage").list().join(",") }));
quit();
`;

describe("firmware update checks on the Espruino interpreter", function () {
  this.timeout(120000);
  before(function () {
    if (!bin) this.skip();
  });

  it("hashes the signed body, orders versions and keeps the minimum version as Node does", async () => {
    const { r } = await runEntry<{ digest: string; order: number[]; raised: boolean[]; min: string; files: string }>(bin!, ENTRY, "firmware-update", ["Storage", "crypto"], 100000);
    const sha = new Uint8Array(32).fill(171);
    assert.equal(r.digest, createHash("sha256").update(firmwareBody("devkit", "0.2.0", sha)).digest("hex"));
    assert.deepEqual(r.order, PAIRS.map(([a, b]) => compareVersions(a, b)));
    assert.deepEqual(r.raised, [true, true, true]);
    assert.equal(r.min, "10.0.0");
    assert.equal(r.files, "fwmin.a");
  });
});
