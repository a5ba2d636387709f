/**
 * The books, the money moves and the payout file as units (no HTTP): what each function posts, refuses and writes,
 * exactly. The pain.001 below was checked by hand against the ISO 20022 pain.001.001.09 message definition and the
 * EPC SEPA credit transfer guidelines (group header count and sum, one PmtInf per currency, SEPA service level only
 * for EUR, the SEPA character set, an agent as NOTPROVIDED when no BIC is known).
 */
import assert from "node:assert/strict";
import { statementCsv, walletAvailable, walletPurse } from "../../gateway/books.ts";
import { Money, MoneyError } from "../../gateway/money.ts";
import { currencyCode, decimal, pain001, sepaText, validBic, validIban } from "../../gateway/payouts.ts";
import type { AllowanceRow, GatewayStore } from "../../gateway/store.ts";
import { testStore } from "./helpers.ts";

const T = Date.UTC(2026, 10, 23, 12);

const opened: GatewayStore[] = [];
/** A new empty store on the suite's database (SQLite, or PostgreSQL under GATEWAY_TEST_DB=postgres). */
function fresh() {
  const store = testStore();
  opened.push(store);
  let now = T;
  const money = new Money(store, () => now);
  return { store, money, books: money.books, tick: (ms: number) => (now += ms) };
}

describe("gateway books and money, as units", () => {
  afterEach(() => {
    for (const st of opened.splice(0)) st.close();
  });

  it("writes the pain.001 document exactly so (two currencies, SEPA only for EUR, agents, the character set)", () => {
    const xml = pain001({
      msgId: "PO-2026-11-23-7",
      createdAt: Date.UTC(2026, 10, 24, 6, 30, 5, 123),
      executionDate: "2026-11-24",
      debtor: { name: "Offline Pay Issuer & Co <Ltd>", iban: "DE89370400440532013000", bic: "" },
      payments: [
        { endToEndId: "PO7M42", amountMinor: 1234, currency: 978, creditor: { name: "Café Blue", iban: "FR1420041010050500013M02606", bic: "" }, remittance: "Settlement 2026-11-23 merchant 42" },
        { endToEndId: "PO7M43", amountMinor: 5, currency: 826, creditor: { name: 'Books "Co"', iban: "GB29NWBK60161331926819", bic: "NWBKGB2L" }, remittance: "x" },
        { endToEndId: "PO7M44", amountMinor: 100000, currency: 978, creditor: { name: "***", iban: "DE89370400440532013000", bic: "COBADEFFXXX" }, remittance: "" },
      ],
    });
    assert.equal(xml, [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">",
    "  <CstmrCdtTrfInitn>",
    "    <GrpHdr>",
    "      <MsgId>PO-2026-11-23-7</MsgId>",
    "      <CreDtTm>2026-11-24T06:30:05Z</CreDtTm>",
    "      <NbOfTxs>3</NbOfTxs>",
    "      <CtrlSum>1012.39</CtrlSum>",
    "      <InitgPty><Nm>Offline Pay Issuer Co Ltd</Nm></InitgPty>",
    "    </GrpHdr>",
    "    <PmtInf>",
    "      <PmtInfId>PO-2026-11-23-7-1</PmtInfId>",
    "      <PmtMtd>TRF</PmtMtd>",
    "      <NbOfTxs>2</NbOfTxs>",
    "      <CtrlSum>1012.34</CtrlSum>",
    "      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>",
    "      <ReqdExctnDt><Dt>2026-11-24</Dt></ReqdExctnDt>",
    "      <Dbtr><Nm>Offline Pay Issuer Co Ltd</Nm></Dbtr>",
    "      <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
    "      <DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>",
    "      <ChrgBr>SLEV</ChrgBr>",
    "      <CdtTrfTxInf>",
    "        <PmtId><EndToEndId>PO7M42</EndToEndId></PmtId>",
    "        <Amt><InstdAmt Ccy=\"EUR\">12.34</InstdAmt></Amt>",
    "        <Cdtr><Nm>Cafe Blue</Nm></Cdtr>",
    "        <CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>",
    "        <RmtInf><Ustrd>Settlement 2026-11-23 merchant 42</Ustrd></RmtInf>",
    "      </CdtTrfTxInf>",
    "      <CdtTrfTxInf>",
    "        <PmtId><EndToEndId>PO7M44</EndToEndId></PmtId>",
    "        <Amt><InstdAmt Ccy=\"EUR\">1000.00</InstdAmt></Amt>",
    "        <CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></CdtrAgt>",
    "        <Cdtr><Nm>NOTPROVIDED</Nm></Cdtr>",
    "        <CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>",
    "        <RmtInf><Ustrd>NOTPROVIDED</Ustrd></RmtInf>",
    "      </CdtTrfTxInf>",
    "    </PmtInf>",
    "    <PmtInf>",
    "      <PmtInfId>PO-2026-11-23-7-2</PmtInfId>",
    "      <PmtMtd>TRF</PmtMtd>",
    "      <NbOfTxs>1</NbOfTxs>",
    "      <CtrlSum>0.05</CtrlSum>",
    "      <ReqdExctnDt><Dt>2026-11-24</Dt></ReqdExctnDt>",
    "      <Dbtr><Nm>Offline Pay Issuer Co Ltd</Nm></Dbtr>",
    "      <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
    "      <DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>",
    "      <ChrgBr>SLEV</ChrgBr>",
    "      <CdtTrfTxInf>",
    "        <PmtId><EndToEndId>PO7M43</EndToEndId></PmtId>",
    "        <Amt><InstdAmt Ccy=\"GBP\">0.05</InstdAmt></Amt>",
    "        <CdtrAgt><FinInstnId><BICFI>NWBKGB2L</BICFI></FinInstnId></CdtrAgt>",
    "        <Cdtr><Nm>Books Co</Nm></Cdtr>",
    "        <CdtrAcct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id></CdtrAcct>",
    "        <RmtInf><Ustrd>x</Ustrd></RmtInf>",
    "      </CdtTrfTxInf>",
    "    </PmtInf>",
    "  </CstmrCdtTrfInitn>",
    "</Document>",    ].join("\n") + "\n");
  });

  it("escapes and cuts what goes into the file's identifiers (35 characters, XML special characters)", () => {
    const xml = pain001({ msgId: "M&<'\">" + "x".repeat(40), createdAt: T, executionDate: "2026-11-24", debtor: { name: "I", iban: "DE89370400440532013000", bic: "" }, payments: [{ endToEndId: "E".repeat(40), amountMinor: 1, currency: 978, creditor: { name: "c", iban: "DE89370400440532013000", bic: "" }, remittance: "r" }] });
    // 35 characters are cut before escaping: M & < ' " > and 29 x
    assert.ok(xml.includes("<MsgId>M&amp;&lt;&apos;&quot;&gt;" + "x".repeat(29) + "</MsgId>"), xml);
    assert.ok(xml.includes("<PmtInfId>M&amp;&lt;&apos;&quot;&gt;" + "x".repeat(29) + "</PmtInfId>"), xml);
    assert.ok(xml.includes("<EndToEndId>" + "E".repeat(35) + "</EndToEndId>"));
    assert.ok(xml.includes("<CreDtTm>2026-11-23T12:00:00Z</CreDtTm>"));
  });

  it("refuses a payment file with an amount that is not a positive integer, or a currency it has no code for", () => {
    const base = { msgId: "m", createdAt: T, executionDate: "2026-11-24", debtor: { name: "I", iban: "DE89370400440532013000", bic: "" } };
    const pay = (amountMinor: number, currency = 978) => pain001({ ...base, payments: [{ endToEndId: "e", amountMinor, currency, creditor: { name: "c", iban: "DE89370400440532013000", bic: "" }, remittance: "r" }] });
    assert.throws(() => pay(0), /positive integer/);
    assert.throws(() => pay(-5), /positive integer/);
    assert.throws(() => pay(1.5), /positive integer/);
    assert.throws(() => pay(100, 999), /ISO 4217/);
    assert.equal(currencyCode(756), "CHF");
  });

  it("writes amounts as decimals with two digits, and SEPA text within its set and length", () => {
    assert.deepEqual([decimal(0), decimal(5), decimal(1234), decimal(-1250), decimal(100000)], ["0.00", "0.05", "12.34", "-12.50", "1000.00"]);
    assert.equal(sepaText("  Ärger & Söhne  GmbH ", 70), "Arger Sohne GmbH");
    assert.equal(sepaText("abcdef", 3), "abc");
    assert.equal(sepaText("€€", 10), "NOTPROVIDED");
  });

  it("checks IBANs (ISO 13616, mod 97) and BICs (ISO 9362)", () => {
    for (const ok of ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606", "NO9386011117947", "AL47212110090000000235698741"]) assert.ok(validIban(ok), ok);
    for (const bad of ["DE89370400440532013001", "de89370400440532013000", "DE8937040044053201300", "DE89 3704 0044 0532 0130 00", "D189370400440532013000", "DEXX370400440532013000", "", "NO938601111794", "XDE89370400440532013000", "DE89370400440532013000X", "DE8370400440532013000"]) assert.ok(!validIban(bad), bad);
    assert.ok(!validIban(89370400440532013000 as unknown as string), "not a string");
    for (const ok of ["NWBKGB2L", "COBADEFFXXX", "DEUTDEFF500"]) assert.ok(validBic(ok), ok);
    for (const bad of ["NWBKGB2", "nwbkgb2l", "NWBKGB2LX", "1WBKGB2L", "NWBK1B2L", "", "XNWBKGB2L"]) assert.ok(!validBic(bad), bad);
    assert.ok(!validBic(12345678 as unknown as string), "not a string");
  });

  it("posts a movement only when it balances, never twice under one key, and drops legs of 0", () => {
    const { store, books } = fresh();
    assert.throws(() => books.move({ key: "k1", kind: "x", ref: "r", at: T }, [books.leg("a", -5, 978), books.leg("b", 4, 978)]), /does not balance/);
    assert.throws(() => books.move({ key: "k1", kind: "x", ref: "r", at: T }, [books.leg("a", -5, 978), books.leg("b", 5, 840)]), /does not balance/);
    assert.throws(() => books.move({ key: "k1", kind: "x", ref: "r", at: T }, [books.leg("a", -0.5, 978), books.leg("b", 0.5, 978)]), /integer/);
    assert.equal(books.move({ key: "k0", kind: "x", ref: "r", at: T }, [books.leg("a", 0, 978), books.leg("b", 0, 978)]), false, "nothing to post");
    assert.equal(store.movementByKey("k0"), undefined);
    assert.equal(books.move({ key: "k1", kind: "x", ref: "r", at: T, memo: "m" }, [books.leg("a", -5, 978), books.leg("b", 5, 978), books.leg("c", 0, 978)]), true);
    assert.throws(() => books.transfer({ key: "k1", kind: "x", ref: "r", at: T }, "a", "b", 1, 978), /posted already/);
    assert.deepEqual([books.balance("a"), books.balance("b"), books.balance("c")], [-5, 5, 0]);
    assert.equal(store.postings("", 0, T + 1).length, 2, "the 0 leg was not written");
    assert.deepEqual(store.unbalancedMovements(), []);
    assert.deepEqual(store.trialBalance(), [{ currency: 978, debits: 5, credits: 5 }]);
  });

  it("takes money in once per reference, only positive integers", () => {
    const { money, books } = fresh();
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => money.topUp("w1", bad, 978, "r" + bad), (e: MoneyError) => e.code === "BAD_AMOUNT" && e.status === 400);
    money.topUp("w1", 700, 978, "bank-1");
    assert.throws(() => money.topUp("w1", 700, 978, "bank-1"), (e: MoneyError) => e.code === "TOPUP_EXISTS" && e.status === 409);
    assert.equal(books.balance(walletAvailable("w1")), 700);
    assert.equal(books.balance("issuer:funds"), -700);
  });

  it("reserves exactly the cap (402 beyond the balance), releases at most what a purse holds, and pays beyond it from available then debt", () => {
    const { money, books } = fresh();
    money.topUp("w1", 1000, 978, "t");
    const a: AllowanceRow = { walletId: "w1", n: 1, key: "20500:0", capMinor: 800, currency: 978, startCounter: 0, expiryDay: 20500, issuedAt: T, status: "live", releaseAt: 0, replacedAt: 0 };
    assert.throws(() => money.reserve({ ...a, capMinor: 1001 }), (e: MoneyError) => e.status === 402 && e.code === "INSUFFICIENT_FUNDS");
    money.reserve(a);
    assert.deepEqual([books.balance(walletAvailable("w1")), money.purse(a)], [200, 800]);
    assert.equal(money.release(a, -5, "replaced"), 0, "nothing for a negative amount");
    assert.equal(money.release(a, 300, "replaced"), 300);
    assert.equal(money.release(a, 9999, "final"), 500, "at most what it holds");
    assert.equal(money.release(a, 1, "again"), 0, "an empty purse returns nothing");
    assert.equal(books.balance(walletAvailable("w1")), 1000);
    money.reserve({ ...a, n: 2, capMinor: 300 });
    const d = money.offlinePayment({ ref: "tx1", merchantId: 9, walletId: "w1", amountMinor: 1200, currency: 978, allowance: { ...a, n: 2 }, memo: "counter 0" });
    assert.deepEqual(d, { fromPurse: 300, fromAvailable: 700, debt: 200 });
    assert.deepEqual([books.balance(walletPurse("w1", 2)), books.balance(walletAvailable("w1")), books.balance("wallet:w1:debt"), books.balance("merchant:9:pending")], [0, 0, -200, 1200]);
    const none = money.offlinePayment({ ref: "tx2", merchantId: 9, walletId: "w1", amountMinor: 50, currency: 978, allowance: undefined, memo: "" });
    assert.deepEqual(none, { fromPurse: 0, fromAvailable: 0, debt: 50 }, "an allowance the gateway did not issue has no purse");
  });

  it("posts each move under its own key and kind, with its memo: the books' idempotency contract", () => {
    const { store, money } = fresh();
    money.topUp("w1", 5000, 978, "bank-1");
    const a: AllowanceRow = { walletId: "w1", n: 1, key: "20500:0", capMinor: 3000, currency: 978, startCounter: 0, expiryDay: 20500, issuedAt: T, status: "live", releaseAt: 0, replacedAt: 0 };
    money.reserve(a);
    money.offlinePayment({ ref: "tx1", merchantId: 9, walletId: "w1", amountMinor: 1000, currency: 978, allowance: a, memo: "counter 0" });
    const row = { ref: "tx1", merchantId: 9, walletId: "w1", amountMinor: 1000, currency: 978, status: "held" } as Parameters<Money["approve"]>[0];
    money.approve(row);
    money.offlinePayment({ ref: "tx2", merchantId: 9, walletId: "w1", amountMinor: 500, currency: 978, allowance: a, memo: "counter 1" });
    money.dispute({ ...row, ref: "tx2", amountMinor: 500, status: "approved" });
    money.resolveDispute({ ...row, ref: "tx2", amountMinor: 500, status: "disputed" }, true);
    money.offlinePayment({ ref: "tx3", merchantId: 9, walletId: "w1", amountMinor: 200, currency: 978, allowance: a, memo: "counter 2" });
    money.reverse({ ...row, ref: "tx3", amountMinor: 200, status: "held" });
    money.release(a, 100, "replaced");
    money.release(a, 9999, "final");
    money.refund("rf1", 9, 300, 978, { ref: "tx1", walletId: "w1" });
    money.online("pay:9", 9, 700, 978, "w1");
    money.payout("payout:1:9", 9, 1000, 978, "settlement 2026-11-23");
    const moves = [...new Map(store.postings("", 0, T + 1).map((p) => [p.key, [p.key, p.kind, p.ref, p.memo]])).values()];
    assert.deepEqual(moves, [
      ["topup:w1:bank-1", "topup", "w1", "bank-1"],
      ["reserve:w1:1", "reserve", "allowance:1", ""],
      ["payment:tx1", "payment", "tx1", "counter 0"],
      ["approve:tx1", "approve", "tx1", ""],
      ["payment:tx2", "payment", "tx2", "counter 1"],
      ["dispute:tx2", "dispute", "tx2", ""],
      ["resolve:tx2", "dispute-upheld", "tx2", ""],
      ["payment:tx3", "payment", "tx3", "counter 2"],
      ["reverse:tx3", "reverse", "tx3", ""],
      ["release:w1:1:replaced", "release", "allowance:1", "replaced"],
      ["release:w1:1", "release", "allowance:1", "final"],
      ["refund:rf1", "refund", "rf1", "of tx1"],
      ["online:pay:9", "online", "pay:9", ""],
      ["payout:1:9", "payout", "payout:1:9", "settlement 2026-11-23"],
    ]);
    assert.deepEqual(store.balances("wallet:w1:"), [
      { account: "wallet:w1:available", currency: 978, balance: 5000 - 3000 + 500 + 200 + 100 + 1200 + 300 - 700 },
      { account: "wallet:w1:disputed", currency: 978, balance: 0 },
      { account: "wallet:w1:purse:1", currency: 978, balance: 0 },
    ]);
    // approved 1000, the dispute (of an approved payment) took 500, refund 300, online 700, payout 1000
    assert.equal(store.balance("merchant:9:available"), 1000 - 500 - 300 + 700 - 1000);
    assert.equal(store.balance("merchant:9:pending"), 500, "tx2 still pending: it was disputed from available");
    assert.throws(() => money.online("pay:10", 9, 3601, 978, "w1"), (e: MoneyError) => e.code === "INSUFFICIENT_FUNDS" && e.status === 402, "one cent more than available");
    money.online("pay:11", 9, 3600, 978, "w1");
    assert.equal(store.balance("wallet:w1:available"), 0, "exactly what is available");
  });

  it("gives a statement whose postings carry their kind, reference and memo, as JSON and as RFC 4180 CSV", () => {
    const { money, books, tick } = fresh();
    money.online("pay:1", 7, 2500, 978, "");
    tick(1000);
    const l = { ref: "pay:1", merchantId: 7, walletId: "w9", amountMinor: 400, currency: 978, status: "settled" } as Parameters<Money["refund"]>[4] & object;
    money.refund("rf1", 7, 400, 978, { ...l, walletId: "" });
    tick(1000);
    money.payout("payout:1:7", 7, 2100, 978, 'settlement, "day" 1');
    const st = books.statement(7, 978, T, T + 5000);
    assert.deepEqual(st.accounts.map((a) => a.account), ["merchant:7:pending", "merchant:7:available", "merchant:7:paidout"]);
    const av = st.accounts[1];
    assert.deepEqual(av.postings.map((p) => [p.kind, p.ref, p.debit, p.credit, p.balance]), [["online", "pay:1", 0, 2500, 2500], ["refund", "rf1", 400, 0, 2100], ["payout", "payout:1:7", 2100, 0, 0]]);
    assert.equal(av.postings[1].memo, "of pay:1");
    assert.equal(books.balance("issuer:cards"), -2100, "the card payment's money less the refund back to the card");
    const before = books.statement(7, 978, T, T + 1500).accounts[1];
    assert.deepEqual([before.opening, before.closing, before.postings.length], [0, 2100, 2]);
    const after = books.statement(7, 978, T + 1500, T + 5000).accounts[1];
    assert.deepEqual([after.opening, after.closing], [2100, 0]);
    const csv = statementCsv(st).split("\r\n");
    assert.equal(csv[0], "account,time,kind,ref,memo,debit,credit,balance");
    assert.ok(csv.includes('merchant:7:paidout,2026-11-23T12:00:02.000Z,payout,payout:1:7,"settlement, ""day"" 1",0,2100,2100'), csv.join("\n"));
    assert.ok(csv.includes("merchant:7:available,2026-11-23T12:00:05.000Z,closing,,,,,0"));
    assert.equal(csv[csv.length - 1], "", "ends with CRLF");
  });
});
