/**
 * `npm start` stopped with SIGTERM (a process manager, `kill`, a CI job's end) leaves no process behind: npm, the
 * shell of its script, tsx, the simulator's Node and whatever they started are all gone. Only the PIDs this test
 * started (npm and its descendants, read from /proc) are looked at and, if the test fails, killed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PIDs whose parent is `pid`, and theirs, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p && !out.includes(c)) out.push(c), walk(c);
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    // a zombie is dead: only its parent has not read its status yet
    return existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("npm start and SIGTERM", function () {
  this.timeout(240000);
  for (const engine of ["v8", "espruino"]) {
    it(`leaves no process behind when npm start gets SIGTERM (${engine} engine${engine === "espruino" ? ": the interpreter's process too" : ""})`, async function () {
      if (process.platform !== "linux") this.skip();
      if (engine === "espruino" && !process.env.ESPRUINO) {
        console.log("      (skipped: ESPRUINO is not set)");
        this.skip();
      }
      const state = mkdtempSync(join(tmpdir(), "sim-start-"));
      const npm = spawn("npm", ["start"], { env: { ...process.env, PORT: "0", SIM_STATE: state, SIM_PROVISION: "0", ENGINE: engine === "v8" ? "" : engine }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      npm.stdout.on("data", (b: Buffer) => (out += b.toString()));
      npm.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const exited = new Promise<void>((r) => npm.on("exit", () => r()));
      let tree: number[] = [];
      try {
        const end = Date.now() + 200000;
        while (!/running at http/.test(out)) {
          if (Date.now() > end || npm.exitCode !== null) assert.fail("npm start did not start the simulator: " + out.slice(-2000));
          await new Promise((r) => setTimeout(r, 200));
        }
        tree = descendants(npm.pid as number);
        assert.ok(tree.length >= 2, "npm start runs the simulator in a child process: " + tree.join(" "));
        if (engine === "espruino") {
          const cmd = (p: number) => readFileSync(`/proc/${p}/cmdline`, "utf8");
          assert.ok(tree.some((p) => cmd(p).indexOf(process.env.ESPRUINO as string) >= 0 || /espruino/.test(cmd(p).split("\0")[0])), "the interpreter runs as a child: " + tree.map(cmd).join(" | "));
        }
        npm.kill("SIGTERM");
        await exited;
        const gone = Date.now() + 15000;
        while (tree.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
        const left = tree.filter(alive).map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ")}`);
        assert.deepEqual(left, [], "processes left after SIGTERM");
      } finally {
        for (const p of [npm.pid as number, ...tree]) if (alive(p)) process.kill(p, "SIGKILL");
        rmSync(state, { recursive: true, force: true });
      }
    });
  }
});
