import { moduleConfig } from "./base.mjs";

// The gateway's money: the books (movements of balanced postings, balances, statements), what moves what (purses,
// approvals, reversals, disputes, refunds, online payments, payouts) and the payout file. The property test runs
// with fewer random days per mutant when run as `PROPERTY_RUNS=15 npm run test:mutation -- gateway` (minutes a run).
// The reconciliation (gateway/reconcile.ts: entering, matching, sync, claims, approval, the 3-day rule) is the module
// `reconcile` (reconcile.config.mjs).
export default moduleConfig(
  "gateway",
  ["gateway/books.ts", "gateway/money.ts", "gateway/payouts.ts"],
  ["test/gateway/books.test.ts", "test/gateway/money.test.ts", "test/gateway/payouts.test.ts", "test/gateway/books-property.test.ts", "test/gateway/attacks.test.ts", "test/gateway/reconcile.test.ts"],
);
