import { moduleConfig } from "./base.mjs";

// The offline checks and the codecs every party speaks. test/sync/entry.test.ts is the journal entry's codec test
// (protocol/entry.ts) written from the sync side; it is run here, not changed.
export default moduleConfig(
  "protocol",
  ["protocol/check.ts", "protocol/messages.ts", "protocol/entry.ts", "protocol/codec/*.ts"],
  ["test/protocol/*.test.ts", "test/sync/entry.test.ts"],
);
