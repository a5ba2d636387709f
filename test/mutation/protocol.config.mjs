import { moduleConfig } from "./base.mjs";

// The offline checks and the codecs every party speaks. test/sync/entry.test.ts is the journal entry's codec test
// (protocol/entry.ts) written from the sync side; it is run here, not changed. test/protocol/fuzz.test.ts is left
// out: its 100,000 inputs take seconds a run (tens of seconds under Stryker's instrumentation) and cover nearly
// every mutant, which made this module's run hours long. It stays in `npm test`, and its oracles do kill mutants
// (checked by hand: docs/mutation.md); here the deterministic tests must kill them.
export default moduleConfig(
  "protocol",
  ["protocol/check.ts", "protocol/messages.ts", "protocol/entry.ts", "protocol/codec/*.ts"],
  [
    "test/protocol/check.test.ts",
    "test/protocol/codecs.test.ts",
    "test/protocol/edges.test.ts",
    "test/protocol/vectors.test.ts",
    "test/protocol/wallet.test.ts",
    "test/sync/entry.test.ts",
  ],
);
