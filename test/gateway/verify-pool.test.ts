/**
 * Signatures checked on worker threads (gateway/verify-pool.ts) while an upload waits its turn: the answers
 * speed the request up but never decide for it: only exactly the bytes a worker verified are admitted.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { MovableClock } from "../../gateway/clock.ts";
import { signBody } from "../../gateway/issuer.ts";
import { startGatewayServer } from "../../gateway/server.ts";
import { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import type { LinkSend } from "../helpers/soft-terminal.ts";
import { Verifier } from "../../gateway/verify.ts";
import { VerifyPool } from "../../gateway/verify-pool.ts";
import { FakeWebhooks, T0, httpLink, testDb } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("gateway: signature checks on worker threads", function () {
  this.timeout(60000);

  it("answers true only for signatures that verify, false for tampered data, keys or signatures", async () => {
    const pool = new VerifyPool(2);
    try {
      const w = new SoftWallet();
      const other = new SoftWallet();
      const data = new Uint8Array(Buffer.from("a payment request"));
      const sig = signBody(w.privateKey, data);
      const bent = new Uint8Array(sig);
      bent[10] ^= 1;
      const long = new Uint8Array(1000).fill(7);
      const ok = await pool.verify([
        { pub: w.publicKey, data, sig },
        { pub: other.publicKey, data, sig },
        { pub: w.publicKey, data: new Uint8Array(Buffer.from("a payment requesT")), sig },
        { pub: w.publicKey, data, sig: bent },
        { pub: new Uint8Array(64), data, sig },
        { pub: w.publicKey, data, sig: sig.subarray(0, 63) },
        { pub: w.publicKey.subarray(0, 63), data, sig },
        // the checks travel packed in one buffer: one after others of other lengths is read at its own place
        { pub: other.publicKey, data: long, sig: signBody(other.privateKey, long) },
      ]);
      assert.deepEqual(ok, [true, false, false, false, false, false, false, true]);
    } finally {
      await pool.close();
    }
  });

  it("admits exactly the bytes verified: the same signature over other data or under another key is checked for real", () => {
    const v = new Verifier();
    const w = new SoftWallet();
    const other = new SoftWallet();
    const data = new Uint8Array([1, 2, 3]);
    const sig = signBody(w.privateKey, data);
    v.admit(w.publicKey, data, sig);
    assert.equal(v.body(w.publicKey, new Uint8Array([1, 2, 4]), sig), false);
    v.admit(w.publicKey, data, sig);
    assert.equal(v.body(other.publicKey, data, sig), false);
    // a bogus admission cannot make a wrong signature pass: admitted triples are only ever ones a worker verified,
    // and a lookup that does not match falls through to the real check
    const fake = new Uint8Array(64).fill(7);
    v.admit(w.publicKey, data, fake);
    assert.equal(v.body(w.publicKey, new Uint8Array([9]), fake), false);
    assert.equal(v.body(w.publicKey, data, sig), true, "the real check still passes a good signature");
  });

  it("through the server with workers: good entries entered once, an entry with a bad wallet signature rejected (E_SIG)", async () => {
    const clock = new MovableClock(T0);
    const s = await startGatewayServer({ port: 0, host: "127.0.0.1", dbPath: testDb(), clock, gateway: { adminToken: "adm", autoFlush: false, webhooks: new FakeWebhooks(), verifyThreads: 2 } });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const port = Number(new URL(s.url).port);
      const send: LinkSend = httpLink(() => port, agent);
      const m = s.gateway.registerMerchant({ name: "W" });
      const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: s.gateway.linkPublicKey, send });
      const tid = s.gateway.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey }).terminalId;
      const t = new SoftTerminal({ terminalId: tid, privateKey: probe.privateKey, linkPublicKey: s.gateway.linkPublicKey, send, now: () => Math.floor(clock.now() / 1000) });
      const w = new SoftWallet();
      w.setAllowance(s.gateway.registerWallet({ publicKey: w.publicKey, capMinor: 100000, balanceMinor: 100000 }).allowance);
      const good: string[] = [];
      for (let i = 0; i < 40; i++) {
        const rec = t.record(t.walletPayment(w, 10 + i));
        if (i === 17) rec.entry[10 + 88 + 150] ^= 1; // a byte of the wallet's signature
        else good.push(hexOf(rec.entry.subarray(1, 9)));
      }
      await t.uploadAll(32);
      assert.deepEqual(t.rejected.map((r) => [r.seq, r.code]), [[18, "E_SIG"]]);
      assert.deepEqual(s.gateway.ledger().map((l) => l.txId), good);
    } finally {
      agent.destroy();
      await s.close();
    }
  });
});
