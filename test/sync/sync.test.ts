import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import { fromBase64, sealReply } from "../../protocol/sync.ts";
import type { IssuerKeyOffer, IssuerKeyRevoke, SyncError, SyncLimits, UpdateOffer } from "../../firmware/sync/sync.ts";
import { backoffMs, msSinceSync, startSync, trustedNow } from "../../firmware/sync/sync.ts";
import type { Rig } from "./rig.ts";
import { crypto, entry, GATEWAY_TIME, rig, walletEntry } from "./rig.ts";

function phases(r: Rig): string[] {
  return r.progress.map((p) => p.phase + (p.code ? ":" + p.code : ""));
}

function last(r: Rig) {
  return r.progress[r.progress.length - 1];
}

describe("sync loop (firmware/sync/sync.ts)", () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  describe("hello", () => {
    it("joins the configured Wi-Fi with the vault's password and says hello at once", () => {
      const s = startSync(r.options());
      r.advance(1000);
      assert.deepEqual(r.wifi.attempts, [{ ssid: "shop", password: "s3cret", at: 1 }]);
      assert.equal(s.state.online, true);
      assert.deepEqual(r.gateway.ops(), ["hello"]);
      const hello = r.gateway.requests[0];
      assert.equal(hello.tid, 42);
      assert.equal(hello.fw, "1.0.0");
      assert.deepEqual(hello.head, { seq: 0, hash: "00000000000000000000000000000000" });
      assert.equal(last(r).phase, "done");
    });

    it("sets the clock from the gateway's signed time, and reckons from it by uptime", () => {
      const times: number[] = [];
      const s = startSync(r.options({ onTime: (t) => times.push(t) }));
      assert.equal(trustedNow(s.state, r.clock), 0);
      assert.equal(msSinceSync(s.state, r.clock), -1);
      r.advance(1000);
      assert.deepEqual(times, [GATEWAY_TIME]);
      const reply = r.clock.uptime();
      assert.ok(Math.abs(r.clock.now() - (GATEWAY_TIME + (r.clock.uptime() - reply))) < 1000);
      assert.equal(s.state.syncedTime, GATEWAY_TIME);
      r.clock.set(Date.UTC(2019, 0, 1)); // someone winds the wall clock back
      r.advance(5000);
      assert.equal(trustedNow(s.state, r.clock), GATEWAY_TIME + r.clock.uptime() - s.state.syncedUptime);
      assert.equal(msSinceSync(s.state, r.clock), r.clock.uptime() - s.state.syncedUptime);
    });

    it("hands over the deny list as sorted 8-byte IDs with its version, and the limits", () => {
      const denies: [number, Uint8Array][] = [];
      const limits: SyncLimits[] = [];
      const s = startSync(r.options({ denyVersion: 1, onDeny: (v, ids) => denies.push([v, ids]), onLimits: (l) => limits.push(l) }));
      r.advance(1000);
      assert.equal(denies.length, 1);
      assert.equal(denies[0][0], 2);
      assert.deepEqual(denies[0][1], new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff]));
      assert.equal(s.state.denyVersion, 2);
      assert.deepEqual(limits, [r.gateway.limits]);
      assert.deepEqual(s.state.limits, r.gateway.limits);
    });

    it("does not ask for the deny list again when it holds the current version", () => {
      const denies: number[] = [];
      const s = startSync(r.options({ onDeny: (v) => denies.push(v) }));
      r.advance(1000);
      s.sendNow();
      r.advance(1000);
      assert.deepEqual(r.gateway.requests.map((q) => q.denyVersion), [0, 2]);
      assert.deepEqual(denies, [2]);
    });

    it("passes an update offer on as the updater takes it", () => {
      const offers: UpdateOffer[] = [];
      const bundle = new Uint8Array(5000).fill(7);
      r.gateway.update = { version: "1.1.0", bundle, sig: new Uint8Array(64).fill(9) };
      startSync(r.options({ onUpdateOffer: (u) => offers.push(u) }));
      r.advance(1000);
      assert.deepEqual(offers, [{ version: "1.1.0", board: "devkit", key: 1, size: 5000, sha256: toHex(crypto.sha256(bundle)), sig: "09".repeat(64) }]);
    });

    it("refuses a hello reply whose update signature is not 64 bytes, applying none of it", () => {
      const offers: UpdateOffer[] = [];
      r.gateway.update = { version: "1.1.0", bundle: new Uint8Array(10), sig: new Uint8Array(63) };
      const s = startSync(r.options({ onUpdateOffer: (u) => offers.push(u) }));
      r.advance(1000);
      assert.equal(last(r).code, "REPLY_FORMAT");
      assert.deepEqual(offers, []);
      assert.equal(s.state.syncedTime, 0);
    });

    it("hands each notice of an invoice paid online on, as the gateway sent it", () => {
      const got: string[] = [];
      const a = new Uint8Array(94).fill(0x21);
      const b = new Uint8Array(94).fill(0x42);
      r.gateway.paid = [Buffer.from(a).toString("base64"), Buffer.from(b).toString("base64")];
      startSync(r.options({ onPaid: (p) => got.push(toHex(p)) }));
      r.advance(1000);
      assert.deepEqual(got, [toHex(a), toHex(b)]);
    });

    for (const [what, paid] of [
      ["not a list", "AAAA"],
      ["an entry that is not base64", ["not base64!"]],
      ["an empty entry", [""]],
      ["more than 16 notices", Array.from({ length: 17 }, () => "AAAA")],
      ["an entry over 256 bytes", [Buffer.alloc(300).toString("base64")]],
    ] as [string, unknown][]) {
      it(`refuses a hello reply whose paid notices are ${what}, applying none of it`, () => {
        const got: Uint8Array[] = [];
        const limits: unknown[] = [];
        r.gateway.paid = paid;
        const s = startSync(r.options({ onPaid: (p) => got.push(p), onLimits: (l) => limits.push(l) }));
        r.advance(1000);
        assert.equal(last(r).code, "REPLY_FORMAT");
        assert.deepEqual(got, []);
        assert.deepEqual(limits, []);
        assert.equal(s.state.syncedTime, 0);
      });
    }

    describe("issuer keys (hello reply `keys`)", () => {
      const key = (id: number, by: number) => ({ id, pub: toHex(new Uint8Array(64).fill(id)), by, sig: toHex(new Uint8Array(64).fill(0x30 + by)) });

      it("says which issuer keys it holds, and hands the offered keys on with their signer, as bytes", () => {
        const got: IssuerKeyOffer[][] = [];
        r.gateway.issuerKeys = [key(2, 1), key(3, 2)];
        startSync(r.options({ keyIds: () => [1], onKeys: (k) => got.push(k) }));
        r.advance(1000);
        assert.deepEqual(r.gateway.requests[0].keys, [1]);
        assert.equal(got.length, 1);
        assert.deepEqual(
          got[0].map((k) => [k.id, toHex(k.pub), k.by, toHex(k.sig)]),
          [
            [2, "02".repeat(64), 1, "31".repeat(64)],
            [3, "03".repeat(64), 2, "32".repeat(64)],
          ],
        );
        assert.equal(last(r).phase, "done");
      });

      it("sends no key list when the terminal gives none, and calls nobody for an empty list", () => {
        const got: unknown[] = [];
        r.gateway.issuerKeys = [];
        startSync(r.options({ onKeys: (k) => got.push(k) }));
        r.advance(1000);
        assert.equal("keys" in r.gateway.requests[0], false);
        assert.deepEqual(got, []);
        assert.equal(last(r).phase, "done");
      });

      it("hands revocations on with the keys, and calls onKeys for revocations alone", () => {
        const got: [IssuerKeyOffer[], IssuerKeyRevoke[]][] = [];
        r.gateway.revoke = [{ id: 2, by: 1, sig: "41".repeat(64) }];
        startSync(r.options({ keyIds: () => [1, 2], onKeys: (k, rv) => got.push([k, rv]) }));
        r.advance(1000);
        assert.equal(got.length, 1);
        assert.deepEqual(got[0][0], []);
        assert.deepEqual(
          got[0][1].map((k) => [k.id, k.by, toHex(k.sig)]),
          [[2, 1, "41".repeat(64)]],
        );
      });

      for (const [what, revoke] of [
        ["not a list", { id: 2, by: 1, sig: "41".repeat(64) }],
        ["more than 4", Array.from({ length: 5 }, (_, i) => ({ id: i + 2, by: 1, sig: "41".repeat(64) }))],
        ["a key revoking itself", [{ id: 2, by: 2, sig: "41".repeat(64) }]],
        ["a short signature", [{ id: 2, by: 1, sig: "41".repeat(63) }]],
        ["an id over 255", [{ id: 300, by: 1, sig: "41".repeat(64) }]],
      ] as [string, unknown][]) {
        it(`refuses a hello reply whose revocations are ${what}, applying none of it`, () => {
          const got: unknown[] = [];
          r.gateway.revoke = revoke;
          const s = startSync(r.options({ keyIds: () => [1, 2], onKeys: (k, rv) => got.push([k, rv]) }));
          r.advance(1000);
          assert.equal(last(r).code, "REPLY_FORMAT");
          assert.match(last(r).error!, /bad revoke/);
          assert.deepEqual(got, []);
          assert.equal(s.state.syncedTime, 0);
        });
      }

      for (const [what, keys] of [
        ["not a list", key(2, 1)],
        ["more than 4 keys", [key(2, 1), key(3, 1), key(4, 1), key(5, 1), key(6, 1)]],
        ["an entry that is not an object", [key(2, 1), "x"]],
        ["a null entry", [null]],
        ["a key id over 255", [{ ...key(2, 1), id: 256 }]],
        ["a fractional key id", [{ ...key(2, 1), id: 2.5 }]],
        ["a missing signer", [{ id: 2, pub: "02".repeat(64), sig: "31".repeat(64) }]],
        ["a key that signs itself", [key(2, 2)]],
        ["a public key of 63 bytes", [{ ...key(2, 1), pub: "02".repeat(63) }]],
        ["a public key in upper-case hex", [{ ...key(2, 1), pub: "AB".repeat(64) }]],
        ["a public key that is not hex", [{ ...key(2, 1), pub: "zz".repeat(64) }]],
        ["a signature of 65 bytes", [{ ...key(2, 1), sig: "31".repeat(65) }]],
        ["a signature that is a number", [{ ...key(2, 1), sig: 5 }]],
      ] as [string, unknown][]) {
        it(`refuses a hello reply whose keys are ${what}, applying none of it`, () => {
          const got: unknown[] = [];
          const limits: unknown[] = [];
          r.gateway.issuerKeys = keys;
          const s = startSync(r.options({ keyIds: () => [1], onKeys: (k) => got.push(k), onLimits: (l) => limits.push(l) }));
          r.advance(1000);
          assert.equal(last(r).code, "REPLY_FORMAT");
          assert.match(last(r).error!, /bad keys/);
          assert.deepEqual(got, []);
          assert.deepEqual(limits, []);
          assert.equal(s.state.syncedTime, 0);
        });
      }
    });

    it("fetches update chunks through the link", () => {
      const bundle = Uint8Array.from({ length: 5000 }, (_, i) => i & 255);
      r.gateway.update = { version: "1.1.0", bundle, sig: new Uint8Array(64) };
      const s = startSync(r.options());
      r.advance(1000);
      const got: (Uint8Array | SyncError)[] = [];
      s.fetchChunk("1.1.0", 4096, 4096, (e, data) => got.push(e ?? (data as Uint8Array)));
      r.advance(1000);
      assert.deepEqual(got, [bundle.subarray(4096)]);
      assert.deepEqual(r.gateway.requests[1], { op: "update-chunk", tid: 42, nonce: r.gateway.requests[1].nonce, version: "1.1.0", offset: 4096, length: 4096 });
    });

    it("gives the updater a chunk fetcher with string errors", () => {
      r.gateway.update = { version: "1.1.0", bundle: new Uint8Array(600).fill(3), sig: new Uint8Array(64) };
      const s = startSync(r.options());
      r.advance(1000);
      const got: unknown[] = [];
      s.chunkFetcher("1.1.0")(512, 512, (e, data) => got.push(e ?? data));
      s.chunkFetcher("9.9.9")(0, 512, (e, data) => got.push(e ?? data));
      r.advance(1000);
      assert.deepEqual(got[0], new Uint8Array(88).fill(3));
      assert.equal(got[1], "SYNC_HTTP: HTTP 404: no such update");
    });

    it("reports the journal's anomalies and releases the quarantine once the gateway answered", () => {
      let released = 0;
      const j = r.journal;
      const journal = Object.assign(Object.create(j), {
        anomalies: () => [{ kind: "gap", page: 3, offset: 0, seq: 12 }],
        releaseQuarantine: () => released++,
      });
      startSync(r.options({ journal }));
      r.advance(1000);
      assert.deepEqual(r.gateway.requests[0].anomalies, [{ kind: "gap", page: 3, offset: 0, seq: 12 }]);
      assert.equal(released, 1);
    });

    it("numbers requests from the SE's counter 0 and draws each nonce from its RNG, with ECDH once", () => {
      r.append(4);
      startSync(r.options());
      r.advance(2000);
      assert.deepEqual(r.gateway.ops(), ["hello", "upload", "upload"]);
      assert.equal(r.se.counters[0], 3);
      assert.equal(r.se.calls.filter((c) => c === "ecdh").length, 1);
      const nonces = r.gateway.requests.map((q) => q.nonce);
      assert.equal(new Set(nonces).size, 3);
    });
  });

  describe("upload", () => {
    it("sends every pending record in batches and marks them acknowledged", () => {
      r.append(7);
      const s = startSync(r.options());
      r.advance(3000);
      assert.deepEqual(r.gateway.ops(), ["hello", "upload", "upload", "upload"]);
      assert.deepEqual(
        r.gateway.requests.slice(1).map((q) => (q.records as { seq: number }[]).map((x) => x.seq)),
        [[1, 2, 3], [4, 5, 6], [7]],
      );
      assert.equal(r.gateway.ledger.size, 7);
      assert.equal(r.journal.stats().pending, 0);
      assert.equal(s.state.pending, 0);
      const done = last(r);
      assert.deepEqual({ phase: done.phase, sent: done.sent, total: done.total }, { phase: "done", sent: 7, total: 7 });
    });

    it("uploads each entry's bytes as base64, as journaled", () => {
      r.append(1, 5);
      startSync(r.options());
      r.advance(1000);
      const rec = (r.gateway.requests[1].records as { seq: number; entry: string }[])[0];
      assert.deepEqual(fromBase64(rec.entry), entry(5));
    });

    it("uploads the largest entries (316-byte wallet payments) whole, 8 to a batch by default", () => {
      for (let n = 1; n <= 9; n++) {
        const a = r.journal.append(walletEntry(n));
        assert.ok("seq" in a);
      }
      startSync(r.options({ batch: undefined }));
      r.advance(3000);
      const uploads = r.gateway.requests.filter((q) => q.op === "upload").map((q) => (q.records as unknown[]).length);
      assert.deepEqual(uploads, [8, 1]);
      assert.equal(r.gateway.ledger.size, 9);
      assert.deepEqual([...r.gateway.ledger.values()][8], walletEntry(9));
      assert.equal(r.journal.stats().pending, 0);
    });

    it("reports progress as batches are acknowledged", () => {
      r.append(5);
      startSync(r.options());
      r.advance(3000);
      const ups = r.progress.filter((p) => p.phase === "upload").map((p) => [p.sent, p.total]);
      assert.deepEqual(ups, [[0, 5], [3, 5], [3, 5], [5, 5]]);
    });

    it("resumes after the connection drops mid-batch, entering nothing twice", () => {
      r.append(7);
      let n = 0;
      r.http.intercept = (x, forward) => {
        // the second upload reaches the gateway, which enters it, but the connection dies before the reply
        if (x.req.url.endsWith("/upload") && ++n === 2) {
          forward();
          r.wifi.drop();
          x.err = "connection reset";
        } else x.res = forward();
        return x;
      };
      const s = startSync(r.options({ backoffMinMs: 5000 }));
      r.advance(2000);
      assert.equal(r.gateway.ledger.size, 6);
      assert.equal(r.journal.stats().pending, 4);
      assert.ok(phases(r).includes("offline:SYNC_OFFLINE"));
      assert.ok(phases(r).includes("failed:SYNC_NET"));
      r.wifi.up = ["shop"];
      r.advance(10000);
      assert.equal(s.state.online, true);
      assert.equal(r.gateway.ledger.size, 7);
      assert.equal(r.journal.stats().pending, 0);
      const uploads = r.gateway.requests.filter((q) => q.op === "upload").map((q) => (q.records as { seq: number }[]).map((x) => x.seq));
      assert.deepEqual(uploads, [[1, 2, 3], [4, 5, 6], [4, 5, 6], [7]]);
      assert.equal(last(r).phase, "done");
    });

    it("resumes from what is still pending after a restart of the terminal", () => {
      r.append(5);
      const first = startSync(r.options());
      r.advance(140); // hello answered, first upload sent, not yet answered
      first.stop();
      r.advance(1000);
      assert.equal(r.journal.stats().pending, 5);
      const again = startSync(r.options());
      r.advance(2000);
      assert.equal(again.state.pending, 0);
      assert.equal(r.gateway.ledger.size, 5);
    });

    it("counts duplicate and foreign acks once", () => {
      r.append(3);
      r.gateway.uploadReply = (_records, normal) => ({ ...normal, acked: [1, 1, 2, 2, 2, 3, 99, 1] });
      const s = startSync(r.options());
      r.advance(2000);
      assert.equal(r.journal.stats().pending, 0);
      assert.equal(s.state.pending, 0);
      assert.equal(last(r).sent, 3);
    });

    it("leaves unacknowledged records pending and sends them again", () => {
      r.append(3);
      let calls = 0;
      r.gateway.uploadReply = (_records, normal) => (++calls === 1 ? { ...normal, acked: [2] } : normal);
      startSync(r.options());
      r.advance(2000);
      const uploads = r.gateway.requests.filter((q) => q.op === "upload").map((q) => (q.records as { seq: number }[]).map((x) => x.seq));
      assert.deepEqual(uploads, [[1, 2, 3], [1, 3]]);
      assert.equal(r.journal.stats().pending, 0);
    });

    it("stops the round when the gateway takes nothing, instead of looping", () => {
      r.append(3);
      r.gateway.uploadReply = (_records, normal) => ({ ...normal, acked: [], rejected: [] });
      startSync(r.options());
      r.advance(2000);
      assert.equal(r.gateway.ops().filter((o) => o === "upload").length, 1);
      assert.equal(last(r).code, "SYNC_STALLED");
      assert.equal(r.journal.stats().pending, 3);
    });

    it("marks records the gateway refuses for good as acknowledged, and reports them", () => {
      r.append(2);
      r.journal.append(new Uint8Array(40).fill(9)); // not an entry: the gateway rejects it
      const s = startSync(r.options());
      r.advance(2000);
      assert.equal(r.journal.stats().pending, 0);
      assert.equal(r.gateway.ledger.size, 2);
      assert.equal(s.state.lastError?.code, "SYNC_REJECTED");
      assert.ok(r.progress.some((p) => p.code === "SYNC_REJECTED" && /E_ENTRY/.test(p.error ?? "")));
    });

    it("lets the journal reclaim acknowledged pages", () => {
      const perPage = Math.floor((4096 - 8) / (48 + 96)); // 94-byte entries take 96 bytes of ciphertext
      r.append(perPage * 3);
      const free0 = r.journal.stats().slotsLeft;
      startSync(r.options({ batch: 32 }));
      r.advance(5000);
      assert.equal(r.journal.stats().pending, 0);
      assert.ok(r.journal.stats().slotsLeft > free0, "slotsLeft " + r.journal.stats().slotsLeft + " not above " + free0);
    });

    it("sends now on demand, before the interval", () => {
      const s = startSync(r.options({ intervalMs: 600000 }));
      r.advance(1000);
      r.append(2);
      s.sendNow();
      r.advance(1000);
      assert.deepEqual(r.gateway.ops(), ["hello", "hello", "upload"]);
      assert.equal(r.journal.stats().pending, 0);
    });

    it("runs send now pressed during a round as one more round after it, never two at once", () => {
      r.append(4);
      const s = startSync(r.options());
      r.advance(140); // the first round is under way
      assert.equal(s.state.busy, true);
      s.sendNow();
      s.sendNow();
      r.advance(3000);
      assert.deepEqual(r.gateway.ops(), ["hello", "upload", "upload", "hello"]);
      assert.equal(s.state.busy, false);
    });

    it("syncs again every interval", () => {
      startSync(r.options({ intervalMs: 60000 }));
      r.advance(1000);
      r.append(1);
      r.advance(58000);
      assert.deepEqual(r.gateway.ops(), ["hello"]);
      r.advance(3000);
      assert.deepEqual(r.gateway.ops(), ["hello", "hello", "upload"]);
    });
  });

  describe("replies that cannot be trusted", () => {
    it("rejects and reports a tampered reply, applying nothing of it", () => {
      const alerts: SyncError[] = [];
      r.append(2);
      r.http.intercept = (x, forward) => {
        x.res = forward();
        const b = Buffer.from(x.res.body, "base64");
        b[30] ^= 0x01;
        x.res = { status: 200, body: b.toString("base64") };
        return x;
      };
      const s = startSync(r.options({ onAlert: (e) => alerts.push(e) }));
      r.advance(1000);
      assert.equal(last(r).phase, "failed");
      assert.equal(last(r).code, "REPLY_AUTH");
      assert.equal(last(r).error, "gateway reply failed authentication");
      assert.deepEqual(alerts.map((a) => a.code), ["REPLY_AUTH"]);
      assert.equal(s.state.badReplies, 1);
      assert.equal(s.state.syncedTime, 0);
      assert.equal(s.state.limits, null);
      assert.ok(r.clock.now() < Date.UTC(2021, 0, 1), "clock was set from a tampered reply");
      assert.equal(r.journal.stats().pending, 2);
    });

    it("rejects a tampered upload reply without marking anything acknowledged", () => {
      r.append(2);
      r.http.intercept = (x, forward) => {
        x.res = forward();
        if (x.req.url.endsWith("/upload")) x.res = { status: 200, body: x.res.body.slice(0, -8) + "AAAAAAA=" };
        return x;
      };
      startSync(r.options());
      r.advance(1000);
      assert.equal(last(r).code, "REPLY_AUTH");
      assert.equal(r.gateway.ledger.size, 2); // the gateway has them, so the next round acks them again
      assert.equal(r.journal.stats().pending, 2);
    });

    it("rejects a recorded reply played back to a later request", () => {
      let recorded: string | null = null;
      r.http.intercept = (x, forward) => {
        const real = forward();
        if (recorded === null) {
          recorded = real.body;
          x.res = real;
        } else x.res = { status: 200, body: recorded };
        return x;
      };
      const alerts: SyncError[] = [];
      const s = startSync(r.options({ onAlert: (e) => alerts.push(e) }));
      r.advance(1000);
      const firstSync = s.state.syncedUptime;
      assert.equal(last(r).phase, "done");
      s.sendNow();
      r.advance(1000);
      assert.equal(last(r).code, "REPLY_REPLAY");
      assert.deepEqual(alerts.map((a) => a.code), ["REPLY_REPLAY"]);
      assert.equal(s.state.syncedUptime, firstSync, "a replayed time was applied");
    });

    it("rejects a genuine reply to another nonce under the right seq", () => {
      r.http.intercept = (x, forward) => {
        forward();
        x.res = { status: 200, body: sealReply(crypto, r.gateway.keys, r.gateway.lastSeq, { nonce: "0000000000000000", time: GATEWAY_TIME + 1e9, denyVersion: 2, limits: r.gateway.limits }) };
        return x;
      };
      const s = startSync(r.options());
      r.advance(1000);
      assert.equal(last(r).code, "REPLY_REPLAY");
      assert.equal(s.state.syncedTime, 0);
    });

    it("refuses an authentic hello reply with a malformed field, applying none of it", () => {
      const limits: SyncLimits[] = [];
      r.gateway.deny = "00000000000000ff0000000000000001"; // not sorted
      const s = startSync(r.options({ onLimits: (l) => limits.push(l) }));
      r.advance(1000);
      assert.equal(last(r).code, "REPLY_FORMAT");
      assert.equal(s.state.syncedTime, 0);
      assert.deepEqual(limits, []);
      assert.equal(s.state.badReplies, 0);
    });

    it("shows a plain error reply without acting on it", () => {
      r.append(1);
      r.http.intercept = (x) => {
        x.res = { status: 503, body: JSON.stringify({ error: "BUSY", message: "gateway busy, retry" }) };
        return x;
      };
      const s = startSync(r.options());
      r.advance(1000);
      assert.equal(last(r).code, "SYNC_HTTP");
      assert.equal(last(r).error, "HTTP 503: gateway busy, retry");
      assert.equal(s.state.syncedTime, 0);
      assert.equal(r.journal.stats().pending, 1);
    });

    it("is refused by the gateway when a request is replayed to it", () => {
      const bodies: string[] = [];
      r.http.intercept = (x, forward) => {
        bodies.push(x.req.body ?? "");
        x.res = forward();
        return x;
      };
      startSync(r.options());
      r.advance(1000);
      const replay = r.gateway.handle("/v1/t/42/hello", bodies[0]);
      assert.equal(replay.status, 409);
      assert.equal(JSON.parse(replay.body).error, "REQ_REPLAY");
    });
  });

  describe("Wi-Fi and backoff", () => {
    it("doubles the wait between failed attempts up to the cap", () => {
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, 5000, 300000)), [5000, 10000, 20000, 40000, 80000, 160000, 300000, 300000]);
    });

    it("retries the configured networks in turn with exponential backoff", () => {
      r.wifi.up = [];
      startSync(r.options({ networks: ["shop", "back"], backoffMinMs: 5000, backoffMaxMs: 40000 }));
      r.advance(200000);
      const at = r.wifi.attempts.map((a) => a.at);
      // vault 1 ms + join 100 ms per attempt, then the wait
      const expected: number[] = [];
      let t = 1;
      for (const wait of [5000, 10000, 20000, 40000, 40000, 40000]) {
        expected.push(t);
        t += 100 + wait + 1;
      }
      assert.deepEqual(at.slice(0, 6), expected);
      assert.deepEqual(r.wifi.attempts.slice(0, 4).map((a) => a.ssid), ["shop", "back", "shop", "back"]);
      assert.ok(r.progress.some((p) => p.code === "SYNC_WIFI"));
    });

    it("comes online on the second network and resets the backoff", () => {
      r.wifi.up = ["back"];
      const s = startSync(r.options({ networks: ["shop", "back"] }));
      r.advance(6000);
      assert.equal(s.state.online, true);
      assert.deepEqual(r.wifi.attempts.map((a) => [a.ssid, a.password]), [["shop", "s3cret"], ["back", "b4ck"]]);
      r.wifi.drop();
      r.advance(4000);
      assert.equal(r.wifi.attempts.length, 2, "reconnected before the first backoff");
      r.wifi.up = ["back", "shop"];
      r.advance(2000);
      assert.equal(r.wifi.attempts.length, 3);
      assert.equal(s.state.online, true);
    });

    it("says hello again after reconnecting", () => {
      startSync(r.options());
      r.advance(1000);
      r.wifi.drop();
      r.wifi.up = ["shop"];
      r.advance(6000);
      assert.deepEqual(r.gateway.ops(), ["hello", "hello"]);
    });

    it("retries a failed round with backoff while still online", () => {
      r.http.intercept = (x) => {
        x.err = "timeout";
        return x;
      };
      startSync(r.options({ backoffMinMs: 5000, intervalMs: 600000 }));
      r.advance(1000);
      const n1 = r.http.log.length;
      r.advance(5000);
      assert.equal(r.http.log.length, n1 + 1);
      r.advance(9000);
      assert.equal(r.http.log.length, n1 + 1);
      r.advance(1100);
      assert.equal(r.http.log.length, n1 + 2);
    });

    it("reports offline on send now without Wi-Fi and tries to connect at once", () => {
      r.wifi.up = [];
      const s = startSync(r.options({ backoffMinMs: 60000 }));
      r.advance(1000);
      assert.equal(r.wifi.attempts.length, 1);
      r.wifi.up = ["shop"];
      s.sendNow();
      r.advance(1000);
      assert.equal(r.wifi.attempts.length, 2);
      assert.equal(s.state.online, true);
      assert.deepEqual(r.gateway.ops(), ["hello"]);
    });

    it("refuses to start without a gateway key, saying so", () => {
      startSync(r.options({ gatewayKey: new Uint8Array(0) }));
      r.advance(1000);
      assert.equal(last(r).code, "SYNC_CONFIG");
      assert.deepEqual(r.gateway.ops(), []);
    });

    it("reports a secure element failure and sends nothing", () => {
      r.se.failCounter = true;
      startSync(r.options());
      r.advance(1000);
      assert.equal(last(r).code, "SYNC_SE");
      assert.deepEqual(r.http.log, []);
    });

    it("stops: no more timers fire and late replies are ignored", () => {
      r.append(2);
      const s = startSync(r.options());
      r.advance(125);
      s.stop();
      const n = r.progress.length;
      r.advance(600000);
      assert.equal(r.progress.length, n);
    });
  });
});
