/**
 * The vault (firmware/vault.ts) unit by unit on a small simulated Storage: which files are older firmware's vault
 * files, the plaintext's framing, the choice between appending in place and turning the log over (with its room
 * check to the byte), what a refused write leaves in memory, names and sizes at their limits, and the PIN record's
 * iteration count. Each case was a fault (a mutant) that vault.test.ts let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import type { FileStore, StorageStats } from "../../hal/storage.ts";
import type { VaultKeys } from "../../firmware/keys.ts";
import { RecordLog } from "../../firmware/record-log.ts";
import type { Vault } from "../../firmware/vault.ts";
import { checkPin, MAX_ENTRIES, MAX_NAME, MAX_VALUE, openVault, VAULT_ABSENT, VAULT_AUTH, VAULT_FULL, VAULT_KEY_ID, VAULT_LOG_BYTES, VAULT_LOGS, VAULT_NAME, VAULT_SIZE, VAULT_WRITE } from "../../firmware/vault.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { seal } from "../../protocol/seal.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "../update/helpers.ts";

const crypto = nodeCrypto();
const KEYS: VaultKeys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2) };
const SK = { keyId: VAULT_KEY_ID, enc: KEYS.enc, mac: KEYS.mac };
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("latin1") : undefined);
/** Free bytes a turnover needs: a new log file, its header and 4 KB of slack. */
const TURNOVER_FREE = VAULT_LOG_BYTES + 32 + 4096;

/** The simulator's Storage, with stats as given and writes refused on demand. */
interface Rig extends FileStore {
  statsOverride?: Partial<StorageStats>;
  refuse?: boolean;
}

function rig(): Rig {
  const inner = flashStore(new Flash({ size: 64 * 1024 }));
  const r: Rig = {
    read: (n, o, l) => inner.read(n, o, l),
    write: (n, d, o, s) => (r.refuse ? false : inner.write(n, d, o, s)),
    erase: (n) => inner.erase(n),
    list: (p) => inner.list(p),
    stats: () => ({ ...inner.stats(), ...r.statsOverride }),
  };
  return r;
}

function open(store: FileStore): { err: string | null; vault: Vault } {
  let got: { err: string | null; vault: Vault } | null = null;
  openVault(store, crypto, KEYS, (err, vault) => (got = { err, vault }));
  assert.ok(got, "openVault calls back");
  return got;
}

function put(v: Vault, name: string, value: Uint8Array): string | null {
  let r: string | null | undefined;
  v.put(name, value, (e) => (r = e));
  assert.notEqual(r, undefined, "put calls back");
  return r as string | null;
}

function remove(v: Vault, name: string): string | null {
  let r: string | null | undefined;
  v.remove(name, (e) => (r = e));
  assert.notEqual(r, undefined, "remove calls back");
  return r as string | null;
}

/** Plaintext as the vault encodes it: count, then name length, name, value length, value per entry. */
function plain(entries: Array<[string, string]>): Uint8Array {
  const out: number[] = [entries.length];
  for (const [n, v] of entries) out.push(n.length, ...bytes(n), v.length, ...bytes(v));
  return new Uint8Array(out);
}

/** Older firmware's vault file `vault.<gen>`: the sealed plaintext. */
function legacy(store: FileStore, gen: number, p: Uint8Array, keys = SK): void {
  assert.ok(store.write("vault." + gen, seal(crypto, keys, gen, p)));
}

describe("vault: what is on flash", () => {
  it("a new terminal's vault opens empty and without error", () => {
    const { err, vault } = open(rig());
    assert.equal(err, null);
    assert.deepEqual(vault.names(), []);
    assert.equal(vault.generation(), 0);
  });

  it("a log whose only record was torn by a power cut is an empty vault, not one that fails to open", () => {
    const st = rig();
    // the log file was created but its first record never completed: a header, then erased bytes
    const torn = new Uint8Array(16).fill(0xff);
    torn.set([1, 0xfe, 0, 80, 0, 0, 0, 1]);
    assert.ok(st.write(VAULT_LOGS[0], torn, 0, VAULT_LOG_BYTES));
    const { err, vault } = open(st);
    assert.equal(err, null);
    assert.equal(put(vault, "a", bytes("1")), null);
    assert.equal(text(open(st).vault.value("a")), "1");
  });

  it("opens the newest of older firmware's files, with multi-digit generations, trying older ones when it does not open", () => {
    const st = rig();
    legacy(st, 2, plain([["k", "two"]]));
    legacy(st, 19, plain([["k", "nineteen"]]));
    legacy(st, 10, plain([["k", "ten"]]));
    let r = open(st);
    assert.equal(r.err, null);
    assert.equal(text(r.vault.value("k")), "nineteen");
    assert.equal(r.vault.generation(), 19);
    // the newest does not open (another key): the next older one is taken
    st.erase("vault.19");
    legacy(st, 19, plain([["k", "x"]]), { ...SK, mac: new Uint8Array(16).fill(9) });
    r = open(st);
    assert.equal(r.err, null);
    assert.equal(text(r.vault.value("k")), "ten");
    assert.equal(r.vault.generation(), 10);
    // the first write goes above every file there, and removes them
    assert.equal(put(r.vault, "k", bytes("new")), null);
    assert.equal(r.vault.generation(), 20);
    assert.deepEqual(st.list("vault."), [VAULT_LOGS[0]]);
  });

  it("older firmware's files alone that do not open are VAULT_AUTH", () => {
    const st = rig();
    legacy(st, 3, plain([["k", "v"]]), { ...SK, enc: new Uint8Array(16).fill(7), mac: new Uint8Array(16).fill(8) });
    assert.equal(open(st).err, VAULT_AUTH);
  });

  it("only vault.<1 to 9 digits> are older firmware's files: other names under vault. are neither read nor erased", () => {
    const st = rig();
    const others = ["vault.", "vault.0", "vault.1234567890", "vault.5/", "vault.5:", "vault.x1"];
    for (const n of others) assert.ok(st.write(n, bytes("not a vault")));
    legacy(st, 123456789, plain([["k", "nine digits"]]));
    const { err, vault } = open(st);
    assert.equal(err, null);
    assert.equal(text(vault.value("k")), "nine digits");
    assert.equal(put(vault, "k", bytes("moved")), null);
    assert.equal(vault.generation(), 123456790);
    assert.deepEqual(st.list("vault.").sort(), [...others, VAULT_LOGS[0]].sort());
  });

  it("a file of other names alone under vault. is not a vault that fails to open", () => {
    const st = rig();
    for (const n of ["vault.", "vault.0", "vault.1234567890", "vault.7/"]) assert.ok(st.write(n, bytes("x")));
    const { err, vault } = open(st);
    assert.equal(err, null);
    assert.equal(put(vault, "a", bytes("1")), null);
    assert.equal(vault.generation(), 1);
  });

  it("refuses a plaintext that is empty, short of its count, with a name or value running past its end, or with bytes after it", () => {
    const bad: Array<[string, number[]]> = [
      ["empty", []],
      ["count 2, one entry", [2, 1, 0x6b, 1, 0x76]],
      ["name past the end", [1, 9, 0x6b]],
      ["name to the end, no value length", [1, 1, 0x6b]],
      ["value past the end", [1, 1, 0x6b, 5, 0x76]],
      ["a byte after the last entry", [1, 1, 0x6b, 1, 0x76, 0]],
    ];
    for (const [what, p] of bad) {
      const st = rig();
      legacy(st, 1, new Uint8Array(p));
      const { err, vault } = open(st);
      assert.equal(err, VAULT_AUTH, what);
      assert.deepEqual(vault.names(), [], what);
    }
    const st = rig();
    legacy(st, 1, plain([["k", "v"]]));
    assert.equal(text(open(st).vault.value("k")), "v", "the well-formed one opens");
  });

  it("a record of another type in the log is not a vault, even when it holds a sealed one", () => {
    const st = rig();
    const v = open(st).vault;
    assert.equal(put(v, "k", bytes("mine")), null);
    const log = new RecordLog(st, VAULT_LOGS, VAULT_LOG_BYTES);
    log.load();
    assert.ok(log.append(2, 2, seal(crypto, SK, 2, plain([["k", "other"]]))));
    const again = open(st).vault;
    assert.equal(text(again.value("k")), "mine");
    assert.equal(again.generation(), 1);
  });

  it("reopens a vault whose sealed record is over 255 bytes (a two-byte length)", () => {
    const st = rig();
    const v = open(st).vault;
    for (const n of ["a", "b", "c"]) assert.equal(put(v, n, bytes(n.repeat(100))), null);
    const again = open(st);
    assert.equal(again.err, null);
    assert.deepEqual(again.vault.names(), ["a", "b", "c"]);
    assert.equal(text(again.vault.value("c")), "c".repeat(100));
  });
});

describe("vault: writes", () => {
  it("appends in place without asking for room, up to a record that fills the file to its last byte; then needs room to turn over", () => {
    const st = rig();
    const v = open(st).vault;
    const log = () => {
      const l = new RecordLog(st, VAULT_LOGS, VAULT_LOG_BYTES);
      l.load();
      return l;
    };
    // records of 68 bytes (a 1-byte value) until one of 100 bytes (a 43-byte value) ends exactly at the end
    let n = 0;
    while (VAULT_LOG_BYTES - log().end !== 100) {
      assert.equal(put(v, "p", bytes("f")), null);
      n++;
      assert.ok(n < 200, "reaches the last 100 bytes");
    }
    st.statsOverride = { freeBytes: 0 };
    assert.equal(put(v, "p", bytes("e".repeat(43))), null, "the last record fits in place");
    assert.equal(log().end, VAULT_LOG_BYTES);
    assert.deepEqual(st.list("vault."), [VAULT_LOGS[0]]);
    assert.equal(put(v, "p", bytes("g")), VAULT_FULL, "full: a turnover, and no room for it");
    assert.equal(text(open(st).vault.value("p")), "e".repeat(43));
    st.statsOverride = { freeBytes: TURNOVER_FREE };
    assert.equal(put(v, "p", bytes("g")), null, "room for the turnover, to the byte");
    assert.deepEqual(st.list("vault."), [VAULT_LOGS[1]]);
  });

  it("the first write (a new log file) needs the file, its header and 4 KB of slack free, to the byte", () => {
    const short = rig();
    short.statsOverride = { freeBytes: TURNOVER_FREE - 1 };
    assert.equal(put(open(short).vault, "a", bytes("1")), VAULT_FULL);
    assert.deepEqual(short.list("vault."), []);
    const ok = rig();
    ok.statsOverride = { freeBytes: TURNOVER_FREE };
    assert.equal(put(open(ok).vault, "a", bytes("1")), null);
  });

  it("a log whose tail was torn needs room to turn over, even though its file has space left", () => {
    const st = rig();
    const v = open(st).vault;
    assert.equal(put(v, "a", bytes("1")), null);
    const l = new RecordLog(st, VAULT_LOGS, VAULT_LOG_BYTES);
    l.load();
    // a torn header after the record: neither blank nor a record
    assert.ok(st.write(VAULT_LOGS[0], new Uint8Array([7, 7, 7, 7]), l.end));
    st.statsOverride = { freeBytes: TURNOVER_FREE - 1 };
    const again = open(st).vault;
    assert.equal(text(again.value("a")), "1");
    assert.equal(put(again, "a", bytes("2")), VAULT_FULL);
    st.statsOverride = undefined;
    assert.equal(put(again, "a", bytes("2")), null);
    assert.deepEqual(st.list("vault."), [VAULT_LOGS[1]]);
  });

  it("a put or remove Storage refuses (VAULT_WRITE) leaves the vault in memory as it was", () => {
    const st = rig();
    const v = open(st).vault;
    assert.equal(put(v, "a", bytes("1")), null);
    assert.equal(put(v, "b", bytes("2")), null);
    st.refuse = true;
    assert.equal(put(v, "c", bytes("3")), VAULT_WRITE);
    assert.equal(put(v, "a", bytes("9")), VAULT_WRITE);
    assert.equal(remove(v, "a"), VAULT_WRITE);
    assert.deepEqual(v.names(), ["a", "b"]);
    assert.equal(text(v.value("a")), "1");
    assert.equal(text(v.value("b")), "2");
    assert.equal(v.generation(), 2);
    st.refuse = false;
    assert.equal(put(v, "c", bytes("3")), null);
    assert.equal(v.generation(), 3);
  });

  it("removing a name keeps every other entry with its own value; removing an absent name writes nothing", () => {
    const st = rig();
    const v = open(st).vault;
    for (const [n, x] of [["a", "1"], ["b", "2"], ["c", "3"]]) put(v, n, bytes(x));
    assert.equal(remove(v, "zz"), null);
    assert.equal(v.generation(), 3, "nothing written");
    assert.deepEqual(v.names(), ["a", "b", "c"]);
    assert.equal(remove(v, "a"), null);
    assert.deepEqual(v.names(), ["b", "c"]);
    assert.equal(text(v.value("b")), "2");
    assert.equal(text(v.value("c")), "3");
    const again = open(st).vault;
    assert.equal(text(again.value("b")), "2");
    assert.equal(text(again.value("c")), "3");
  });

  it("get answers a stored value; names() is a copy", () => {
    const v = open(rig()).vault;
    put(v, "a", bytes("1"));
    let got: [string | null, string | undefined] | null = null;
    v.get("a", (e, x) => (got = [e, text(x)]));
    assert.deepEqual(got, [null, "1"]);
    v.get("b", (e, x) => (got = [e, text(x)]));
    assert.deepEqual(got, [VAULT_ABSENT, undefined]);
    v.names().push("x");
    assert.deepEqual(v.names(), ["a"]);
  });

  it("takes names of 1 to 24 printable ASCII characters (! to ~) and values up to 128 bytes", () => {
    const v = open(rig()).vault;
    for (const n of ["!", "~", "n".repeat(MAX_NAME)]) assert.equal(put(v, n, bytes("x")), null, n);
    for (const n of ["a\x7f", "é", "a\x20b", "n".repeat(MAX_NAME + 1)]) assert.equal(put(v, n, bytes("x")), VAULT_NAME, JSON.stringify(n));
    assert.equal(put(v, "big", new Uint8Array(MAX_VALUE)), null);
    assert.equal(put(v, "big", new Uint8Array(MAX_VALUE + 1)), VAULT_SIZE);
  });

  it("holds 24 entries; a 25th is VAULT_SIZE, while replacing one of the 24 still works", () => {
    const v = open(rig()).vault;
    for (let i = 0; i < MAX_ENTRIES; i++) assert.equal(put(v, "e" + i, bytes("v")), null, "entry " + i);
    assert.equal(put(v, "e" + MAX_ENTRIES, bytes("v")), VAULT_SIZE);
    assert.equal(put(v, "e0", bytes("w")), null);
    assert.equal(v.names().length, MAX_ENTRIES);
  });
});

describe("vault: PIN records", () => {
  it("a record claiming 0 iterations matches no PIN (a tampered record whose key is the empty PBKDF2 sum)", () => {
    const rec = new Uint8Array(50); // salt 0, count 0, key all zeros: what 0 iterations would compute
    assert.equal(checkPin(crypto, rec, "0000"), false);
    assert.equal(checkPin(crypto, rec, ""), false);
  });
});
