/**
 * The store a database argument names: a postgres:// (or postgresql://) URL opens PostgreSQL (gateway/pg-store.ts),
 * anything else is a SQLite file (":memory:" for a throwaway one).
 *
 *   const store = openStore(process.env.GATEWAY_DB ?? "gateway.db");
 */
import { isPgUrl, openPgStore } from "./pg-store.ts";
import { openSqliteStore } from "./sqlite-store.ts";
import type { GatewayStore } from "./store.ts";

export function openStore(db: string): GatewayStore {
  return isPgUrl(db) ? openPgStore(db) : openSqliteStore(db);
}
