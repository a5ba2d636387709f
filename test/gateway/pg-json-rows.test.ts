/**
 * An upload's rows go to PostgreSQL as one JSON text a table (gateway/pg-store.ts, jsonRows; docs/gateway.md,
 * ingest at the limit, fifth pass). A lone UTF-16 surrogate in a string, which the driver's text encoding made
 * U+FFFD before, must not make PostgreSQL refuse the text: it is stored as U+FFFD still. The PostgreSQL part runs
 * when its binaries are present (test/helpers/postgres.ts), and says so when it skips.
 */
import assert from "node:assert/strict";
import { jsonRows } from "../../gateway/pg-store.ts";
import { SyncPg } from "../../gateway/pg-sync.ts";
import { SKIP_NO_POSTGRES, sharedPostgres } from "../helpers/postgres.ts";

const rows = [
  { id: 1, text: "plain", n: 12 },
  { id: 2, text: "lone high \ud800 and low \udc00 surrogates", n: null },
  { id: 3, text: "a pair \ud83d\ude00 stays, as does a backslash-u text: \\ud800", n: -5 },
];

describe("gateway: an upload's rows as JSON text for PostgreSQL", () => {
  it("is JSON.stringify's text, lone surrogates made U+FFFD", () => {
    assert.equal(jsonRows([{ a: "x", b: 1 }]), JSON.stringify([{ a: "x", b: 1 }]));
    const back = JSON.parse(jsonRows(rows)) as typeof rows;
    assert.equal(back[0].text, "plain");
    assert.equal(back[1].text, "lone high \ufffd and low \ufffd surrogates");
    assert.equal(back[2].text, rows[2].text);
    assert.deepEqual(back.map((r) => r.n), [12, null, -5]);
  });

  it("is taken by PostgreSQL's json_to_recordset in order, as the text the driver stored before", function () {
    const pg = sharedPostgres();
    if (!pg) {
      console.log("      " + SKIP_NO_POSTGRES);
      return this.skip();
    }
    const c = new SyncPg({ url: pg.url() });
    try {
      const r = c.batch([{ sql: "SELECT u.id, u.text, u.n FROM ROWS FROM (json_to_recordset($1::json) AS (id int8, text text, n int8)) WITH ORDINALITY AS u(id, text, n, ord) ORDER BY u.ord", params: [jsonRows(rows)] }])[0].rows;
      assert.deepEqual(r.map((x) => x.id), [1, 2, 3]);
      // what the driver stored when it sent the string as text: lone surrogates as U+FFFD
      const sent = c.batch([{ sql: "SELECT $1::text AS t", params: [rows[1].text] }])[0].rows[0].t;
      assert.equal(r[1].text, sent);
      assert.equal(r[2].text, rows[2].text);
      assert.deepEqual(r.map((x) => x.n), [12, null, -5]);
    } finally {
      c.close();
    }
  });
});
