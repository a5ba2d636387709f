import { moduleConfig } from "./base.mjs";

// The secrets vault: its sealed record log, the older firmware's files it still reads, and the PIN hash.
export default moduleConfig("vault", ["firmware/vault.ts"], ["test/vault/*.test.ts", "test/security/pin-hash.test.ts"], {
  needsBuild: true, // test/vault reads the devkit board data from dist/ (`npm run build` first)
});
