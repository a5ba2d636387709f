/**
 * The link codec, the entry codec and the sync loop on the real Espruino interpreter (ESPRUINO=...): the bytes it
 * seals must be the bytes Node seals, and a whole sync round (hello, batched uploads, acks, reclaim) must run
 * there against an in-script gateway made of the same codec. Skipped when no interpreter is given.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../build.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import { txId } from "../../protocol/ids.ts";
import { linkKeys, sealReply, sealRequest, toBase64 } from "../../protocol/sync.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { interpreter, runOnInterpreter } from "../espruino/interpreter.ts";

/** Fixed inputs of the script (Node computes the same Z below), so both sides must print the same. */
const FIXTURE = `
const Z = new Uint8Array(32);
for (let i = 0; i < 32; i++) Z[i] = (i * 37 + 5) & 255;
function refundEntry(n: number): Uint8Array {
  const sig = new Uint8Array(64);
  for (let i = 0; i < 64; i++) sig[i] = n;
  const refund = encodeRefund({ txId: txId(42, 1000 + n), amountMinor: 100 + n, currency: 978, time: 1700000000 + n, reason: 2, terminalSig: sig });
  return encodeEntry({ kind: 3, txId: txId(42, n), refund: refund });
}
`;

const SCRIPT = `
import { builtinCrypto } from "./hal/espruino/crypto.ts";
import { toHex } from "./protocol/codec/hex.ts";
import { Journal } from "./firmware/journal/journal.ts";
import { ramPages } from "./firmware/journal/ram-pages.ts";
import { decodeEntry, encodeEntry, entryAmount } from "./protocol/entry.ts";
import { txId } from "./protocol/ids.ts";
import { encodeRefund } from "./protocol/messages.ts";
import { fromBase64, isLinkError, linkKeys, openReply, openRequest, sealReply, sealRequest, toBase64 } from "./protocol/sync.ts";
import { startSync } from "./firmware/sync/sync.ts";
${FIXTURE}
const c = builtinCrypto();
const out = (s: string) => console.log("OUT " + s);
const k = linkKeys(c, Z);
out("keys " + toHex(k.t2g.enc) + toHex(k.t2g.mac) + toHex(k.g2t.enc) + toHex(k.g2t.mac));
const body = sealRequest(c, k, 7, { op: "hello", tid: 42, nonce: "0011223344556677", fw: "1.0.0", m: "caf\\u00e9\\u0001\\u007f\\n\\"" });
out("req " + body);
const opened = openRequest(c, k, body, { lastSeq: 6, op: "hello", tid: 42 });
out("opened " + (isLinkError(opened) ? opened.code : opened.seq + " " + opened.msg.fw + " " + opened.msg.m.charCodeAt(3)));
out("replay " + (isLinkError(openRequest(c, k, body, { lastSeq: 7 })) ? "refused" : "accepted"));
const reply = sealReply(c, k, 7, { nonce: "0011223344556677", acked: [1, 2] });
out("reply " + reply);
const r = openReply(c, k, reply, { seq: 7, nonce: "0011223344556677" });
out("openReply " + (isLinkError(r) ? r.code : JSON.stringify(r.msg)));
const tampered = fromBase64(reply) as Uint8Array;
tampered[20] ^= 1;
const t = openReply(c, k, toBase64(tampered), { seq: 7, nonce: "0011223344556677" });
out("tampered " + (isLinkError(t) ? t.message : "accepted"));
out("b64 " + toBase64(new Uint8Array([0, 1, 2, 253, 254, 255, 128])) + " " + (fromBase64("AA=") === undefined));
const e = decodeEntry(refundEntry(3));
out("entry " + (e ? e.kind + " " + entryAmount(e) + " " + toHex(e.txId) : "null"));

// a whole sync round against an in-script gateway
let now = 0;
let wall = 1577836800000;
const timers: { at: number; fn: () => void; id: number }[] = [];
let nextId = 1;
const clock = {
  now: () => wall + now,
  set: (ms: number) => { wall = ms - now; },
  uptime: () => now,
  setTimeout: (fn: () => void, ms: number) => { timers.push({ at: now + ms, fn: fn, id: nextId }); return nextId++; },
  setInterval: (fn: () => void, ms: number) => 0,
  clear: (id: number) => { for (let i = 0; i < timers.length; i++) if (timers[i].id === id) { timers.splice(i, 1); return; } },
};
let gwLast = 0;
const ledger: { [tx: string]: boolean } = {};
let ledgerCount = 0;
let helloKeys = "";
let keysGot = "";
function gateway(path: string, b: string): { status: number; body: string } {
  const op = path.split("/")[4];
  const q = openRequest(c, k, b, { lastSeq: gwLast, op: op, tid: 42 });
  if (isLinkError(q)) return { status: q.status, body: JSON.stringify({ error: q.code, message: q.message }) };
  gwLast = q.seq;
  const rep: any = { nonce: q.msg.nonce };
  if (op === "hello") {
    rep.time = 1767225600000;
    rep.denyVersion = 1;
    rep.deny = "0000000000000001";
    rep.limits = { perTxMinor: 5000, unsyncedMinor: 50000, maxDaysOffline: 3, perWalletMinor: 10000 };
    helloKeys = JSON.stringify(q.msg.keys);
    rep.keys = [{ id: 2, pub: "${"ab".repeat(64)}", by: 1, sig: "${"cd".repeat(64)}" }];
    rep.revoke = [{ id: 3, by: 1, sig: "${"ef".repeat(64)}" }];
  } else {
    rep.acked = [];
    const recs: any[] = q.msg.records as any[];
    for (let i = 0; i < recs.length; i++) {
      const en = decodeEntry(fromBase64(recs[i].entry) as Uint8Array);
      if (!en) continue;
      const key = toHex(en.txId);
      if (!ledger[key]) { ledger[key] = true; ledgerCount++; }
      rep.acked.push(recs[i].seq);
    }
  }
  return { status: 200, body: sealReply(c, k, q.seq, rep) };
}
let wstate: any = "off";
const wifi = {
  connect: (ssid: string, pw: string, done: (e: string | null) => void) => { clock.setTimeout(() => { wstate = "connected"; done(null); }, 100); },
  disconnect: () => {},
  state: () => wstate,
  onChange: (fn: any) => {},
};
const http = {
  request: (req: any, done: any) => { const res = gateway(req.url.slice(14), req.body); clock.setTimeout(() => done(null, res), 20); },
};
let counter = 0;
const se: any = {
  ecdh: (slot: number, pub: Uint8Array, done: any) => clock.setTimeout(() => done(null, Z), 5),
  counter: (id: number, inc: boolean, done: any) => clock.setTimeout(() => done(null, ++counter), 5),
  random: (done: any) => { const b = new Uint8Array(32); b[0] = counter; clock.setTimeout(() => done(null, b), 5); },
};
const keys = { enc: new Uint8Array(16), mac: new Uint8Array(32), iv: new Uint8Array(16) };
keys.enc[0] = 1; keys.mac[0] = 2; keys.iv[0] = 3;
const journal = new Journal({ pages: ramPages(4096, 4), crypto: c, keys: keys });
journal.recover();
for (let i = 1; i <= 7; i++) journal.append(refundEntry(i));
const phases: string[] = [];
let denyLen = -1;
const s = startSync({
  device: { clock: clock, wifi: wifi, http: http, secure: se, crypto: c },
  journal: journal, terminalId: 42, gatewayUrl: "http://gw.test", gatewayKey: new Uint8Array(64), networks: ["shop"],
  secrets: { get: (n: string, done: any) => done(null, new Uint8Array([112, 119])) },
  firmwareVersion: "1.0.0", batch: 3,
  onProgress: (p) => phases.push(p.phase + (p.code ? ":" + p.code : "") + " " + p.sent + "/" + p.total),
  onDeny: (v, ids) => { denyLen = ids.length; },
  keyIds: () => [1, 3],
  onKeys: (ks, rv) => { keysGot = ks.length + " " + ks[0].id + " " + ks[0].by + " " + toHex(ks[0].pub).slice(0, 6) + " " + ks[0].sig.length + " " + rv.length + " " + rv[0].id + " " + rv[0].by + " " + toHex(rv[0].sig).slice(0, 6); },
});
for (let guard = 0; guard < 10000 && timers.length; guard++) {
  let best = 0;
  for (let i = 1; i < timers.length; i++) if (timers[i].at < timers[best].at) best = i;
  const tm = timers.splice(best, 1)[0];
  if (tm.at > 60000) break;
  if (tm.at > now) now = tm.at;
  tm.fn();
}
out("phases " + phases.join(","));
out("sync " + s.state.pending + " " + ledgerCount + " " + journal.stats().pending + " " + s.state.syncedTime + " " + clock.now() + " " + denyLen + " " + counter);
out("ikeys " + helloKeys + " " + keysGot);
out("mem " + process.memory().usage);
`;

describe("link and sync on the Espruino interpreter", function () {
  this.timeout(120000);

  it("seals the same bytes as Node and runs a whole sync round", async function () {
    const bin = interpreter();
    if (!bin) return this.skip();
    const js = await compile(SCRIPT, "sync-probe.ts", ["crypto"]);
    const file = join(mkdtempSync(join(tmpdir(), "sync-espruino-")), "probe.js");
    writeFileSync(file, js + "\nquit();\n");
    const run = await runOnInterpreter(bin, file);
    assert.deepEqual(run.errors, [], run.lines.join("\n"));
    const got: Record<string, string> = {};
    for (const l of run.lines) if (l.startsWith("OUT ")) got[l.split(" ")[1]] = l.slice(5 + l.split(" ")[1].length);

    // Node, same inputs
    const c = nodeCrypto();
    const Z = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 5) & 255);
    const k = linkKeys(c, Z);
    assert.equal(got.keys, toHex(k.t2g.enc) + toHex(k.t2g.mac) + toHex(k.g2t.enc) + toHex(k.g2t.mac));
    assert.equal(got.req, sealRequest(c, k, 7, { op: "hello", tid: 42, nonce: "0011223344556677", fw: "1.0.0", m: "caf\u00e9\u0001\u007f\n\"" }));
    assert.equal(got.opened, "7 1.0.0 233");
    assert.equal(got.replay, "refused");
    assert.equal(got.reply, sealReply(c, k, 7, { nonce: "0011223344556677", acked: [1, 2] }));
    assert.equal(got.openReply, JSON.stringify({ nonce: "0011223344556677", acked: [1, 2] }));
    assert.equal(got.tampered, "gateway reply failed authentication");
    assert.equal(got.b64, toBase64(new Uint8Array([0, 1, 2, 253, 254, 255, 128])) + " true");
    assert.equal(got.entry, "3 -103 " + toHex(txId(42, 3)));
    assert.equal(got.phases, "connecting 0/0,online 0/0,hello 0/7,upload 0/7,upload 3/7,upload 3/7,upload 6/7,upload 6/7,upload 7/7,done 7/7");
    const [pending, ledger, journalPending, synced, , denyLen, counter] = got.sync.split(" ").map(Number);
    assert.deepEqual([pending, ledger, journalPending, synced, denyLen, counter], [0, 7, 0, 1767225600000, 8, 4]);
    assert.equal(got.ikeys, "[1,3] 1 2 1 ababab 64 1 3 1 efefef", "the held key ids went out, the keys and revocations came back shape-checked");
    console.log("      JsVars in use after the round: " + got.mem);
  });
});
