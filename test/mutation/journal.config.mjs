import { moduleConfig } from "./base.mjs";

// The journal: the record codec and the page log of records in flash.
export default moduleConfig("journal", ["firmware/journal/record.ts", "firmware/journal/journal.ts"], ["test/journal/*.test.ts"]);
