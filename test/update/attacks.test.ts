/**
 * Security review, item 11 (updates): each attack as a test. Before firmware keys every one of them installed
 * (the terminal checked only an issuer signature over SHA-256(bundle): no board, no version, no domain label).
 */
import assert from "node:assert/strict";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { Issuer, signBody } from "../../gateway/issuer.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { SimHost } from "../../sim/host.ts";
import { readMinVersion } from "../../firmware/update/min-version.ts";
import { installUpdate } from "../../firmware/update/updater.ts";
import type { UpdateError, UpdateOffer } from "../../firmware/update/updater.ts";
import { signUpdate } from "../../tools/sign-update.ts";
import { BOARD, boardData, bundle, firmwareSigner, flashStore, keysOf, verifyingSe } from "./helpers.ts";
import type { FirmwareSigner } from "./helpers.ts";

const FACTORY = bundle('print("BOOT factory");');

function blankFlash(): Flash {
  const st = boardData().platform.storage;
  return new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
}

function bootOn(flash: Flash): string[] {
  const host = new SimHost({ board: boardData(), bundle: FACTORY, flash });
  host.boot();
  return host.output.slice();
}

/**
 * installUpdate as the terminal calls it: provisioned with the firmware keys `keys`, running `running`, on a fresh
 * FileStore over `flash` each time (as after a reboot). `fetched`: bytes downloaded.
 */
function install(flash: Flash, keys: FirmwareSigner[], running: string, offer: UpdateOffer, body: string): { err: UpdateError | null; fetched: number } {
  const src = Buffer.from(body, "latin1");
  const r: { err: UpdateError | null; fetched: number; called: boolean } = { err: null, fetched: 0, called: false };
  installUpdate(
    {
      store: flashStore(flash),
      crypto: nodeCrypto(),
      se: verifyingSe(),
      firmwareKeys: keysOf(keys),
      board: BOARD,
      running,
      maxBytes: boardData().budget.bundleBytes,
      fetchChunk: (off, n, done) => {
        r.fetched += n;
        done(null, new Uint8Array(src.subarray(off, off + n)));
      },
    },
    offer,
    () => {},
    (err) => {
      r.called = true;
      r.err = err;
    },
  );
  assert.ok(r.called, "installUpdate answered");
  return r;
}

describe("update attacks (security review item 11)", () => {
  it("(a) refuses an update signed by the online issuer key (old and new format), downloading nothing", () => {
    const flash = blankFlash();
    const fw = firmwareSigner(1);
    const iss = Issuer.generate(1); // the key that signs allowances online, with the same key ID as the firmware key
    const evil = bundle('print("EVIL");');
    const bytes = new Uint8Array(Buffer.from(evil, "latin1"));
    // the old format: the issuer's signature over SHA-256(bundle)
    const old = { ...fw.offer(evil, "9.0.0"), sig: Buffer.from(signBody(iss.privateKey, bytes)).toString("hex") };
    const r1 = install(flash, [fw], "1.0.0", old, evil);
    assert.equal(r1.err?.code, "BAD_SIGNATURE");
    // the new format, signed by the issuer key
    const r2 = install(flash, [fw], "1.0.0", signUpdate(bytes, iss.privateKey, BOARD, "9.0.0", 1), evil);
    assert.equal(r2.err?.code, "BAD_SIGNATURE");
    assert.equal(r1.fetched + r2.fetched, 0, "nothing downloaded");
    assert.deepEqual(bootOn(flash), ["BOOT factory"]);
  });

  it("(b) refuses a correctly signed bundle for another board, and the same offer relabelled for this board", () => {
    const flash = blankFlash();
    const fw = firmwareSigner(1);
    const other = bundle('print("BOARD other");');
    const forOther = fw.offer(other, "9.0.0", "other-board");
    const r1 = install(flash, [fw], "1.0.0", forOther, other);
    assert.equal(r1.err?.code, "WRONG_BOARD");
    // the board is signed: claiming this board in the offer breaks the signature
    const r2 = install(flash, [fw], "1.0.0", { ...forOther, board: BOARD }, other);
    assert.equal(r2.err?.code, "BAD_SIGNATURE");
    assert.equal(r1.fetched + r2.fetched, 0);
    assert.deepEqual(bootOn(flash), ["BOOT factory"]);
  });

  it("(c) refuses an older signed version (a downgrade), also after a reboot into an older bundle, and a relabelled version", () => {
    const flash = blankFlash();
    const fw = firmwareSigner(1);
    const v3 = bundle('print("v3");');
    const v2 = bundle('print("v2 vulnerable");');
    assert.equal(install(flash, [fw], "2.0.0", fw.offer(v3, "3.0.0"), v3).err, null);
    assert.deepEqual(bootOn(flash), ["v3"]);
    assert.equal(readMinVersion(flashStore(flash)), "3.0.0", "the minimum was raised and persisted");
    // running v3: an older version is not newer
    assert.equal(install(flash, [fw], "3.0.0", fw.offer(v2, "2.5.0"), v2).err?.code, "NOT_NEWER");
    // after a reboot into an older bundle (v3 rolled back to the factory 2.0.0): the persisted minimum refuses it
    bootOn(flash);
    const r = install(flash, [fw], "2.0.0", fw.offer(v2, "2.5.0"), v2);
    assert.equal(r.err?.code, "BELOW_MINIMUM");
    assert.equal(r.fetched, 0);
    // the version is signed: an old bundle relabelled as newer breaks the signature
    assert.equal(install(flash, [fw], "3.0.0", { ...fw.offer(v2, "2.5.0"), version: "9.0.0" }, v2).err?.code, "BAD_SIGNATURE");
    assert.deepEqual(bootOn(flash), ["v3"]);
  });

  it("raises the minimum only to a higher version, and a newer signed version still installs", () => {
    const flash = blankFlash();
    const fw = firmwareSigner(7);
    const v10 = bundle('print("v10");');
    assert.equal(install(flash, [fw], "9", fw.offer(v10, "10"), v10).err, null);
    assert.equal(readMinVersion(flashStore(flash)), "10");
    const v11 = bundle('print("v11");');
    assert.equal(install(flash, [fw], "10", fw.offer(v11, "11"), v11).err, null);
    assert.equal(readMinVersion(flashStore(flash)), "11");
    assert.deepEqual(bootOn(flash), ["v11"]);
  });
});
