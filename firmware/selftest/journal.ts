/** Self-test cases of the journal over RAM flash pages (small: they run on the device too). */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { Journal } from "../journal/journal.ts";
import type { RamPages } from "../journal/ram-pages.ts";
import { ramPages } from "../journal/ram-pages.ts";
import type { JournalKeys } from "../journal/record.ts";
import type { Case } from "./runner.ts";
import { expectEqual } from "./runner.ts";

function keys(): JournalKeys {
  const enc = new Uint8Array(16);
  const mac = new Uint8Array(32);
  const iv = new Uint8Array(16);
  for (let i = 0; i < 32; i++) {
    if (i < 16) enc[i] = i + 1;
    mac[i] = 100 + i;
    if (i < 16) iv[i] = 200 - i;
  }
  return { enc: enc, mac: mac, iv: iv };
}

function payload(id: number): Uint8Array {
  const p = new Uint8Array(40);
  for (let i = 0; i < p.length; i++) p[i] = (id * 7 + i) & 255;
  return p;
}

/** A 3-page journal (1 KB pages) holding `n` payments. */
function filled(c: CryptoBackend, n: number): { pages: RamPages; j: Journal } {
  const pages = ramPages(1024, 3);
  const j = new Journal({ pages: pages, crypto: c, keys: keys(), reserveSlots: 0 });
  j.recover();
  for (let i = 1; i <= n; i++) j.append(payload(i));
  return { pages: pages, j: j };
}

function reopen(c: CryptoBackend, pages: RamPages): Journal {
  return new Journal({ pages: pages, crypto: c, keys: keys(), reserveSlots: 0 });
}

export function journalCases(c: CryptoBackend): Case[] {
  return [
    {
      name: "journal round trip after reboot",
      run: () => {
        const f = filled(c, 5);
        const j = reopen(c, f.pages);
        const rep = j.recover();
        const got = j.pending(10);
        if (rep.records !== 5 || rep.anomalies.length) return "report " + rep.records + " records, " + rep.anomalies.length + " anomalies";
        return expectEqual(got[4].payload.join(","), payload(5).join(","));
      },
    },
    {
      name: "journal acked survives reboot",
      run: () => {
        const f = filled(c, 4);
        f.j.markAcked([1, 2]);
        return expectEqual(reopen(c, f.pages).recover().acked, 2);
      },
    },
    {
      name: "journal detects a flipped bit",
      run: () => {
        const f = filled(c, 4);
        f.pages.bytes[8 + 40] ^= 1;
        const a = reopen(c, f.pages).recover().anomalies;
        return expectEqual(a.length ? a[0].kind : "none", "mac");
      },
    },
    {
      name: "journal drops a torn tail",
      run: () => {
        const f = filled(c, 3);
        // the newest record's tag as a torn write leaves it: never programmed
        const size = 48 + 48;
        const end = 8 + 3 * size;
        for (let i = end - size / 2; i < end; i++) f.pages.bytes[i] = 0xff;
        const j = reopen(c, f.pages);
        const rep = j.recover();
        return expectEqual(rep.tornTail + " " + rep.headSeq + " " + rep.anomalies.length, "true 2 0");
      },
    },
    {
      name: "journal round trip of a 316-byte entry",
      run: () => {
        // the largest entry (a WalletPayment, protocol/entry.ts): 20 cipher blocks, 368-byte record
        const pages = ramPages(1024, 3);
        const big = new Uint8Array(316);
        for (let i = 0; i < big.length; i++) big[i] = (i * 5 + 3) & 255;
        const j = new Journal({ pages: pages, crypto: c, keys: keys(), reserveSlots: 0 });
        j.recover();
        j.append(payload(1));
        const r: any = j.append(big);
        if (!r || r.seq !== 2) return "append refused: " + (r && r.code);
        const k = reopen(c, pages);
        const rep = k.recover();
        const got = k.pending(10);
        if (rep.anomalies.length || got.length !== 2) return rep.anomalies.length + " anomalies, " + got.length + " records";
        return expectEqual(got[1].payload.length + ":" + got[1].payload.join(","), "316:" + big.join(","));
      },
    },
    {
      name: "journal refuses when full",
      run: () => {
        const pages = ramPages(1024, 2);
        const j = new Journal({ pages: pages, crypto: c, keys: keys(), reserveSlots: 1 });
        j.recover();
        let r: any = null;
        for (let i = 0; i < 40 && !(r && r.code); i++) r = j.append(payload(i));
        return expectEqual(r && r.code, "JOURNAL_FULL");
      },
    },
    {
      name: "journal reclaims acked pages",
      run: () => {
        const f = filled(c, 12);
        const all: number[] = [];
        for (let i = 1; i <= 12; i++) all.push(i);
        f.j.markAcked(all);
        return expectEqual(f.j.reclaim() >= 1, true);
      },
    },
  ];
}
