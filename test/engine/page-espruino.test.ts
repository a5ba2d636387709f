/**
 * The page on the espruino engine (ENGINE=espruino npm start): it says which engine runs the bundle and, on the
 * interpreter, its JsVars in use, live; the panel it serves is the bridged ST7789's. Skips, saying so, without
 * ESPRUINO; on V8 the page says V8 and shows no JsVars.
 */
import assert from "node:assert/strict";
import { timedSuitesSkipped } from "../flows/engines.ts";
import { espruinoBin } from "../../sim/engine/engine.ts";
import { startPageServer } from "../../sim/server.ts";
import type { PageServer } from "../../sim/server.ts";
import { decodeQrPng } from "../../sim/world.ts";

async function getJson(url: string): Promise<Record<string, unknown>> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  return (await r.json()) as Record<string, unknown>;
}

describe("the page on either engine", function () {
  this.timeout(120000);

  it("says V8 and shows no JsVars on the V8 engine", async () => {
    const s = await startPageServer({ port: 0, stateDir: null, provision: false });
    try {
      const st = await getJson(s.url + "state");
      assert.equal(st.engine, "v8");
      assert.equal(st.jsVars, null);
    } finally {
      await s.close();
    }
  });

  it("says Espruino and shows the interpreter's JsVars in use, live, on the espruino engine (ESPRUINO=...)", async function () {
    const why = espruinoBin() ? timedSuitesSkipped() : "ESPRUINO is unset";
    if (why) {
      console.log("      skipped: " + why);
      return this.skip();
    }
    let s: PageServer | null = null;
    try {
      s = await startPageServer({ port: 0, stateDir: null, provision: false, engine: "espruino" });
      let st: Record<string, unknown> = {};
      for (let i = 0; i < 60 && !st.jsVars; i++) {
        await new Promise((r) => setTimeout(r, 250));
        st = await getJson(s.url + "state");
      }
      assert.equal(st.engine, "espruino");
      const m = st.jsVars as { usage: number; total: number };
      assert.ok(m && m.total === 16383 && m.usage > 1000, JSON.stringify(st.jsVars));
      assert.ok((st.screen as string[]).includes("NOT PROVISIONED"), "the bridged panel's text: " + JSON.stringify(st.screen));
      const png = Buffer.from(await (await fetch(s.url + "display.png")).arrayBuffer());
      assert.equal(decodeQrPng(png), null, "no QR on the idle screen");
      assert.ok(png.length > 1000, "the panel's image");
    } finally {
      if (s) await s.close();
    }
  });
});
