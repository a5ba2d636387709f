/**
 * npm start: the simulator in real time, with a page on localhost showing the terminal as a merchant sees it (the
 * panel as the emulated ST7789 holds it, a clickable keypad and the computer's keyboard, the paper roll), the
 * scanner, a customer's phone, switches for Wi-Fi, gateway, power, paper and clock, and the gateway's books.
 * The device's flash, secure element, issuer and wallets persist in .sim-state/ between runs.
 *
 *   PORT=8080 BOARD=devkit SIM_STATE=.sim-state/devkit SIM_PROVISION=1 npm start
 */
import { fileURLToPath } from "node:url";
import { startPageServer } from "./server.ts";
import { loadReferenceGateway } from "./world.ts";
import { engineFromEnv } from "./engine/engine.ts";

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT || 8080);
  const log = (l: string) => console.log(l);
  startPageServer({
    port,
    board: process.env.BOARD || "devkit",
    // ENGINE=espruino: the bundle on the real interpreter named by ESPRUINO (sim/engine/), else Node's V8
    engine: engineFromEnv(),
    stateDir: process.env.SIM_STATE || undefined,
    // The reference gateway when it is in the tree; the page's gateway panel shows its books.
    gateway: (w) =>
      loadReferenceGateway(w).catch((e) => {
        log("[sim] no gateway: " + (e instanceof Error ? e.message : String(e)));
        return null;
      }),
    // A terminal as a merchant has it: provisioned (once; the state dir keeps it).
    provision: process.env.SIM_PROVISION !== "0",
    log,
  }).then(
    (s) => {
      console.log(`Simulator (${s.world.board.name}, firmware ${s.world.board.version}, engine ${s.world.engine}) running at ${s.url}`);
      // Ctrl-C, `kill`, a closed terminal: stop the world (on the interpreter engine its child process too) and
      // exit; a second signal exits at once. npm's start script `exec`s tsx, so the signal reaches this process.
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(1);
        stopping = true;
        s.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, stop);
    },
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
