import { moduleConfig } from "./base.mjs";

// The offline risk limits and the deny list (its codec lives in the same file), and the record log it is saved in
// (firmware/record-log.ts, shared with the vault, the minimum firmware version and the settings; its own tests are
// test/storage/record-log*.test.ts). Two tests of deny-list.test.ts fill the 32 KB log with hundreds of one-ID saves
// (13 s together, longer instrumented, for each mutant they cover); turnover-short.test.ts tests the same turnover,
// and a power cut at each of its flash operations, with a few big saves instead.
export default moduleConfig(
  "limits",
  ["firmware/app/limits.ts", "firmware/record-log.ts"],
  ["test/limits/*.test.ts", "test/storage/record-log.test.ts", "test/storage/record-log-units.test.ts"],
  { grep: "^(?!.*(a full log turns over to the other file with the whole list|a power cut at any flash operation of a turnover leaves)).*$" },
);
