import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every .ts file under a folder. */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Import specifiers of a file, resolved against the repository root. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const src = readFileSync(file, "utf8");
  const out: { spec: string; typeOnly: boolean }[] = [];
  const re = /^\s*import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    const spec = m[2];
    const resolved = spec.startsWith(".") ? relative(".", join(file, "..", spec)) : spec;
    out.push({ spec: resolved, typeOnly: !!m[1] });
  }
  return out;
}

function violations(dir: string, forbidden: (spec: string, typeOnly: boolean) => boolean): string[] {
  const bad: string[] = [];
  for (const f of files(dir)) for (const i of imports(f)) if (forbidden(i.spec, i.typeOnly)) bad.push(`${f} imports ${i.spec}`);
  return bad;
}

describe("layers", () => {
  it("firmware/ never reaches a driver, an Espruino binding, a board, the simulator or Node", () => {
    const bad = violations("firmware", (s) => s.startsWith("hal/drivers") || s.startsWith("hal/espruino") || s.startsWith("boards") || s.startsWith("sim") || s.startsWith("node:"));
    assert.deepEqual(bad, []);
  });

  it("hal/ never reaches the firmware, a board or the simulator", () => {
    const bad = violations("hal", (s) => s.startsWith("firmware") || s.startsWith("boards") || s.startsWith("sim") || s.startsWith("node:"));
    assert.deepEqual(bad, []);
  });

  it("hal/ drivers never reach Espruino bindings (they are handed their transports)", () => {
    const bad = violations("hal/drivers", (s) => s.startsWith("hal/espruino"));
    assert.deepEqual(bad, []);
  });

  it("boards/ never reach the firmware or the simulator", () => {
    const bad = violations("boards", (s) => s.startsWith("firmware") || s.startsWith("sim") || s.startsWith("node:"));
    assert.deepEqual(bad, []);
  });

  it("Node-side code (tests, benches, tools, simulator) takes a board's data file, never the board with its bindings", () => {
    const bindings = (s: string) => s.startsWith("boards/") && s !== "boards/board.ts" && !s.endsWith("-data.ts");
    const bad = ["test", "bench", "tools", "sim"].flatMap((d) => violations(d, (s, typeOnly) => !typeOnly && bindings(s)));
    assert.deepEqual(bad, []);
  });

  it("protocol/ reaches nothing above it but the hal's interfaces (crypto, secure element, Bluetooth), and no Node", () => {
    const allowed = new Set(["hal/crypto.ts", "hal/secure-element.ts", "hal/ble.ts"]);
    const bad = violations("protocol", (s) => (!s.startsWith("protocol") && !allowed.has(s)) || s.startsWith("node:"));
    assert.deepEqual(bad, []);
  });

  it("nothing outside sim/, bench/ and test/ imports sim/", () => {
    const bad = ["firmware", "protocol", "hal", "boards", "gateway", "sdk", "tools"].flatMap((d) => violations(d, (s) => s.startsWith("sim/")));
    assert.deepEqual(bad, []);
  });

  it("sdk/ and gateway/ never import firmware/", () => {
    const bad = ["sdk", "gateway"].flatMap((d) => violations(d, (s) => s.startsWith("firmware/")));
    assert.deepEqual(bad, []);
  });

  it("the simulator takes the gateway through its public face (gateway/index.ts), with its types", () => {
    const bad = violations("sim", (s) => s.startsWith("gateway/") && s !== "gateway/index.ts");
    assert.deepEqual(bad, []);
    const src = files("sim").map((f) => readFileSync(f, "utf8")).join("\n");
    assert.ok(!/import\([^)]*gateway/.test(src), "no dynamic import of the gateway by path");
  });

  it("tools/ sign with node:crypto, never with an emulator or a simulated part", () => {
    const bad = violations("tools", (s) => s.startsWith("sim/") || s.includes("peripherals") || s.includes("emulator"));
    assert.deepEqual(bad, []);
  });

  it("the checker itself finds a forbidden import", () => {
    const found = imports("boards/devkit.ts").map((i) => i.spec);
    assert.ok(found.includes("hal/espruino/io.ts"), found.join(","));
  });
});
