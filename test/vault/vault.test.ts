/** The sealed secrets vault (firmware/vault.ts) on the simulator's Espruino Storage. */
import assert from "node:assert/strict";
import type { Vault } from "../../firmware/vault.ts";
import { checkPin, hashPin, openVault, VAULT_ABSENT, VAULT_AUTH, VAULT_FULL, VAULT_LOG_BYTES, VAULT_NAME, VAULT_SIZE } from "../../firmware/vault.ts";
import { encodeRecord } from "../../firmware/record-log.ts";
import type { VaultKeys } from "../../firmware/keys.ts";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { boardData, flashStore } from "../update/helpers.ts";

const crypto = nodeCrypto();
const KEYS: VaultKeys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2) };
const OTHER: VaultKeys = { enc: new Uint8Array(16).fill(3), mac: new Uint8Array(16).fill(4) };
const bytes = (s: string) => new Uint8Array(Buffer.from(s));

function blankFlash(): Flash {
  const st = boardData().platform.storage;
  return new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
}

/** A power-on: Espruino checks Storage (wiping it if a header looks damaged), then the vault opens. */
function reopen(flash: Flash, keys = KEYS): { err: string | null; vault: Vault } {
  new EspruinoStorage(flash).boot();
  let got: { err: string | null; vault: Vault } | null = null;
  openVault(flashStore(flash), crypto, keys, (err, vault) => (got = { err, vault }));
  assert.ok(got, "openVault calls back");
  return got;
}

function put(v: Vault, name: string, value: Uint8Array): string | null {
  let r: string | null | undefined;
  v.put(name, value, (e) => (r = e));
  assert.notEqual(r, undefined, "put calls back");
  return r as string | null;
}

describe("secrets vault", () => {
  it("keeps a secret across a power-on", () => {
    const flash = blankFlash();
    assert.equal(put(reopen(flash).vault, "order.42", bytes("k".repeat(32))), null);
    const { err, vault } = reopen(flash);
    assert.equal(err, null);
    assert.deepEqual(Buffer.from(vault.value("order.42")!), Buffer.from("k".repeat(32)));
  });

  it("stores nothing readable in clear: the secret's bytes are not in the flash image", () => {
    const flash = blankFlash();
    put(reopen(flash).vault, "pin.tech", bytes("SECRET-SECRET-SECRET"));
    assert.equal(Buffer.from(flash.bytes).indexOf("SECRET-SECRET"), -1);
  });

  it("writes each change in place as a new generation record of one pre-sized file, leaving nothing to compact", () => {
    const flash = blankFlash();
    const v = reopen(flash).vault;
    put(v, "a", bytes("1"));
    const after1 = flashStore(flash).stats();
    put(v, "b", bytes("2"));
    put(v, "a", bytes("3"));
    assert.equal(v.generation(), 3);
    assert.deepEqual(flashStore(flash).list("vault."), ["vault.a"]);
    const after3 = flashStore(flash).stats();
    assert.equal(after3.freeBytes, after1.freeBytes, "no new file");
    assert.equal(after3.trashBytes, 0, "nothing erased");
    const again = reopen(flash).vault;
    assert.deepEqual(again.names(), ["a", "b"]);
    assert.deepEqual(Buffer.from(again.value("a")!).toString(), "3");
  });

  it("removes an entry", () => {
    const flash = blankFlash();
    const v = reopen(flash).vault;
    put(v, "a", bytes("1"));
    put(v, "b", bytes("2"));
    let r: string | null | undefined;
    v.remove("a", (e) => (r = e));
    assert.equal(r, null);
    assert.deepEqual(reopen(flash).vault.names(), ["b"]);
  });

  it("answers get with VAULT_ABSENT for a name never stored (the technician console's SecretVault shape)", () => {
    let got: string | null = null;
    reopen(blankFlash()).vault.get("nope", (e) => (got = e));
    assert.equal(got, VAULT_ABSENT);
  });

  it("does not open with another secure element's keys (VAULT_AUTH, empty), and a new write supersedes the old files", () => {
    const flash = blankFlash();
    put(reopen(flash).vault, "a", bytes("1"));
    const { err, vault } = reopen(flash, OTHER);
    assert.equal(err, VAULT_AUTH);
    assert.deepEqual(vault.names(), []);
    assert.equal(put(vault, "b", bytes("2")), null);
    assert.equal(vault.generation(), 2, "above every record there");
    assert.deepEqual(flashStore(flash).list("vault."), ["vault.a"]);
    assert.deepEqual(reopen(flash, OTHER).vault.names(), ["b"]);
  });

  it("does not open a record moved to another generation (the generation is sealed in)", () => {
    const flash = blankFlash();
    put(reopen(flash).vault, "a", bytes("1"));
    const file = flashStore(flash).read("vault.a")!;
    const len = file[2] * 256 + file[3];
    const moved = blankFlash();
    flashStore(moved).write("vault.a", encodeRecord(file[0], 9, file.subarray(8, 8 + len)), 0, VAULT_LOG_BYTES);
    assert.equal(reopen(moved).err, VAULT_AUTH);
  });

  it("opens older firmware's vault.<generation> file and moves it into the log at the first write", () => {
    const flash = blankFlash();
    put(reopen(flash).vault, "pin.tech", bytes("old"));
    const file = flashStore(flash).read("vault.a")!;
    const env = file.subarray(8, 8 + file[2] * 256 + file[3]);
    const legacy = blankFlash();
    flashStore(legacy).write("vault.1", env);
    const { err, vault } = reopen(legacy);
    assert.equal(err, null);
    assert.equal(Buffer.from(vault.value("pin.tech")!).toString(), "old");
    assert.equal(put(vault, "order.1", bytes("k")), null);
    assert.deepEqual(flashStore(legacy).list("vault."), ["vault.a"]);
    const again = reopen(legacy).vault;
    assert.equal(again.generation(), 2);
    assert.equal(Buffer.from(again.value("pin.tech")!).toString(), "old");
  });

  it("turns a full log over to the other file, which is the only write that leaves space to compact", () => {
    const flash = blankFlash();
    const v = reopen(flash).vault;
    let n = 0;
    while (flashStore(flash).list("vault.")[0] !== "vault.b") {
      assert.equal(put(v, "pin.tech", bytes("v" + n)), null);
      n++;
      assert.ok(n < 200, "turns over");
    }
    assert.ok(n > 20, "a typical vault takes over 20 changes before a turnover: " + n);
    assert.equal(flashStore(flash).stats().trashBytes, VAULT_LOG_BYTES + 32, "one file's space");
    assert.equal(Buffer.from(reopen(flash).vault.value("pin.tech")!).toString(), "v" + (n - 1));
  });

  it("refuses bad names and oversized values without writing", () => {
    const flash = blankFlash();
    const v = reopen(flash).vault;
    assert.equal(put(v, "", bytes("x")), VAULT_NAME);
    assert.equal(put(v, "has space", bytes("x")), VAULT_NAME);
    assert.equal(put(v, "n".repeat(25), bytes("x")), VAULT_NAME);
    assert.equal(put(v, "big", new Uint8Array(129)), VAULT_SIZE);
    assert.deepEqual(flashStore(flash).list("vault."), []);
  });

  it("refuses a write Storage has no room for instead of making Storage compact (VAULT_FULL)", () => {
    const flash = blankFlash();
    const store = flashStore(flash);
    const free = store.stats().freeBytes;
    assert.ok(store.write("filler", new Uint8Array(free - 300)));
    const v = reopen(flash).vault;
    assert.equal(put(v, "a", bytes("1")), VAULT_FULL);
    assert.deepEqual(flashStore(flash).list("vault."), []);
  });

  it("after a power cut at every flash operation of a write, holds either the old or the new value, and other files survive", () => {
    const base = blankFlash();
    flashStore(base).write("cfg.json", bytes('{"terminalId":"7"}'));
    const v0 = reopen(base).vault;
    put(v0, "pin.tech", bytes("old"));
    put(v0, "order.1", bytes("keep"));
    sweep(base);
  });

  it("after a power cut at every flash operation of a turnover, holds either the old or the new value, and other files survive", () => {
    const base = blankFlash();
    flashStore(base).write("cfg.json", bytes('{"terminalId":"7"}'));
    const v0 = reopen(base).vault;
    put(v0, "order.1", bytes("keep"));
    // fill the log up to the write that turns it over
    for (let i = 0; ; i++) {
      const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
      put(reopen(probe).vault, "pin.tech", bytes("probe"));
      if (flashStore(probe).list("vault.")[0] === "vault.b") break;
      put(v0, "pin.tech", bytes("old"));
      assert.ok(i < 200);
    }
    sweep(base);
  });

  /** Cuts power at each flash operation of one write of pin.tech (old -> new) on `base`. */
  function sweep(base: Flash): void {
    const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
    const start = probe.ops;
    put(reopen(probe).vault, "pin.tech", bytes("new"));
    const total = probe.ops - start;
    assert.ok(total >= 1, "a write takes a flash operation");
    const seen = new Set<string>();
    for (let n = 1; n <= total; n++) {
      const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
      const v = reopen(flash).vault;
      flash.cutPowerAt(n);
      assert.throws(() => put(v, "pin.tech", bytes("new")), (e: unknown) => isPowerCut(e) || (e as { code?: string }).code === "POWER_CUT", "cut " + n);
      flash.cutPowerAt(null);
      const after = reopen(flash);
      assert.equal(after.err, null, "cut " + n + " leaves a vault that opens");
      const val = Buffer.from(after.vault.value("pin.tech")!).toString();
      assert.ok(val === "old" || val === "new", "cut " + n + ": " + val);
      seen.add(val);
      assert.equal(Buffer.from(after.vault.value("order.1")!).toString(), "keep", "cut " + n);
      assert.equal(Buffer.from(flashStore(flash).read("cfg.json")!).toString(), '{"terminalId":"7"}', "cut " + n);
      // and the next write works
      assert.equal(put(after.vault, "pin.tech", bytes("again")), null, "write after cut " + n);
      assert.equal(Buffer.from(reopen(flash).vault.value("pin.tech")!).toString(), "again");
    }
    if (total > 1) assert.deepEqual([...seen].sort(), ["new", "old"], "the sweep saw both outcomes");
    else assert.deepEqual([...seen], ["old"], "a cut in the one write of an append leaves the old value");
  }

  it("hashes a PIN with a salt and checks it in constant time", () => {
    const salt = new Uint8Array(16).fill(7);
    const rec = hashPin(crypto, salt, "2468");
    assert.equal(rec.length, 50); // salt, iterations, PBKDF2 (test/security/pin-hash.test.ts)
    assert.equal(checkPin(crypto, rec, "2468"), true);
    assert.equal(checkPin(crypto, rec, "2469"), false);
    assert.notDeepEqual(Buffer.from(hashPin(crypto, new Uint8Array(16).fill(8), "2468")), Buffer.from(rec));
    assert.equal(checkPin(crypto, undefined, "2468"), false);
  });
});
