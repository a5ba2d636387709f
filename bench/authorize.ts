/**
 * The gateway's own time per online authorization (docs/sync.md, op authorize): the sealed request opened, the
 * entry's wallet signature verified, the checks against the books across all terminals (deny list, counter,
 * allowance, cap, purse), the settlement (record, spend, balanced movement, ledger row, webhook queued) in one
 * SQLite transaction, the reply sealed. In process (gateway.handle, no HTTP), the database a file in a temporary
 * folder, terminals and wallets made in Node beforehand (test/helpers/soft-terminal.ts) so only the gateway's work
 * is timed.
 *
 * Then, with ESPRUINO=/path/to/espruino, the terminal's side on the interpreter, built by the firmware's pipeline
 * and run from Storage as on the device: the entry to base64, the request's JSON sealed (AES-128-CBC, HMAC-SHA256),
 * the gateway's sealed reply opened and its txId and result read, as firmware/sync/sync.ts and firmware/app/pay.ts
 * do. Not in it: the secure element's counter and random (its own command times), the Wi-Fi round trip.
 *
 *   npx tsx bench/authorize.ts
 *
 * Also a step of `npm run bench`, before bench/flows.ts (which exits 1 while the device is over its budgets).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MovableClock } from "../gateway/clock.ts";
import { Gateway } from "../gateway/gateway.ts";
import { Issuer } from "../gateway/issuer.ts";
import { openSqliteStore } from "../gateway/sqlite-store.ts";
import { encodeEntry } from "../protocol/entry.ts";
import { toHex } from "../protocol/codec/hex.ts";
import { linkKeys, linkPath, sealReply, sealRequest, toBase64 } from "../protocol/sync.ts";
import { interpreter } from "../test/espruino/interpreter.ts";
import { probeOnInterpreter } from "./interpreter-probe.ts";
import { nodeCrypto } from "../gateway/node-crypto.ts";
import { SoftTerminal, SoftWallet } from "../test/helpers/soft-terminal.ts";

const TERMINALS = 4;
const WALLETS = 50;
const PER_WALLET = 4;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "authz-bench-"));
  try {
    const clock = new MovableClock(T0);
    const gw = new Gateway({ store: openSqliteStore(join(dir, "gw.db")), clock, issuer: Issuer.generate(1), autoFlush: false, adminToken: "bench" });
    const m = gw.registerMerchant({ name: "Bench", webhookUrl: "https://shop.example/bench" });
    const terms: SoftTerminal[] = [];
    for (let i = 0; i < TERMINALS; i++) {
      const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
      const t = gw.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
      terms.push(new SoftTerminal({ terminalId: t.terminalId, privateKey: probe.privateKey, linkPublicKey: gw.linkPublicKey, send: () => Promise.reject(new Error("unused")), now: () => Math.floor(clock.now() / 1000) }));
    }
    // every request sealed beforehand, in the order each terminal sends them (its link seq rising)
    const reqs: { path: string; body: string }[] = [];
    for (let i = 0; i < WALLETS; i++) {
      const w = new SoftWallet();
      w.setAllowance(gw.registerWallet({ publicKey: w.publicKey, capMinor: 10000, phone: "+49151" + String(1000000 + i), balanceMinor: 20000 }).allowance);
      for (let k = 0; k < PER_WALLET; k++) {
        const t = terms[(i * PER_WALLET + k) % TERMINALS];
        const e = t.walletPayment(w, 1000 + k);
        const seq = ++t.linkSeq;
        reqs.push({ path: linkPath(t.terminalId, "authorize"), body: sealRequest(nodeCrypto(), t.keys, seq, { op: "authorize", tid: t.terminalId, nonce: seq.toString(16).padStart(16, "0"), entry: toBase64(encodeEntry(e)) }) });
      }
    }
    // warm-up: the first request pays for the statements' preparation and the link keys' ECDH
    const times: number[] = [];
    let approved = 0;
    for (const r of reqs) {
      const t0 = process.hrtime.bigint();
      const res = await gw.handle({ method: "POST", path: r.path, headers: {}, body: r.body });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status === 200) approved++;
    }
    const warm = times.slice(TERMINALS).sort((a, b) => a - b);
    const q = (p: number) => warm[Math.min(warm.length - 1, Math.floor(p * warm.length))].toFixed(2);
    const mean = (warm.reduce((a, b) => a + b, 0) / warm.length).toFixed(2);
    const settled = gw.ledger(m.merchantId).filter((l) => l.status === "approved" && l.holdUntil === 0).length;
    const b = gw.books();
    console.log(`authorize bench (gateway, Node ${process.version}, SQLite file): ${reqs.length} online authorizations, ${TERMINALS} terminals, ${WALLETS} wallets`);
    console.log(`  gateway time per authorization (open, verify, check, settle, seal; in process): median ${q(0.5)} ms, p99 ${q(0.99)} ms, mean ${mean} ms (first ${TERMINALS} left out: key derivation, statements)`);
    console.log(`  settled at once: ${settled} of ${reqs.length} (HTTP 200: ${approved}); books balanced: ${b.unbalanced.length === 0 && b.trial.every((x) => x.debits === x.credits)}`);
    gw.close();
    await onInterpreter(terms[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The terminal's own work per authorization on the Espruino interpreter (no secure element, no network). */
async function onInterpreter(t: SoftTerminal): Promise<void> {
  const bin = interpreter();
  if (!bin) {
    console.log("  terminal side on the interpreter: skipped (set ESPRUINO=/path/to/espruino to measure on Espruino)");
    return;
  }
  const c = nodeCrypto();
  const z = new Uint8Array(randomBytes(32));
  const keys = linkKeys(c, z);
  const w = new SoftWallet();
  w.setAllowance(Issuer.generate(1).issueAllowance({ walletPub: w.publicKey, capMinor: 10000, currency: 978, expiryDay: 20500, startCounter: 1 }));
  const e = t.walletPayment(w, 1250);
  const entry = encodeEntry(e);
  const tx = toHex(e.txId);
  const seq = 1234;
  const nonce = "0123456789abcdef";
  const reply = sealReply(c, keys, seq, { result: "approved", txId: tx, ref: tx, status: "approved", time: T0, nonce });
  const n = 20;
  const src =
    `import { fromHex, toHex } from "./protocol/codec/hex.ts";\n` +
    `import { linkKeys, openReply, sealRequest, toBase64 } from "./protocol/sync.ts";\n` +
    `import { builtinCrypto } from "./hal/espruino/crypto.ts";\n` +
    `const c = builtinCrypto();\n` +
    `const keys = linkKeys(c, fromHex(${JSON.stringify(toHex(z))}));\n` +
    `const entry = fromHex(${JSON.stringify(toHex(entry))});\n` +
    `const reply = ${JSON.stringify(reply)};\n` +
    // as the firmware does it: the fields object, then op, tid and nonce added by the sync loop's call
    `function one(probe) {\n` +
    `  const req = { entry: toBase64(entry) };\n` +
    `  req.op = "authorize"; req.tid = ${t.terminalId}; req.nonce = ${JSON.stringify(nonce)};\n` +
    `  const body = sealRequest(c, keys, ${seq}, req);\n` +
    `  const r = openReply(c, keys, reply, { seq: ${seq}, nonce: ${JSON.stringify(nonce)} });\n` +
    `  if (probe) probe();\n` +
    `  return body.length > 0 && !("code" in r) && r.msg.txId === toHex(entry.subarray(1, 9)) && r.msg.result === "approved";\n` +
    `}\n`;
  const f = await probeOnInterpreter(bin, src, n, "authorize");
  if ("error" in f) {
    console.log("  terminal side on the interpreter: " + f.error);
    return;
  }
  console.log(`  terminal side on the interpreter (${f.where}):`);
  console.log(`    request sealed + reply opened and read: ${f.ms.toFixed(2)} ms per authorization (mean of ${f.ok}/${n}); JsVars ${f.base} before, ${f.peak} at peak (of ${f.total})`);
  console.log(`    + the secure element's counter and random, and the Wi-Fi round trip; the terminal waits at most 3 s (Authorize.Ms), then goes on offline`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
