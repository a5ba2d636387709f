/**
 * Who gets an SMS and what it says: the payer when a terminal's upload of their offline payment arrives, the
 * merchant when an invoice is paid online while its terminal is offline (no hello for TERMINAL_OFFLINE_MS); phone
 * numbers in E.164; texts of one segment, never a card number or a full wallet ID; delivery reports recorded on the
 * row through the message's own token; the outbox table migrated from schema 4.
 */
import { SCHEMA_VERSION } from "../../gateway/migrations.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { toBase64 } from "../../protocol/sync.ts";
import { autoApprovedText, SmsError, gsmLength, offlineReceivedText, oneSegment, paidWhileOfflineText, redactSms, smsTime, TERMINAL_OFFLINE_MS } from "../../gateway/sms.ts";
import { openSqliteStore } from "../../gateway/sqlite-store.ts";
import { SoftTerminal, inProcess } from "../helpers/soft-terminal.ts";
import { makeRig, merchantWithTerminals, newWallet, nextWalletTime, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const ADMIN = { authorization: "Bearer admin-test" };

async function api(rig: Rig, method: string, path: string, body: unknown, headers: Record<string, string> = ADMIN) {
  const r = await rig.gw.handle({ method, path, headers, body: body === undefined ? "" : JSON.stringify(body) });
  return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
}

/** Pays invoice `no` of terminal `t` online from wallet `w`'s balance (a signed wallet request). */
async function payByWallet(rig: Rig, t: { invoice(no: number, amount: number): Uint8Array }, w: ReturnType<typeof newWallet>, no: number, amount: number) {
  const path = "/v1/invoices/pay";
  const body = JSON.stringify({ invoice: toBase64(t.invoice(no, amount)), method: "wallet", walletId: w.walletId, time: nextWalletTime() });
  const r = await rig.gw.handle({ method: "POST", path, headers: { "x-wallet-signature": w.signRequest("POST", path, body) }, body });
  assert.equal(r.status, 200, r.body);
}

describe("gateway SMS: the payer's text when a terminal's upload of their offline payment arrives", () => {
  it("says amount, merchant, reference and until when it is held, in one GSM segment, without the wallet ID", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
    const w = newWallet(rig, 10000, "+4915112345678");
    const t = terms[0];
    t.record(t.walletPayment(w, 1250));
    await t.uploadAll();
    const rows = rig.gw.smsOutbox();
    assert.equal(rows.length, 1);
    const s = rows[0];
    const l = rig.gw.ledger()[0];
    assert.equal(s.kind, "offline-received");
    assert.equal(s.to, "+4915112345678");
    assert.equal(s.walletId, w.walletId);
    assert.equal(s.ref, l.ref);
    const held = smsTime(l.holdUntil);
    assert.match(s.text, /^Offline payment 12\.50 EUR to Cafe Blue received by the issuer, ref [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\. Held until /);
    assert.match(held, /^[0-9]{1,2} [A-Z][a-z]{2} [0-9]{2}:[0-9]{2} UTC$/);
    assert.ok(s.text.endsWith(". Held until " + held + " unless you confirm it in your app."), s.text);
    assert.ok(oneSegment(s.text), gsmLength(s.text) + " septets");
    assert.ok(gsmLength(s.text) > 0, "GSM 7-bit");
    assert.ok(!s.text.toLowerCase().includes(w.walletId.toLowerCase()));
  });

  it("sends none when the payer's sync had already reported the payment (it is approved at once)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
    const w = newWallet(rig, 10000, "+4915112345678");
    const t = terms[0];
    t.record(t.walletPayment(w, 1250));
    assert.equal((await walletCall(rig.gw, w, "sync", { spent: w.spent })).status, 200);
    await t.uploadAll();
    assert.equal(rig.gw.ledger()[0].status, "approved");
    assert.deepEqual(rig.gw.smsOutbox(), []);
  });

  it("shortens a long merchant name to keep one segment, and masks a card number or a wallet ID put in a name", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "The Very Long Name Of A Coffee House By The River", 1);
    const w = newWallet(rig, 10000, "+4915112345678");
    terms[0].record(terms[0].walletPayment(w, 250));
    await terms[0].uploadAll();
    const text = rig.gw.smsOutbox()[0].text;
    assert.ok(oneSegment(text), text);
    assert.match(text, / to The Very [A-Za-z ]+\.\.\. received by the issuer/);

    const rig2 = makeRig();
    const sneaky = merchantWithTerminals(rig2, "4242 4242 4242 4242 " + "ab".repeat(8), 1);
    const w2 = newWallet(rig2, 10000, "+4915112345678");
    sneaky.terms[0].record(sneaky.terms[0].walletPayment(w2, 250));
    await sneaky.terms[0].uploadAll();
    const t2 = rig2.gw.smsOutbox()[0].text;
    assert.ok(!/[0-9](?:[ -]?[0-9]){11}/.test(t2), t2);
    assert.ok(!/[0-9a-f]{16}/i.test(t2), t2);
    assert.match(t2, / to \*\*\*\*4242 abab\.\.\. received/);
  });

  it("keeps every kind of text in one GSM segment with the longest merchant name and amount, the name still readable", () => {
    const name = "Cafe " + "Blue".repeat(15); // 65 characters, past the registration limit of 64
    const amount = "99999999.99 EUR";
    const texts = [
      offlineReceivedText({ amount, merchant: name, utr: "ZZZZ-ZZZZ-ZZZZ", holdUntil: Date.UTC(2026, 11, 28, 23, 59) }),
      autoApprovedText({ amount, merchant: name, utr: "ZZZZ-ZZZZ-ZZZZ" }),
      paidWhileOfflineText({ merchant: name, amount, invoiceNo: 4294967295, terminalId: 2147483647, method: "debit card" }),
    ];
    for (const t of texts) {
      assert.ok(oneSegment(t), gsmLength(t) + ": " + t);
      assert.match(t, /Cafe BlueBlue[A-Za-z]*\.\.\./);
    }
    // a name outside the GSM alphabet is shown with "?" rather than turning the text into 70-character UCS-2
    const accents = autoApprovedText({ amount: "1.00 EUR", merchant: "Café Ŝ", utr: "A" });
    assert.ok(gsmLength(accents) > 0);
    assert.match(accents, / to Café \? \(ref/);
  });

  it("redacts card numbers and hex runs of wallet-ID length in any text queued, and writes times short", () => {
    assert.equal(smsTime(Date.UTC(2026, 11, 8, 9, 5)), "8 Dec 09:05 UTC");
    assert.equal(redactSms("card 4000-0000-0000-0002 ok"), "card ****0002 ok");
    assert.equal(redactSms("wallet 0123456789abcdef"), "wallet 0123...");
    assert.equal(redactSms("Paid 12.50 EUR, ref 0000-00E0-001K on 2026-12-08 14:30 UTC"), "Paid 12.50 EUR, ref 0000-00E0-001K on 2026-12-08 14:30 UTC");
  });

  it("counts septets as the alphabets of 3GPP TS 23.038 say, for every UTF-16 code unit and for code points beyond", () => {
    // the alphabets as text, searched character by character: what gsmLength did before its table
    const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const ext = "^{}\\[~]|€";
    const slow = (text: string) => {
      let n = 0;
      for (const ch of text) {
        if (basic.indexOf(ch) >= 0) n += 1;
        else if (ext.indexOf(ch) >= 0) n += 2;
        else return -1;
      }
      return n;
    };
    for (let c = 0; c < 0x10000; c++) assert.equal(gsmLength(String.fromCharCode(c)), slow(String.fromCharCode(c)), "code " + c);
    for (const t of ["", "Offline payment 12.50 EUR to Café {Blue} received", "a€b", "x\u{1F600}y", "ab\ud800", "[~]|^"]) assert.equal(gsmLength(t), slow(t), JSON.stringify(t));
    assert.equal(gsmLength("a€"), 3);
    assert.equal(gsmLength("a\u{1F600}"), -1);
  });
});

describe("gateway SMS: the merchant's text when an invoice is paid online while its terminal is offline", () => {
  /** A software terminal of merchant `mid`, talking to the rig's gateway in-process. */
  function terminalOf(rig: Rig, mid: number): SoftTerminal {
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: rig.gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const reg = rig.gw.registerTerminal({ merchantId: mid, publicKey: probe.publicKey });
    return new SoftTerminal({ terminalId: reg.terminalId, privateKey: probe.privateKey, linkPublicKey: rig.gw.linkPublicKey, send: (r) => inProcess(rig.gw)(r), now: () => Math.floor(rig.clock.now() / 1000) });
  }

  it("texts the merchant when its terminal has not said hello for more than 10 minutes, with no card or wallet details", async () => {
    const rig = makeRig();
    const r = await api(rig, "POST", "/v1/merchants", { name: "Cafe Blue", phone: "+4930123456" });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const mid = r.json.merchantId as number;
    assert.equal(rig.gw.store.getMerchant(mid)!.phone, "+4930123456");
    const t = terminalOf(rig, mid);
    const w = newWallet(rig, 1000, "+4915100000009", 5000);

    await t.hello();
    rig.clock.advance(TERMINAL_OFFLINE_MS);
    await payByWallet(rig, t, w, 1, 1200);
    assert.deepEqual(rig.gw.smsOutbox().filter((s) => s.kind === "paid-while-offline"), [], "10 minutes since the hello: still online");

    rig.clock.advance(1000);
    await payByWallet(rig, t, w, 2, 850);
    const rows = rig.gw.smsOutbox().filter((s) => s.kind === "paid-while-offline");
    assert.equal(rows.length, 1);
    const s = rows[0];
    assert.equal(s.to, "+4930123456");
    assert.equal(s.merchantId, mid);
    assert.equal(s.walletId, "");
    assert.equal(s.text, "Cafe Blue: invoice 2 of 8.50 EUR paid online (wallet). Terminal " + t.terminalId + " is offline; it shows the payment at its next sync.");
    assert.ok(oneSegment(s.text));
    assert.ok(!s.text.includes(w.walletId));

    // back online: no text
    await t.hello();
    await payByWallet(rig, t, w, 3, 100);
    assert.equal(rig.gw.smsOutbox().filter((s) => s.kind === "paid-while-offline").length, 1);
  });

  it("texts the merchant of a card or debit-card payment to an offline terminal with the method only, never the card", async () => {
    const rig = makeRig();
    const r = await api(rig, "POST", "/v1/merchants", { name: "Cafe Blue", phone: "+4930123456" });
    const t = terminalOf(rig, r.json.merchantId as number);
    rig.clock.advance(TERMINAL_OFFLINE_MS + 1000); // never said hello
    const pay = async (no: number, amount: number, method: string, number: string) => {
      const res = await rig.gw.handle({ method: "POST", path: "/v1/invoices/pay", headers: {}, body: JSON.stringify({ invoice: toBase64(t.invoice(no, amount)), method, card: { number, expiry: "12/39", cvc: "123" } }) });
      assert.equal(res.status, 200, res.body);
    };
    await pay(1, 1000, "card", "4242424242424242");
    await pay(2, 500, "debit", "4000056655665556");
    const texts = rig.gw.smsOutbox().filter((s) => s.kind === "paid-while-offline").map((s) => s.text);
    assert.equal(texts.length, 2);
    assert.match(texts[0], /^Cafe Blue: invoice 1 of 10\.00 EUR paid online \(card\)\. Terminal/);
    assert.match(texts[1], /^Cafe Blue: invoice 2 of 5\.00 EUR paid online \(debit card\)\. Terminal/);
    for (const x of texts) assert.ok(!/4242|5556|sbx_/.test(x), x);
  });

  it("sends none to a merchant without a phone number", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "No Phone", 1);
    const w = newWallet(rig, 1000, "+4915100000009", 5000);
    rig.clock.advance(TERMINAL_OFFLINE_MS + 1000);
    await payByWallet(rig, terms[0], w, 1, 1200);
    assert.deepEqual(rig.gw.smsOutbox().filter((s) => s.kind === "paid-while-offline"), []);
  });

  it("takes the merchant's phone in E.164 at registration and in its settings, and refuses anything else", async () => {
    const rig = makeRig();
    assert.equal((await api(rig, "POST", "/v1/merchants", { name: "A", phone: "030 123456" })).json.error, "BAD_PHONE");
    assert.equal((await api(rig, "POST", "/v1/merchants", { name: "A", phone: 4930123456 })).json.error, "BAD_PHONE");
    const r = await api(rig, "POST", "/v1/merchants", { name: "A" });
    const mid = r.json.merchantId as number;
    const key = { authorization: "Bearer " + (r.json.apiKey as string) };
    assert.equal((await api(rig, "GET", "/v1/merchants/" + mid + "/settings", undefined, key)).json.phone, "");
    const bad = await api(rig, "PUT", "/v1/merchants/" + mid + "/settings", { phone: "+49" }, key);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, "BAD_PHONE");
    const ok = await api(rig, "PUT", "/v1/merchants/" + mid + "/settings", { phone: "+4930123456" }, key);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.phone, "+4930123456");
    assert.equal((await api(rig, "PUT", "/v1/merchants/" + mid + "/settings", { phone: "" }, key)).json.phone, "", "removed");
    // the activity log does not keep the number
    assert.ok(!rig.gw.activity().some((a) => a.detail.includes("+4930123456")));
  });
});

describe("gateway SMS: delivery reports", () => {
  async function oneSent(rig: Rig) {
    const { terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
    const w = newWallet(rig, 10000, "+4915112345678");
    terms[0].record(terms[0].walletPayment(w, 1250));
    await terms[0].uploadAll();
    const tokens: string[] = [];
    rig.gw.sms.send = (m) => {
      tokens.push(m.token ?? "");
    };
    await rig.gw.flush();
    const row = rig.gw.smsOutbox()[0];
    assert.equal(row.status, "sent");
    assert.equal(tokens.length, 1);
    assert.match(tokens[0], /^[0-9a-f]{32}$/);
    return { id: row.id as number, token: tokens[0] };
  }
  const dlr = (rig: Rig, id: number | string, token: string, type: string) => api(rig, "GET", "/v1/sms/" + id + "/dlr?token=" + token + "&type=" + type, undefined, {});

  it("records delivered or failed, and when, on the message's row when the token is the message's", async () => {
    const rig = makeRig();
    const { id, token } = await oneSent(rig);
    const r = await dlr(rig, id, token, "8");
    assert.equal(r.status, 200);
    assert.equal(rig.gw.smsOutbox()[0].dlr, "submitted");
    rig.clock.advance(5000);
    assert.deepEqual((await dlr(rig, id, token, "1")).json, { id, dlr: "delivered", dlrAt: rig.clock.now() });
    assert.equal(rig.gw.smsOutbox()[0].dlrAt, rig.clock.now());
    // a late intermediate report does not undo the final one
    await dlr(rig, id, token, "4");
    assert.equal(rig.gw.smsOutbox()[0].dlr, "delivered");

    const rig2 = makeRig();
    const two = await oneSent(rig2);
    await dlr(rig2, two.id, two.token, "16");
    assert.equal(rig2.gw.smsOutbox()[0].dlr, "failed");
  });

  it("answers 404 to a wrong token or an unknown message, and 400 to a report without a type, recording nothing", async () => {
    const rig = makeRig();
    const { id, token } = await oneSent(rig);
    const wrong = await dlr(rig, id, token.replace(/^./, (c) => (c === "0" ? "1" : "0")), "1");
    assert.equal(wrong.status, 404);
    assert.equal(wrong.json.error, "UNKNOWN_SMS");
    assert.equal((await dlr(rig, id, "", "1")).status, 404);
    assert.equal((await dlr(rig, id + 1, token, "1")).status, 404);
    assert.equal((await dlr(rig, "x", token, "1")).status, 404);
    assert.equal((await dlr(rig, id, token, "")).status, 400);
    assert.equal(rig.gw.smsOutbox()[0].dlr, "");
    // the token is not readable through the admin API
    const list = await api(rig, "GET", "/v1/admin/sms", undefined);
    assert.equal((list.json.sms as Record<string, unknown>[])[0].dlrToken, undefined);
  });
});

describe("gateway SMS: delivery to an unavailable provider", () => {
  it("ends the pass at the first SMS_UNAVAILABLE, keeps every message queued, and sends them all once the provider is back", async () => {
    let up = false;
    const tried: string[] = [];
    const rig = makeRig(":memory:", {
      sms: {
        send: (m) => {
          tried.push(m.to);
          if (!up) throw new SmsError("SMS_UNAVAILABLE", "kannel unreachable (ECONNREFUSED)");
        },
      },
    });
    const { terms } = merchantWithTerminals(rig, "Cafe Blue", 1);
    const a = newWallet(rig, 10000, "+4915100000001");
    const b = newWallet(rig, 10000, "+4915100000002");
    terms[0].record(terms[0].walletPayment(a, 100));
    terms[0].record(terms[0].walletPayment(b, 200));
    await terms[0].uploadAll();
    await rig.gw.flush();
    assert.deepEqual(tried, ["+4915100000001"], "one try, then the pass ended");
    assert.deepEqual(rig.gw.smsOutbox().map((x) => [x.status, x.attempts, x.refused]), [["queued", 1, 0], ["queued", 0, 0]]);
    up = true;
    rig.clock.advance(30000);
    await rig.gw.flush();
    assert.deepEqual(rig.gw.smsOutbox().map((x) => x.status), ["sent", "sent"]);
  });
});

describe("gateway SMS: the outbox's schema", () => {
  it("migrates a schema-4 database: merchants get a phone, queued SMS keep their place and are due at once", () => {
    const dir = mkdtempSync(join(tmpdir(), "sms-migrate-"));
    try {
      const path = join(dir, "gw.db");
      openSqliteStore(path).close();
      // make it a schema-4 database, with a queued SMS of that time
      const db = new Database(path);
      // the SMS outbox's due index of today (migration 9; sms_due before it)
      db.exec("DROP INDEX sms_queued");
      for (const c of ["kind", "merchantId", "refused", "nextAt", "lastError", "dlrToken", "dlr", "dlrAt"]) db.exec("ALTER TABLE sms DROP COLUMN " + c);
      db.exec("ALTER TABLE merchants DROP COLUMN phone");
      db.exec(`INSERT INTO sms ("to", text, walletId, ref, status, attempts, at, sentAt) VALUES ('+4915100000001', 'hi', 'w', 'r', 'queued', 2, 5, 0)`);
      db.pragma("user_version = 4");
      db.close();
      const store = openSqliteStore(path);
      const due = store.smsDue(10);
      assert.equal(due.length, 1);
      assert.equal(due[0].attempts, 2);
      assert.equal(due[0].refused, 0);
      assert.equal(due[0].dlr, "");
      const id = store.insertMerchant({ name: "M", currency: 978, apiKeyHash: "h", webhookUrl: "", webhookSecret: "s", limits: "{}", iban: "", bic: "", phone: "+4930123456", createdAt: 1 });
      assert.equal(store.getMerchant(id)!.phone, "+4930123456");
      store.close();
      const again = new Database(path);
      assert.equal(again.pragma("user_version", { simple: true }), SCHEMA_VERSION); // the latest schema (gateway/migrations.ts)
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
