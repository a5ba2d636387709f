/**
 * The gateway's public face: what the simulator, the tools and an operator's own code use. Importing it has no side
 * effects; the modules behind it are the gateway's own business.
 *
 *   import { Gateway, SqliteStore, MovableClock } from "../gateway/index.ts";
 *   const gw = new Gateway({ store: new SqliteStore(":memory:"), clock: new MovableClock() });
 */
export { Gateway, GatewayError, DAY_MS, DEFAULT_LIMITS, money, walletRequestBytes } from "./gateway.ts";
export type { GatewayOptions, GatewayRequest, GatewayResponse, MerchantSpec, PaidResult, PayOnline, TerminalSpec, WalletSpec, WalletReport, WalletSynced } from "./gateway.ts";
export { HOLD_MS } from "../protocol/rules.ts";
export { SqliteStore, openSqliteStore } from "./sqlite-store.ts";
export type { GatewayStore, LedgerRow, FlagRow, SmsRow, WalletRow } from "./store.ts";
export { MovableClock, systemClock } from "./clock.ts";
export type { GatewayClock } from "./clock.ts";
export { Issuer, publicKeyOf } from "./issuer.ts";
