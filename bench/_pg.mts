import { startPostgres } from "../test/helpers/postgres.ts";
const pg = await startPostgres({ settings: { fsync: "on", synchronous_commit: "off", full_page_writes: "on" } });
if (!pg) process.exit(2);
console.log(await pg.freshDatabase());
process.on("SIGTERM", () => void pg.stop().then(() => process.exit(0)));
setInterval(() => {}, 1000);
