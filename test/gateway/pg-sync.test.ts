/**
 * The PostgreSQL connection on its worker thread (gateway/pg-sync.ts): a named statement's text crosses the thread
 * once, and is held there even when the batch that carried it stopped at an error before reaching it.
 * Runs when PostgreSQL's binaries are present (test/helpers/postgres.ts), and says so when it skips.
 */
import assert from "node:assert/strict";
import { PgError, SyncPg } from "../../gateway/pg-sync.ts";
import { SKIP_NO_POSTGRES, sharedPostgres } from "../helpers/postgres.ts";

describe("gateway: PostgreSQL connection thread", () => {
  it("runs a named statement by name after the batch that carried its text failed before it", function () {
    const pg = sharedPostgres();
    if (!pg) {
      console.log("      " + SKIP_NO_POSTGRES);
      return this.skip();
    }
    const c = new SyncPg({ url: pg.url() });
    try {
      const named = { name: "t1", sql: "SELECT $1::int + 1 AS x", params: [1] };
      assert.throws(() => c.batch([{ sql: "SELECT no_such_column", params: [] }, named]), PgError);
      assert.deepEqual(c.batch([{ ...named, params: [41] }])[0].rows, [{ x: 42 }]);
      assert.deepEqual(c.batch([{ ...named, params: [1] }, { ...named, params: [2] }]).map((r) => r.rows[0].x), [2, 3]);
    } finally {
      c.close();
    }
  });
});
