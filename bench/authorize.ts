/**
 * The gateway's own time per online authorization (docs/sync.md, op authorize): the sealed request opened, the
 * entry's wallet signature verified, the checks against the books across all terminals (deny list, counter,
 * allowance, cap, purse), the settlement (record, spend, balanced movement, ledger row, webhook queued) in one
 * SQLite transaction, the reply sealed. In process (gateway.handle, no HTTP), the database a file in a temporary
 * folder, terminals and wallets made in Node beforehand (test/helpers/soft-terminal.ts) so only the gateway's work
 * is timed.
 *
 *   npx tsx bench/authorize.ts            (also the last step of `npm run bench`)
 *
 * The terminal's side on the interpreter (its request sealed, the reply opened) is bench/flows.ts's, when it has it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MovableClock } from "../gateway/clock.ts";
import { Gateway } from "../gateway/gateway.ts";
import { Issuer } from "../gateway/issuer.ts";
import { openSqliteStore } from "../gateway/sqlite-store.ts";
import { encodeEntry } from "../protocol/entry.ts";
import { linkPath, sealRequest, toBase64 } from "../protocol/sync.ts";
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
