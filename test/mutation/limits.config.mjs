import { moduleConfig } from "./base.mjs";

// The offline risk limits and the deny list (its codec lives in the same file).
export default moduleConfig("limits", ["firmware/app/limits.ts"], ["test/limits/*.test.ts"]);
