import assert from "node:assert/strict";
import net from "node:net";
import { SimHost } from "../../sim/host.ts";
import { consoleHostOptions, startTcpConsole } from "../../sim/tcp-console.ts";
import type { TcpConsole } from "../../sim/tcp-console.ts";
import { loadBoardDef } from "../../tools/common.ts";
import { espruinoBoardJson, openLink } from "../../tools/link.ts";
import { boardData } from "../update/helpers.ts";

/** A simulated devkit with `bundle` as what boots, on a TCP console. */
export async function simDevice(bundle: string): Promise<{ host: SimHost; con: TcpConsole }> {
  const opts = consoleHostOptions();
  const host = new SimHost({ board: boardData(), bundle, ...opts });
  const con = await startTcpConsole({ host, bindGlobals: opts.bind });
  host.boot();
  return { host, con };
}

/** Raw console exchange: send each chunk, give the device a moment, return all it said. */
function rawExchange(port: number, chunks: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = "";
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", reject);
    let i = 0;
    const next = () => {
      if (i === chunks.length) {
        s.end();
        setTimeout(() => resolve(got), 50);
        return;
      }
      s.write(chunks[i++]);
      setTimeout(next, 60);
    };
    s.on("connect", next);
  });
}

describe("sim TCP console", function () {
  this.timeout(20000);
  let dev: { host: SimHost; con: TcpConsole } | null = null;
  afterEach(async () => {
    if (dev) await dev.con.close();
    dev = null;
  });

  it("echoes input and prints results as Espruino's REPL does", async () => {
    dev = await simDevice("");
    const got = await rawExchange(dev.con.port, ["1+2\n", "\x10var x=5\n", "x\n", "(1+\n", "2)\n", "\n"]);
    assert.equal(got, "1+2\r\n=3\r\n>x\r\n=5\r\n>(1+\r\n:2)\r\n=3\r\n>\r\n>");
  });

  it("answers EspruinoTools over tcp:// with process.env as an ESP32 reports it", async () => {
    dev = await simDevice("");
    const link = await openLink({ port: dev.con.url, board: espruinoBoardJson(await loadBoardDef("devkit")) });
    try {
      const env = JSON.parse(await link.expr("process.env"));
      assert.equal(env.BOARD, "ESP32");
      assert.equal(env.VERSION, "2v29");
    } finally {
      await link.close();
    }
  });

  it("writes Storage files through EspruinoTools' upload code", async () => {
    dev = await simDevice("");
    const link = await openLink({ port: dev.con.url, board: espruinoBoardJson(await loadBoardDef("devkit")) });
    try {
      const text = "hello storage ".repeat(60);
      for (const l of link.uploadLines("t.txt", text)) assert.equal(await link.expr(l), "true");
      assert.equal(dev.host.storage.read("t.txt"), text);
    } finally {
      await link.close();
    }
  });

  it("evaluates nothing once the firmware has detached the console, and hands the bytes to Serial1", async () => {
    dev = await simDevice('E.setConsole(null,{force:true}); var seen=""; Serial1.on("data", function(d){ seen+=d; });');
    const got = await rawExchange(dev.con.port, ["1+2\n"]);
    assert.equal(got, "");
    assert.equal(dev.host.evalInDevice("seen").ok && (dev.host.evalInDevice("seen") as { value: unknown }).value, "1+2\n");
  });

  it("evaluates nothing while the console is locked with a password", async () => {
    dev = await simDevice('E.setPassword("1234"); E.lockConsole(); var x = 1;');
    const got = await rawExchange(dev.con.port, ["x=2\n"]);
    assert.equal(got, "");
    assert.deepEqual(dev.host.evalInDevice("x"), { ok: true, value: 1 });
  });

  it("load() boots the saved .bootcde", async () => {
    dev = await simDevice("");
    await rawExchange(dev.con.port, ['\x10require("Storage").write(".bootcde","var booted=42;")\n', "load()\n"]);
    const r = dev.host.evalInDevice("booted");
    assert.deepEqual(r, { ok: true, value: 42 });
  });
});
