import assert from "node:assert/strict";
import { unlinkSync } from "node:fs";
import { toBase64 } from "../../protocol/sync.ts";
import { encodeEntry } from "../../protocol/entry.ts";
import type { LinkSend } from "../helpers/soft-terminal.ts";
import { inProcess } from "../helpers/soft-terminal.ts";
import { countByTx, makeRig, merchantWithTerminals, newWallet } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

function exactlyOnce(rig: Rig, txIds: string[]): void {
  const c = countByTx(rig.gw);
  for (const id of txIds) assert.equal(c.get(id), 1, "transaction " + id + " in the ledger " + (c.get(id) ?? 0) + " times");
  assert.equal(rig.gw.ledger().length, txIds.length, "no other rows in the ledger");
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("gateway: uploads", () => {
  it("enters each wallet payment once, held until the payer syncs, and acknowledges every seq", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const ids = [100, 200, 300].map((a) => hexOf(t.record(t.walletPayment(w, a)).entry.subarray(1, 9)));
    await t.hello();
    const r = await t.uploadBatch(8);
    assert.deepEqual(r.acked, [1, 2, 3]);
    exactlyOnce(rig, ids);
    assert.deepEqual(rig.gw.holds().map((h) => h.amountMinor), [100, 200, 300]);
  });

  it("acknowledges a duplicate upload again without entering it twice", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const id = hexOf(t.record(t.walletPayment(w, 150)).entry.subarray(1, 9));
    await t.uploadAll();
    t.journal[0].acked = false; // as if the ack never reached the journal
    const again = await t.uploadBatch();
    assert.deepEqual(again.acked, [1]);
    exactlyOnce(rig, [id]);
  });

  it("rejects an entry whose wallet signature does not verify, keeps it as evidence and flags it", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const rec = t.record(t.walletPayment(w, 150));
    rec.entry[10 + 88 + 150] ^= 1; // a byte of the wallet's signature
    const r = await t.uploadBatch();
    assert.deepEqual(r.acked, []);
    assert.equal(r.rejected[0].code, "E_SIG");
    assert.equal(rig.gw.ledger().length, 0);
    assert.equal(rig.gw.records(1).filter((x) => x.status === "rejected").length, 1);
    assert.ok(rig.gw.flags().some((f) => f.kind === "rejected"));
  });

  it("enters an uploaded payment whose request's terminal signature is broken: the link's seal vouches for the terminal, the wallet's signature binds the request", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const request = t.request(150);
    request[request.length - 1] ^= 1; // a byte of the terminal's signature, before the wallet signs over the request
    const payment = w.pay(request, t.terminalId, 150);
    const rec = t.record({ kind: 1, txId: t.nextTxId(), method: 1, request, payment, orderRef: "" });
    const r = await t.uploadBatch();
    assert.deepEqual(r.acked, [rec.seq]);
    exactlyOnce(rig, [Buffer.from(rec.entry.subarray(1, 9)).toString("hex")]);
    // where no link vouches (the payer's evidence, the dispute review) the terminal's signature is still checked
    assert.equal(rig.gw.verifyEntry(rig.gw.terminal(t.terminalId)!, { kind: 1, txId: new Uint8Array(8), method: 1, request, payment, orderRef: "" }).ok, false);
  });

  it("refuses a tampered request body with 401, changes nothing, and the resent upload enters each once", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const ids = [1, 2].map((i) => hexOf(t.record(t.walletPayment(w, 10 * i)).entry.subarray(1, 9)));
    const honest = t.send;
    t.send = (r) => {
      const b = Buffer.from(r.body, "base64");
      b[40] ^= 0x80;
      return honest({ path: r.path, body: b.toString("base64") });
    };
    await assert.rejects(t.uploadBatch(), (e: Error & { code?: string; status?: number }) => e.code === "REQ_AUTH" && e.status === 401);
    assert.equal(rig.gw.ledger().length, 0);
    assert.equal(rig.gw.terminal(t.terminalId)!.linkSeq, 0);
    t.send = honest;
    await t.uploadAll();
    exactlyOnce(rig, ids);
  });

  it("survives a connection dropped mid-batch (the reply lost): the batch sent again is entered once", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const ids = [1, 2, 3, 4, 5].map((i) => hexOf(t.record(t.walletPayment(w, i)).entry.subarray(1, 9)));
    const honest = t.send;
    let drops = 1;
    t.send = async (r) => {
      const res = await honest(r);
      if (drops-- > 0) throw new Error("ECONNRESET");
      return res;
    };
    await assert.rejects(t.uploadBatch(3), /ECONNRESET/);
    assert.equal(t.pending.length, 5, "nothing marked on the terminal");
    await t.uploadAll(3);
    exactlyOnce(rig, ids);
  });

  it("survives a gateway restart mid-upload (database closed and reopened): every transaction once", async () => {
    const path = "/tmp/gw-restart-" + process.pid + "-" + Date.now() + ".db";
    const rig = makeRig(path);
    try {
      const { terms } = merchantWithTerminals(rig, "A", 2);
      const w = newWallet(rig, 100000);
      const ids: string[] = [];
      for (const t of terms) for (let i = 0; i < 12; i++) ids.push(hexOf(t.record(t.walletPayment(w, 5 + i)).entry.subarray(1, 9)));
      await terms[0].uploadBatch(8);
      await terms[1].uploadBatch(5);
      // the gateway dies after entering a batch but before answering it
      const t = terms[0];
      const honest = t.send;
      t.send = async (r) => {
        await honest(r);
        rig.restart();
        throw new Error("socket hang up");
      };
      await assert.rejects(t.uploadBatch(8), /hang up/);
      t.send = honest;
      for (const x of terms) await x.uploadAll(8);
      exactlyOnce(rig, ids);
    } finally {
      rig.gw.close();
      for (const s of ["", "-wal", "-shm"]) {
        try {
          unlinkSync(path + s);
        } catch {
          // absent
        }
      }
    }
  });

  it("refuses a replayed upload request with 409 and enters nothing more", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const id = hexOf(t.record(t.walletPayment(w, 77)).entry.subarray(1, 9));
    const seen: { path: string; body: string }[] = [];
    const honest = t.send;
    t.send = (r) => {
      seen.push(r);
      return honest(r);
    };
    await t.uploadAll();
    const res = await inProcess(rig.gw)(seen[0]);
    assert.equal(res.status, 409);
    exactlyOnce(rig, [id]);
  });

  it("flags a gap in a terminal's record sequence", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    for (let i = 0; i < 3; i++) t.record(t.walletPayment(w, 10));
    t.journal[1].acked = true; // record 2 never sent
    await t.uploadAll();
    const gaps = rig.gw.flags().filter((f) => f.kind === "gap");
    assert.equal(gaps.length, 1);
    assert.match(gaps[0].detail, /records 2\.\.2 missing before 3/);
  });

  it("flags a chain fork: a record's prev differs from the head hash the terminal said at hello", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    t.record(t.walletPayment(w, 10));
    await t.hello({ head: { seq: 1, hash: "ff".repeat(16) } });
    t.record(t.walletPayment(w, 10));
    await t.uploadAll();
    assert.ok(rig.gw.flags().some((f) => f.kind === "chain"));
  });

  it("rejects an entry whose txId names another terminal (E_TXID)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 2);
    const w = newWallet(rig);
    const [a, b] = terms;
    const e = b.walletPayment(w, 10); // b's txId and request
    const rec = { seq: 1, prev: "00".repeat(16), entry: toBase64(encodeEntry(e)) };
    const reply = await a.call("upload", { records: [rec] });
    assert.equal((reply.rejected as { code: string }[])[0].code, "E_TXID");
    assert.equal(rig.gw.ledger().length, 0);
  });

  it("answers 413 to more than 32 records in one upload and enters none", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig, 1000000);
    const t = terms[0];
    for (let i = 0; i < 33; i++) t.record(t.walletPayment(w, 1));
    await assert.rejects(t.uploadBatch(33), (e: Error & { status?: number }) => e.status === 413);
    assert.equal(rig.gw.ledger().length, 0);
  });
});

describe("gateway: double spending", () => {
  it("flags the same wallet counter at two terminals and puts the wallet on the deny list served at hello", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 2);
    const w = newWallet(rig);
    const [a, b] = terms;
    a.record(a.walletPayment(w, 100, { counter: 5 }));
    b.record(b.walletPayment(w, 100, { counter: 5 }));
    await a.uploadAll();
    await b.uploadAll();
    assert.ok(rig.gw.flags().some((f) => f.kind === "double-spend" && f.walletId === w.walletId));
    assert.deepEqual(rig.gw.denyList(), [w.walletId]);
    const hello = await a.hello();
    assert.equal(hello.deny, w.walletId);
    assert.equal(rig.gw.ledger().length, 2, "both offline payments are on the books (flagged)");
  });

  it("flags payments beyond the allowance's cap across terminals and denies the wallet", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 2);
    const w = newWallet(rig, 1000);
    const [a, b] = terms;
    a.record(a.walletPayment(w, 700));
    b.record(b.walletPayment(w, 700));
    await a.uploadAll();
    await b.uploadAll();
    assert.ok(rig.gw.flags().some((f) => f.kind === "allowance-exceeded"));
    assert.ok(rig.gw.denyList().includes(w.walletId));
  });
});

describe("gateway: merchants kept apart", () => {
  it("a merchant's API key cannot read another merchant's ledger (404) and each ledger holds only its own", async () => {
    const rig = makeRig();
    const A = merchantWithTerminals(rig, "A", 1);
    const B = merchantWithTerminals(rig, "B", 1);
    const w = newWallet(rig);
    A.terms[0].record(A.terms[0].walletPayment(w, 11));
    B.terms[0].record(B.terms[0].walletPayment(w, 22));
    await A.terms[0].uploadAll();
    await B.terms[0].uploadAll();
    const res = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + B.merchant.merchantId + "/ledger", headers: { authorization: "Bearer " + A.merchant.apiKey }, body: "" });
    assert.equal(res.status, 404);
    const own = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + A.merchant.merchantId + "/ledger", headers: { authorization: "Bearer " + A.merchant.apiKey }, body: "" });
    assert.deepEqual(JSON.parse(own.body).ledger.map((l: { amountMinor: number }) => l.amountMinor), [11]);
  });

  it("a terminal of merchant A cannot upload for B's terminal even with B's terminal ID in the URL", async () => {
    const rig = makeRig();
    const A = merchantWithTerminals(rig, "A", 1);
    const B = merchantWithTerminals(rig, "B", 1);
    const w = newWallet(rig);
    const a = A.terms[0];
    a.record(a.walletPayment(w, 11));
    const send: LinkSend = (r) => inProcess(rig.gw)({ path: r.path.replace("/t/" + a.terminalId + "/", "/t/" + B.terms[0].terminalId + "/"), body: r.body });
    a.send = send;
    await assert.rejects(a.uploadBatch(), (e: Error & { code?: string }) => e.code === "REQ_AUTH");
    assert.equal(rig.gw.ledger(B.merchant.merchantId).length, 0);
    assert.equal(rig.gw.ledger().length, 0);
  });
});

describe("gateway: entry decoding", () => {
  it("takes entries in canonical standard base64 only, as the link codec does", async () => {
    const { strictBase64 } = await import("../../gateway/gateway.ts");
    const { fromBase64 } = await import("../../protocol/sync.ts");
    for (const s of ["", "QQ==", "QUI=", "QUJD", "+/+/", "AAAA"]) {
      assert.deepEqual(Array.from(strictBase64(s) ?? [-1]), Array.from(fromBase64(s) ?? [-1]), s);
    }
    for (const s of ["QR==", "QUJ=", "QUJ", "QU=J", "QUJD\n", "QU JD", "QUJD====", "_-_-", "Q===", 7 as unknown as string]) {
      assert.equal(strictBase64(s), null, String(s));
      assert.equal(fromBase64(s) ?? null, null, "the codec agrees: " + String(s));
    }
  });
});
