/**
 * The record log on two raw flash pages (firmware/page-log.ts) unit by unit, over RAM pages with NOR rules whose
 * fake fails loudly on a write over bytes that are not erased.
 */
import assert from "node:assert/strict";
import { pageLog, PageLogResult } from "../../firmware/page-log.ts";
import { encodeRecord } from "../../firmware/record-log.ts";
import { ramPages } from "../../firmware/journal/ram-pages.ts";
import type { RamPages } from "../../firmware/journal/ram-pages.ts";

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const text = (b: Uint8Array) => Buffer.from(b).toString();

/** RAM pages that throw on a write over any byte that is not 0xFF (NOR: a write only clears bits of erased bytes). */
function strict(pageSize = 256, pageCount = 2): RamPages & { erases: number } {
  const p = ramPages(pageSize, pageCount);
  const out = Object.assign(Object.create(null), p, { erases: 0 }) as RamPages & { erases: number };
  out.write = (page, offset, data) => {
    const was = p.read(page, offset, data.length);
    if (!was.every((b) => b === 0xff)) throw new Error(`write over programmed bytes at page ${page} offset ${offset}`);
    p.write(page, offset, data);
  };
  out.erase = (page) => {
    out.erases++;
    p.erase(page);
  };
  return out;
}

function records(pages: RamPages): string[] {
  const out: string[] = [];
  pageLog(pages).load((type, gen, data) => out.push(type + ":" + gen + ":" + text(data)));
  return out;
}

describe("page log (firmware/page-log.ts)", () => {
  it("appends in place, then turns over to the other page with the whole value, never writing over programmed bytes", () => {
    const pages = strict();
    const log = pageLog(pages);
    log.load();
    for (let i = 1; i <= 40; i++) assert.equal(log.append(1, log.gen + 1, bytes("v" + i), { type: 2, data: bytes("all" + i) }), PageLogResult.Written);
    // 16-byte records, 16 to a 256-byte page: the value went round both pages
    assert.ok(pages.erases >= 2, pages.erases + " erases");
    const got = records(pages);
    assert.equal(got[got.length - 1], "1:40:v40");
    assert.match(got[0], /^2:\d+:all\d+$/, "the current page starts with the whole value");
  });

  it("takes a region holding garbage (never formatted) as empty: the first append erases a page and the value reads back", () => {
    const pages = strict();
    for (let i = 0; i < pages.bytes.length; i++) pages.bytes[i] = (i * 37 + 11) & 255;
    const log = pageLog(pages);
    log.load();
    assert.equal(log.page, -1);
    assert.equal(log.append(1, 1, bytes("first")), PageLogResult.Written);
    assert.deepEqual(records(pages), ["1:1:first"]);
    const again = pageLog(pages);
    again.load();
    assert.equal(again.append(1, again.gen + 1, bytes("second"), { type: 2, data: bytes("whole") }), PageLogResult.Written);
    assert.deepEqual(records(pages), ["1:1:first", "1:2:second"]);
  });

  it("skips a record whose checksum fails and turns over when a header is torn unreadable", () => {
    const pages = strict();
    const log = pageLog(pages);
    log.load();
    log.append(1, 1, bytes("one"));
    log.append(1, 2, bytes("two"));
    // damage the second record's data: its checksum fails, the first is the newest
    const second = encodeRecord(1, 1, bytes("one")).length;
    pages.bytes[second + 8] &= 0x0f;
    assert.deepEqual(records(pages), ["1:1:one"]);
    // a torn header after it: not blank, not a header
    const at = second + encodeRecord(1, 2, bytes("two")).length;
    pages.bytes[at] = 0x12;
    const l2 = pageLog(pages);
    l2.load();
    assert.equal(l2.end, -1);
    assert.equal(l2.append(1, l2.gen + 1, bytes("three"), { type: 2, data: bytes("whole") }), PageLogResult.Written);
    assert.equal(l2.page, 1, "turned over");
    assert.deepEqual(records(pages), ["2:2:whole"]);
  });

  it("turns over rather than write where a torn write left bytes beyond a blank header", () => {
    const pages = strict();
    const log = pageLog(pages);
    log.load();
    log.append(1, 1, bytes("one"));
    pages.bytes[log.end + 10] = 0; // a tail left by a write cut short, its header still erased
    const l2 = pageLog(pages);
    l2.load();
    assert.equal(l2.append(1, 2, bytes("two"), { type: 2, data: bytes("whole") }), PageLogResult.Written);
    assert.equal(l2.page, 1);
    assert.deepEqual(records(pages), ["2:2:whole"]);
  });

  it("refuses a value larger than a page (Full) and a region of fewer than two pages, writing nothing", () => {
    const pages = strict(64, 2);
    const log = pageLog(pages);
    log.load();
    assert.equal(log.append(1, 1, new Uint8Array(60)), PageLogResult.Full);
    assert.ok(pages.bytes.every((b) => b === 0xff));
    const one = strict(256, 1);
    const l1 = pageLog(one);
    l1.load();
    assert.equal(l1.append(1, 1, bytes("x")), PageLogResult.Full);
    assert.ok(one.bytes.every((b) => b === 0xff));
  });

  it("says Fault when a record reads back wrong, and the value stays the previous one", () => {
    const pages = strict();
    const log = pageLog(pages);
    log.load();
    log.append(1, 1, bytes("one"));
    const bad = Object.assign(Object.create(null), pages, { write: (p: number, o: number, d: Uint8Array) => pages.write(p, o, d.map(() => 0)) }) as RamPages;
    const l2 = pageLog(bad);
    l2.load();
    assert.equal(l2.append(1, 2, bytes("two")), PageLogResult.Fault);
    assert.deepEqual(records(pages), ["1:1:one"]);
    // and a turnover's first record: the other page does not become current
    const l3 = pageLog(bad);
    l3.load();
    assert.equal(l3.append(1, 2, new Uint8Array(300), { type: 2, data: bytes("whole") }), PageLogResult.Fault);
    assert.equal(l3.page, 0, "still the page it was");
    assert.deepEqual(records(pages), ["1:1:one"]);
  });
});
