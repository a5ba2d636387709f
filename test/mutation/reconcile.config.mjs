import { moduleConfig } from "./base.mjs";

// The gateway's reconciliation (gateway/reconcile.ts): entering a verified journal entry (double spending, the
// allowance's cap, the hold), matching it with the payer's wallet sync, the payer's evidence and fraud claims,
// disputes, approval and the 3-day rule. Against the gateway tests that exercise it, each about a second a run
// (the HTTP tour, the property test and the PostgreSQL faults are left out: seconds a run, or a database).
export default moduleConfig(
  "reconcile",
  ["gateway/reconcile.ts"],
  [
    "test/gateway/reconcile.test.ts",
    "test/gateway/reconcile-units.test.ts",
    "test/gateway/attacks.test.ts",
    "test/gateway/upload.test.ts",
    "test/gateway/money.test.ts",
    "test/gateway/payouts.test.ts",
    "test/gateway/invoices.test.ts",
    "test/gateway/http.test.ts",
    "test/gateway/sms-rules.test.ts",
    "test/gateway/e2e.test.ts",
    "test/gateway/order-callbacks.test.ts",
  ],
);
