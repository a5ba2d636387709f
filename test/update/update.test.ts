import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { SimHost } from "../../sim/host.ts";
import { ATTEMPTS_MAX } from "../../firmware/update/layout.ts";
import { confirmBoot, readSlot, runningSlot } from "../../firmware/update/slots.ts";
import { installUpdate } from "../../firmware/update/updater.ts";
import type { UpdateError, UpdateOffer } from "../../firmware/update/updater.ts";
import { BOARD, boardData, bundle, flashStore, issuer, keysOf, verifyingSe } from "./helpers.ts";
import type { FirmwareSigner } from "./helpers.ts";

const FACTORY = bundle('print("BOOT v1");');
const V2 = bundle('print("BOOT v2");' + "/*" + "x".repeat(3000) + "*/");
const BROKEN = bundle('print("BOOT broken"); throw new Error("boom");');

function blankFlash(): Flash {
  const st = boardData().platform.storage;
  return new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
}

/** Boot the terminal (factory image = FACTORY in .bootcde) on `flash`; what it printed. */
function bootOn(flash: Flash, wall = 0): string[] {
  const host = new SimHost({ board: boardData(), bundle: FACTORY, flash });
  host.boot();
  host.advance(wall);
  return host.output.slice();
}

function install(flash: Flash, iss: FirmwareSigner, b: string, offer?: Partial<UpdateOffer>, fetchFrom?: string, otherKeys?: FirmwareSigner[]): { err: UpdateError | null; slot?: string; called: boolean } {
  const store = flashStore(flash);
  const o = { ...iss.offer(b, "2"), ...offer };
  const src = Buffer.from(fetchFrom ?? b, "latin1");
  const r: { err: UpdateError | null; slot?: string; called: boolean } = { err: null, called: false };
  try {
    installUpdate(
      { store, crypto: nodeCrypto(), se: verifyingSe(), firmwareKeys: keysOf([iss, ...(otherKeys ?? [])]), board: BOARD, running: "1", maxBytes: boardData().budget.bundleBytes, chunkBytes: 512, fetchChunk: (off, n, done) => done(null, new Uint8Array(src.subarray(off, off + n))) },
      o,
      () => {},
      (err, slot) => {
        r.called = true;
        r.err = err;
        r.slot = slot;
      },
    );
  } catch (e) {
    if (!isPowerCut(e)) throw e; // the device went off mid-update
  }
  return r;
}

describe("signed updates", () => {
  it("installs a signed bundle beside the factory one and boots it next", () => {
    const flash = blankFlash();
    const iss = issuer();
    const r = install(flash, iss, V2);
    assert.equal(r.err, null);
    assert.equal(r.slot, "a");
    assert.deepEqual(bootOn(flash), ["BOOT v2"]);
  });

  it("refuses a bundle whose signature is not the firmware key's, writing nothing", () => {
    const flash = blankFlash();
    const iss = issuer();
    const other = issuer();
    const before = flash.ops;
    const r = install(flash, iss, V2, { sig: other.offer(V2, "2").sig });
    assert.equal(r.err?.code, "BAD_SIGNATURE");
    assert.equal(flash.ops, before);
    assert.deepEqual(bootOn(flash), ["BOOT v1"]);
  });

  it("takes a bundle signed by another provisioned firmware key, and still refuses an untrusted one", () => {
    const flash = blankFlash();
    const iss = issuer(1);
    const second = issuer(2);
    const stranger = issuer(2);
    const refused = install(flash, iss, V2, stranger.offer(V2, "2"), undefined, [second]);
    assert.equal(refused.err?.code, "BAD_SIGNATURE");
    assert.deepEqual(bootOn(flash), ["BOOT v1"]);
    const unknown = install(flash, iss, V2, issuer(3).offer(V2, "2"), undefined, [second]);
    assert.equal(unknown.err?.code, "UNKNOWN_KEY");
    assert.deepEqual(bootOn(flash), ["BOOT v1"]);
    const r = install(flash, iss, V2, second.offer(V2, "2"), undefined, [second]);
    assert.equal(r.err, null);
    assert.deepEqual(bootOn(flash), ["BOOT v2"]);
  });

  it("refuses downloaded bytes that do not hash to the signed SHA-256, and leaves no slot", () => {
    const flash = blankFlash();
    const iss = issuer();
    const tampered = V2.replace("BOOT v2", "BOOT v9");
    const r = install(flash, iss, V2, {}, tampered);
    assert.equal(r.err?.code, "HASH_MISMATCH");
    assert.equal(readSlot(flashStore(flash), "a"), null);
    assert.deepEqual(bootOn(flash), ["BOOT v1"]);
  });

  it("refuses a bundle over the board's budget before fetching anything", () => {
    const flash = blankFlash();
    const iss = issuer();
    const r = install(flash, iss, V2, { size: boardData().budget.bundleBytes + 1 });
    assert.equal(r.err?.code, "BAD_OFFER");
  });

  it("refuses an update Storage has no room for instead of writing into a full Storage (no compaction)", () => {
    const flash = blankFlash();
    const iss = issuer();
    const store = flashStore(flash);
    const filler = store.stats().freeBytes - 4000;
    assert.ok(store.write("filler", new Uint8Array(filler).fill(0x41)));
    const before = flash.ops;
    const r = install(flash, iss, V2);
    assert.equal(r.err?.code, "NO_ROOM");
    assert.equal(flash.ops, before, "nothing written or erased");
    assert.deepEqual(bootOn(flash), ["BOOT v1"]);
  });

  it("rolls back to the previous bundle when the new one never confirms its boot", () => {
    const flash = blankFlash();
    const iss = issuer();
    install(flash, iss, V2);
    const boots: string[] = [];
    for (let i = 0; i < ATTEMPTS_MAX + 2; i++) boots.push(bootOn(flash)[0]);
    assert.deepEqual(boots, [...Array(ATTEMPTS_MAX).fill("BOOT v2"), "BOOT v1", "BOOT v1"]);
  });

  it("keeps a bundle that confirmed its boot", () => {
    const flash = blankFlash();
    const iss = issuer();
    install(flash, iss, V2);
    bootOn(flash);
    assert.equal(confirmBoot(flashStore(flash)), "a");
    const boots: string[] = [];
    for (let i = 0; i < ATTEMPTS_MAX + 2; i++) boots.push(bootOn(flash)[0]);
    assert.deepEqual(boots, Array(ATTEMPTS_MAX + 2).fill("BOOT v2"));
  });

  it("writes the next update beside the running one and falls back to it if the newer fails", () => {
    const flash = blankFlash();
    const iss = issuer();
    install(flash, iss, V2);
    bootOn(flash);
    confirmBoot(flashStore(flash));
    const r = install(flash, iss, BROKEN);
    assert.equal(r.slot, "b");
    // The broken bundle throws while loading: the stub reboots, its attempts run out, v2 boots again.
    const host = new SimHost({ board: boardData(), bundle: FACTORY, flash });
    host.boot();
    host.advance(50 * (ATTEMPTS_MAX + 2));
    assert.equal(host.output.filter((l) => l === "BOOT broken").length, ATTEMPTS_MAX);
    assert.equal(host.output[host.output.length - 1], "BOOT v2");
    assert.equal(runningSlot(flashStore(flash)), "a");
  });

  it("boots the real devkit bundle from an update slot, which then confirms itself through confirmBoot", () => {
    const real = readFileSync(join(process.cwd(), "dist/devkit.js"), "latin1");
    const flash = blankFlash();
    const iss = issuer();
    assert.equal(install(flash, iss, real).err, null);
    const host = new SimHost({ board: boardData(), bundle: FACTORY, flash });
    host.boot();
    host.advance(1000);
    assert.deepEqual(host.errors, []);
    assert.ok(!host.output.includes("BOOT v1"), "the factory bundle did not run");
    assert.equal(host.consoles.serial, null, "the updated firmware ran its lock-down");
    assert.equal(runningSlot(flashStore(flash)), "a");
    assert.equal(confirmBoot(flashStore(flash)), "a");
  });

  it("boots after a power cut at every flash operation of an update, and the update completes when retried", () => {
    const iss = issuer();
    const probe = blankFlash();
    const start = probe.ops;
    install(probe, iss, V2);
    const total = probe.ops - start;
    assert.ok(total > 8, "the sweep covers the update's flash operations (" + total + ")");
    for (let n = 1; n <= total; n++) {
      const flash = blankFlash();
      flashStore(flash).write("cfg.json", new Uint8Array(Buffer.from('{"terminalId":"7"}')));
      flash.cutPowerAt(n);
      const r = install(flash, iss, V2);
      assert.equal(r.err, null, "cut " + n + " must not be reported as an update error");
      assert.equal(r.called, false, "cut " + n + " stops the update");
      const out = bootOn(flash);
      assert.ok(out[0] === "BOOT v1" || out[0] === "BOOT v2", "cut " + n + ": booted " + JSON.stringify(out));
      assert.equal(Buffer.from(flashStore(flash).read("cfg.json")!).toString(), '{"terminalId":"7"}', "cut " + n + " kept the settings");
      const again = install(flash, iss, V2);
      assert.equal(again.err, null, "retry after cut " + n);
      assert.equal(bootOn(flash)[0], "BOOT v2", "after cut " + n + " and a retry, v2 boots");
    }
  });

  it("boots after a power cut at every flash operation of the first boots and the confirmation of an update", () => {
    const iss = issuer();
    const base = blankFlash();
    install(base, iss, V2);
    const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
    const start = probe.ops;
    bootOn(probe);
    confirmBoot(flashStore(probe));
    const total = probe.ops - start;
    assert.ok(total >= 2);
    for (let n = 1; n <= total; n++) {
      const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
      flash.cutPowerAt(n);
      bootOn(flash);
      try {
        confirmBoot(flashStore(flash));
      } catch {
        // the cut fell here
      }
      const out = bootOn(flash);
      assert.ok(["BOOT v1", "BOOT v2"].indexOf(out[0]) >= 0, "cut " + n + ": booted " + JSON.stringify(out));
    }
  });
});
