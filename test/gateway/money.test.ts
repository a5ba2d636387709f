/**
 * The gateway moves money (docs/gateway.md, the money model): allowances reserve their cap into a purse, offline
 * payments move purse -> merchant pending -> available, reversals and disputes move money back, refunds and online
 * payments are postings too, and every balance is a sum of postings.
 */
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WalletPaymentEntry } from "../../protocol/entry.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { HOLD_MS } from "../../protocol/rules.ts";
import { PURSE_GRACE_MS } from "../../gateway/money.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import { openPgStore } from "../../gateway/pg-store.ts";
import type { SqlStore } from "../../gateway/sql-store.ts";
import { SoftWallet } from "../helpers/soft-terminal.ts";
import { DAY, makeRig, merchantWithTerminals, newWallet, ON_POSTGRES, testDb, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The books' invariants: every movement balances, and in total debits equal credits per currency. */
function assertBalanced(rig: Rig): void {
  const b = rig.gw.books();
  assert.deepEqual(b.unbalanced, [], "every movement balances");
  for (const t of b.trial) assert.equal(t.debits, t.credits, "debits = credits in currency " + t.currency);
}

describe("gateway money: allowances and purses", () => {
  it("reserves an allowance's cap from the available balance into its purse", () => {
    const rig = makeRig();
    const w = new SoftWallet();
    rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 5000, balanceMinor: 12000 });
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 7000, purse: 5000, debt: 0, disputed: 0 });
    assertBalanced(rig);
  });

  it("answers 402 and issues nothing when the balance cannot cover the cap: no wallet, no postings", async () => {
    const rig = makeRig();
    const w = new SoftWallet();
    const r = await rig.gw.handle({ method: "POST", path: "/v1/wallets", headers: { authorization: "Bearer admin-test" }, body: JSON.stringify({ publicKey: hexOf(w.publicKey), capMinor: 5000, balanceMinor: 4999 }) });
    assert.equal(r.status, 402, r.body);
    assert.equal(JSON.parse(r.body).error, "INSUFFICIENT_FUNDS");
    assert.equal(rig.gw.wallet(w.walletId), undefined);
    assert.deepEqual(rig.gw.books().trial, []);
  });

  it("a wallet that asks for a new allowance beyond its balance gets 402 and keeps its old one", async () => {
    const rig = makeRig();
    const w = newWallet(rig, 10000, "+4915100000001", 3000);
    const r = await walletCall(rig.gw, w, "allowance", {});
    // the live purse (10000) returns first, so 3000 + 10000 covers a new 10000
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 3000, purse: 10000, debt: 0, disputed: 0 });
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    w.setAllowance(Buffer.from(r.json.allowance as string, "base64"));
    const t = terms[0];
    t.record(t.walletPayment(w, 9000));
    await t.uploadAll();
    // purse 1000 + available 3000 = 4000 < 10000
    const again = await walletCall(rig.gw, w, "allowance", {});
    assert.equal(again.status, 402, again.body);
    assert.equal(again.json.error, "INSUFFICIENT_FUNDS");
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 3000, purse: 1000, debt: 0, disputed: 0 });
    const smaller = await walletCall(rig.gw, w, "allowance", { capMinor: 4000 });
    assert.equal(smaller.status, 200, smaller.body);
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 0, purse: 4000, debt: 0, disputed: 0 });
    assertBalanced(rig);
  });

  it("keeps in a replaced purse what the payer reported and no terminal uploaded, returns the rest at once, and the rest after the grace window", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 10000, "+4915100000001", 20000);
    const e = t.walletPayment(w, 2500);
    t.record(e);
    // the wallet syncs before the terminal uploads: 2500 stays in the old purse, 7500 returns, 10000 is reserved anew
    const s = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 17500, purse: 12500, debt: 0, disputed: 0 });
    await t.uploadAll();
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 17500, purse: 10000, debt: 0, disputed: 0 });
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId), { merchantId: merchant.merchantId, currency: 978, pending: 0, available: 2500, paidOut: 0 }, "reported, then matched on upload");
    rig.clock.advance(PURSE_GRACE_MS + 1);
    rig.gw.tick();
    assert.equal(rig.gw.walletBalances(w.walletId).purse, 10000, "the live purse stays");
    assertBalanced(rig);
  });

  it("returns an expired allowance's purse to available after its grace window, never before", () => {
    const rig = makeRig();
    const w = newWallet(rig, 10000, "+4915100000001", 0);
    rig.clock.advance(30 * DAY);
    rig.gw.tick();
    assert.equal(rig.gw.walletBalances(w.walletId).purse, 10000);
    rig.clock.advance(DAY + PURSE_GRACE_MS);
    rig.gw.tick();
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 10000, purse: 0, debt: 0, disputed: 0 });
    assertBalanced(rig);
  });
});

describe("gateway money: offline payments", () => {
  it("moves an uploaded payment from the purse to the merchant's pending, and to available when the payer syncs", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 10000, "+4915100000001", 0);
    t.record(t.walletPayment(w, 1250));
    t.record(t.walletPayment(w, 750));
    await t.uploadAll();
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 0, purse: 8000, debt: 0, disputed: 0 });
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId), { merchantId: merchant.merchantId, currency: 978, pending: 2000, available: 0, paidOut: 0 });
    const s = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId), { merchantId: merchant.merchantId, currency: 978, pending: 0, available: 2000, paidOut: 0 });
    // the purse's remaining 8000 covered nothing new: no new allowance without funds beyond it
    assert.equal(s.json.allowance, null);
    assert.equal(s.json.allowanceError, "INSUFFICIENT_FUNDS");
    assertBalanced(rig);
  });

  it("approves after 3 days without the payer: pending -> available", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    t.record(t.walletPayment(w, 1000));
    await t.uploadAll();
    rig.clock.advance(HOLD_MS - 60000);
    rig.gw.tick();
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 1000);
    rig.clock.advance(120000);
    rig.gw.tick();
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId), { merchantId: merchant.merchantId, currency: 978, pending: 0, available: 1000, paidOut: 0 });
    assertBalanced(rig);
  });

  it("pays the merchant in full for a double spend beyond the purse: the excess becomes the wallet's debt and the wallet is denied", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig, 5000, "+4915100000001", 1000);
    // the same counter at two terminals, 4000 each: 5000 from the purse, 1000 from available, 2000 debt
    terms[0].record(terms[0].walletPayment(w, 4000, { counter: 0 }));
    terms[1].record(terms[1].walletPayment(w, 4000, { counter: 0 }));
    await terms[0].uploadAll();
    await terms[1].uploadAll();
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 0, purse: 0, debt: -2000, disputed: 0 });
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 8000, "the issuer guarantees what terminals accepted");
    assert.ok(rig.gw.denyList().includes(w.walletId));
    const kinds = rig.gw.flags().map((f) => f.kind);
    assert.ok(kinds.includes("double-spend") && kinds.includes("beyond-purse"), kinds.join(","));
    assertBalanced(rig);
  });

  it("moves a reversed held payment back to the payer's available; a dispute waits for review, then goes where the issuer decides", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 10000, "+4915100000001", 0);
    const a = t.walletPayment(w, 1500);
    const b = t.walletPayment(w, 500);
    t.record(a);
    t.record(b);
    await t.uploadAll();
    const rev = await walletCall(rig.gw, w, "claims", { txId: hexOf(a.txId), action: "reverse" });
    assert.equal(rev.status, 200, rev.body);
    assert.equal(rig.gw.walletBalances(w.walletId).available, 1500);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 500);
    const dis = await walletCall(rig.gw, w, "claims", { txId: hexOf(b.txId), action: "dispute" });
    assert.equal(dis.status, 200, dis.body);
    assert.equal(rig.gw.walletBalances(w.walletId).disputed, 500);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 0);
    const r = await rig.gw.handle({ method: "POST", path: "/v1/admin/disputes", headers: { authorization: "Bearer admin-test" }, body: JSON.stringify({ merchantId: merchant.merchantId, ref: hexOf(b.txId), decision: "merchant" }) });
    assert.equal(r.status, 200, r.body);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 500);
    assert.equal(rig.gw.walletBalances(w.walletId).disputed, 0);
    const again = await walletCall(rig.gw, w, "claims", { txId: hexOf(b.txId), action: "dispute" });
    assert.equal(again.status, 409, "a reviewed dispute is not opened twice");
    assertBalanced(rig);
  });

  it("moves a refund from the merchant back to the payer's available", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 10000, "+4915100000001", 0);
    const a = t.walletPayment(w, 3000);
    t.record(a);
    await t.uploadAll();
    await walletCall(rig.gw, w, "sync", { spent: w.spent });
    t.record(t.refund(a.txId, 1000));
    await t.uploadAll();
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 2000);
    assert.equal(rig.gw.walletBalances(w.walletId).available, 1000, "the refund; the purse keeps its 7000 (no new allowance was affordable)");
    assert.equal(rig.gw.walletBalances(w.walletId).purse, 7000);
    assertBalanced(rig);
  });
});

describe("gateway money: the payer's evidence", () => {
  it("credits the merchant from a wallet's receipts when the terminal never uploaded, and the late upload is a duplicate", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 4200) as WalletPaymentEntry;
    const receipt = t.receipt(e);
    const spent = [{ ...w.spent[0], request: toBase64(e.request), payment: toBase64(e.payment), receipt: toBase64(receipt) }];
    const s = await walletCall(rig.gw, w, "sync", { spent });
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(s.json.evidenced, [hexOf(e.txId)]);
    assert.deepEqual(s.json.matched, [hexOf(e.txId)], "the payer's own report approves it");
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 4200);
    // the terminal comes back and uploads the same payment: acknowledged, entered once
    t.record(e);
    await t.uploadAll();
    assert.equal(t.pending.length, 0, "acknowledged");
    assert.equal(rig.gw.ledger().filter((l) => l.txId === hexOf(e.txId)).length, 1);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 4200, "credited once");
    assertBalanced(rig);
  });

  it("refuses a receipt the terminal did not sign (400) and changes nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig);
    const e = terms[0].walletPayment(w, 4200) as WalletPaymentEntry;
    const forged = terms[1].receipt({ ...e });
    const before = rig.gw.books().trial;
    const s = await walletCall(rig.gw, w, "sync", { spent: [{ ...w.spent[0], request: toBase64(e.request), payment: toBase64(e.payment), receipt: toBase64(forged) }] });
    assert.equal(s.status, 400, s.body);
    assert.equal(s.json.error, "BAD_EVIDENCE");
    assert.deepEqual(rig.gw.books().trial, before);
    assert.equal(rig.gw.ledger().length, 0);
  });
});

describe("gateway money: online payments", () => {
  it("credits the merchant's available from the card processor's funds or from a wallet's available", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    await rig.gw.payInvoice({ invoice: t.invoice(1, 1200), method: "card", card: { number: "4242424242424242", expiry: "12/30", cvc: "123" } });
    const w = newWallet(rig, 1000, "+4915100000001", 5000);
    await rig.gw.payInvoice({ invoice: t.invoice(2, 800), method: "wallet", walletId: w.walletId });
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 2000);
    assert.equal(rig.gw.walletBalances(w.walletId).available, 4200);
    const cards = rig.gw.books().issuer.find((a) => a.account === "issuer:cards");
    assert.equal(cards?.balance, -1200, "the processor owes the issuer the card's 12.00");
    assertBalanced(rig);
  });
});

describe("gateway money: schema versions", () => {
  it("carries a version-1 database's in-place wallet balances into opening postings", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-v1-"));
    try {
      const path = join(dir, "old.db");
      const db = new Database(path);
      db.exec(`CREATE TABLE wallets (id TEXT PRIMARY KEY, pub BLOB NOT NULL, phone TEXT NOT NULL, currency INTEGER NOT NULL, capMinor INTEGER NOT NULL,
        balanceMinor INTEGER NOT NULL, allowance BLOB NOT NULL, startCounter INTEGER NOT NULL, expiryDay INTEGER NOT NULL,
        lastReqTime INTEGER NOT NULL, syncedAt INTEGER NOT NULL, createdAt INTEGER NOT NULL);
        CREATE TABLE merchants (id INTEGER PRIMARY KEY, name TEXT NOT NULL, currency INTEGER NOT NULL, apiKeyHash TEXT NOT NULL UNIQUE,
        webhookUrl TEXT NOT NULL, webhookSecret TEXT NOT NULL, limits TEXT NOT NULL, createdAt INTEGER NOT NULL);`);
      db.prepare("INSERT INTO wallets VALUES ('00112233445566ff', x'00', '', 978, 1000, 4321, x'00', 0, 0, 0, 0, 1)").run();
      db.close();
      const s = new SqliteStore(path);
      assert.equal(s.balance("wallet:00112233445566ff:available"), 4321);
      assert.deepEqual(s.unbalancedMovements(), []);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("gateway money: running balances (migration 10)", () => {
  it("backfills a version-9 database's running balances and allowances' sums from its postings and spends, and keeps them from there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-v9-"));
    try {
      const rig = makeRig(join(dir, "v9.db"));
      const { merchant, terms } = merchantWithTerminals(rig, "Backfill", 2);
      const w = newWallet(rig);
      const v = newWallet(rig, 5000, "+4915100000002");
      for (const t of terms) for (let i = 0; i < 3; i++) t.record(t.walletPayment(i % 2 ? v : w, 100 + i));
      for (const t of terms) await t.uploadAll();
      const books = () => ({ books: rig.gw.books(), w: rig.gw.walletBalances(w.walletId), v: rig.gw.walletBalances(v.walletId), spent: [w, v].map((x) => rig.gw.store.allowances(x.walletId).map((a) => rig.gw.store.spentUnder(x.walletId, a.key))) });
      const before = books();
      assert.ok(before.spent.flat().every((x) => x > 0), "money spent under both wallets' allowances");
      // the database as version 9 left it: no running rows, and the version says so (done on the closed database)
      rig.gw.close();
      if (ON_POSTGRES) {
        const raw = openPgStore(testDb(join(dir, "v9.db")));
        raw.select("DROP TABLE account_balances");
        raw.select("DROP TABLE allowance_spent");
        raw.select("UPDATE schema_version SET version = 9");
        raw.close();
      } else {
        const raw = new Database(join(dir, "v9.db"));
        raw.exec("DROP TABLE account_balances; DROP TABLE allowance_spent");
        raw.pragma("user_version = 9");
        raw.close();
      }
      rig.restart();
      assert.deepEqual(rig.gw.store.runningBalanceErrors(), []);
      assert.deepEqual(books(), before, "the same balances and sums, read from the backfilled rows");
      assert.ok(Number((rig.gw.store as SqlStore).select<{ n: number }>("SELECT count(*) AS n FROM account_balances")[0].n) > 0);
      // and kept from there: more payments, the rows still equal the postings and spends
      for (const t of terms) t.record(t.walletPayment(w, 7));
      for (const t of terms) await t.uploadAll();
      assert.deepEqual(rig.gw.store.runningBalanceErrors(), []);
      assert.equal(rig.gw.merchantBalances(merchant.merchantId).pending, 2 * (100 + 101 + 102) + 14);
      rig.gw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("gateway money: the worked example of docs/gateway.md", () => {
  it("runs from allowance to payout with the balances the table gives at each step", async () => {
    const rig = makeRig();
    rig.gw.setPayoutAccount({ name: "Issuer", iban: "DE89370400440532013000", bic: "" });
    const { merchant, terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
    rig.gw.updateMerchant(merchant.merchantId, { iban: "FR1420041010050500013M02606" });
    const t = terms[0];
    const alice = new SoftWallet();
    alice.setAllowance(rig.gw.registerWallet({ publicKey: alice.publicKey, capMinor: 10000, balanceMinor: 20000 }).allowance);
    const state = () => {
      const w = rig.gw.walletBalances(alice.walletId);
      const m = rig.gw.merchantBalances(merchant.merchantId);
      const purses = rig.gw.store.allowances(alice.walletId).map((a) => rig.gw.store.balance("wallet:" + alice.walletId + ":purse:" + a.n));
      return [w.available, ...purses, m.pending, m.available, m.paidOut];
    };
    assert.deepEqual(state(), [10000, 10000, 0, 0, 0], "1");
    const first = t.walletPayment(alice, 1250);
    t.record(first);
    await t.uploadAll();
    assert.deepEqual(state(), [10000, 8750, 1250, 0, 0], "2");
    t.record(t.walletPayment(alice, 3000));
    assert.deepEqual(state(), [10000, 8750, 1250, 0, 0], "3");
    const s = await walletCall(rig.gw, alice, "sync", { spent: alice.spent });
    assert.equal(s.status, 200, s.body);
    assert.deepEqual(state(), [5750, 3000, 10000, 0, 1250, 0], "4");
    await t.uploadAll();
    assert.deepEqual(state(), [5750, 0, 10000, 0, 4250, 0], "5");
    t.record(t.refund(first.txId, 250));
    await t.uploadAll();
    assert.deepEqual(state(), [6000, 0, 10000, 0, 4000, 0], "6");
    rig.clock.advance(DAY);
    rig.gw.runPayouts();
    assert.deepEqual(state(), [6000, 0, 10000, 0, 0, 4000], "7");
    assert.equal(rig.gw.store.balance("issuer:funds"), -20000);
    assertBalanced(rig);
  });
});
