import { moduleConfig } from "./base.mjs";

// The update installer: slot layout, slots and boot confirmation, the installer. The tests read the devkit's
// board data from dist/ (`npm run build` first).
export default moduleConfig("update", ["firmware/update/*.ts"], ["test/update/*.test.ts"], { needsBuild: true });
