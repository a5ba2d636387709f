/**
 * The simulator page in a real browser: Playwright (playwright-core) drives Debian's Chromium against the page
 * server (sim/server.ts) with an in-memory world. Chromium comes from `apt-get install chromium` (.ci/run does it);
 * CHROMIUM_PATH overrides the location. Without a browser the suite is skipped with a message saying so.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../helpers/chromium.ts";
import { startPageServer } from "../../sim/server.ts";
import type { PageServer } from "../../sim/server.ts";
import { decodeQrPng, loadReferenceGateway, qrPng } from "../../sim/world.ts";
import type { PageServerOptions } from "../../sim/server.ts";
import { fixtureBundle } from "../tools/fixture.ts";
import { appBundle } from "../cli/app-bundle.ts";

/**
 * The full-payment test runs once the shipped firmware has the payment flows and the technician menu (helper E:
 * firmware/main.ts starts firmware/app/terminal.ts; provisioning goes through the menu); its sync part once the reference
 * gateway (helper C: gateway/gateway.ts) is in the tree.
 */
const MAIN = readFileSync("firmware/main.ts", "utf8");
const FLOWS = /from "\.\/app\//.test(MAIN);
const GATEWAY = existsSync("gateway/gateway.ts");


describe("simulator page in Chromium (Playwright)", function () {
  this.timeout(60000);
  let browser: Browser;
  let server: PageServer;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    browser = await launchChromium();
  });
  after(async () => {
    if (browser) await browser.close();
  });
  async function open(o: Partial<PageServerOptions> = {}): Promise<void> {
    if (server) await close();
    server = await startPageServer({ port: 0, stateDir: null, wallClockMs: Date.UTC(2026, 10, 23, 9), ...o });
    page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(server.url);
  }
  async function close(): Promise<void> {
    await page.close();
    await server.close();
    server = undefined as unknown as PageServer;
  }
  let pageErrors: string[] = [];
  beforeEach(() => {
    pageErrors = [];
    return open();
  });
  afterEach(async () => {
    if (server) await close();
    assert.deepEqual(pageErrors, [], "the page's script raised errors");
  });

  /** The RGBA pixels of an <img> on the page as the browser decoded it (reloaded from `reload` first if given). */
  async function pixels(id: string, reload?: string): Promise<{ width: number; height: number; data: number[] }> {
    // a string, so that the Node type-check needs no DOM types
    return (await page.evaluate(`(async () => {
      const img = document.getElementById(${JSON.stringify(id)});
      ${reload ? `img.src = ${JSON.stringify(reload)} + "?t=" + Date.now();` : ""}
      // the page swaps the image's src when the server pushes a new frame: a decode in flight then fails; retry
      for (let i = 0; ; i++) {
        try { await img.decode(); break; } catch (e) { if (i >= 20) throw e; await new Promise((r) => setTimeout(r, 50)); }
      }
      const c = document.createElement("canvas");
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return { width: c.width, height: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data) };
    })()`)) as { width: number; height: number; data: number[] };
  }
  const samePixels = (shown: { width: number; height: number; data: number[] }, png: Buffer) => {
    const f = PNG.sync.read(png);
    return shown.width === f.width && shown.height === f.height && shown.data.every((v, i) => v === f.data[i]);
  };
  const bodyData = async (k: string) => Number(await page.evaluate(`document.body.dataset.${k} || 0`));

  const screen = async () => ((await (await page.request.get(server.url + "state")).json()) as { screen: string[] }).screen.join(" | ");
  /**
   * Waits for a state, never for a time: `ms` is only how long to give up after (generous, for a slow CI machine
   * with other work on its two cores).
   */
  async function until(what: string, ok: () => Promise<boolean>, ms = 20000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok()) return;
      await page.waitForTimeout(100);
    }
    if (await ok()) return;
    assert.fail(`timed out waiting for ${what}; the terminal shows: ${await screen()}`);
  }
  /**
   * Types an amount digit by digit (clicking the page's keypad, or on the computer's keyboard), each time waiting
   * until the terminal shows the amount so far: the next key goes only once the firmware has taken the last one.
   */
  async function typeAmount(digits: string, via: "click" | "keyboard" = "click"): Promise<void> {
    for (let i = 0; i < digits.length; i++) {
      const k = digits[i];
      if (via === "click") await page.click(`#keys button[data-key="${k}"]`);
      else await page.keyboard.press(k);
      const shown = (Number(digits.slice(0, i + 1)) / 100).toFixed(2);
      await until(`the amount ${shown} after key ${k}`, async () => (await screen()).indexOf(shown) >= 0);
    }
  }

  it("shows the panel as the emulated display holds it, and the keypad's clicks reach the firmware", async () => {
    await until("the idle screen", async () => (await screen()).length > 0);
    await typeAmount("420");
    // The page's picture of the panel is the emulator's frame, pixel for pixel.
    // (a string, so that the Node type-check needs no DOM types)
    const shown = (await page.evaluate(`(async () => {
      const img = document.getElementById("screen");
      img.src = "/display.png?t=" + Date.now();
      // the page swaps the image's src when the server pushes a new frame: a decode in flight then fails; retry
      for (let i = 0; ; i++) {
        try { await img.decode(); break; } catch (e) { if (i >= 20) throw e; await new Promise((r) => setTimeout(r, 50)); }
      }
      const c = document.createElement("canvas");
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return Array.from(g.getImageData(0, 0, c.width, c.height).data.slice(0, 4 * 240 * 40));
    })()`)) as number[];
    const frame = PNG.sync.read(server.world.displayPng());
    assert.deepEqual(shown, Array.from(frame.data.subarray(0, 4 * 240 * 40)));
  });

  it("redraws the panel when the server pushes a new frame (no polling): the page then shows the emulator's pixels", async () => {
    await until("the idle screen", async () => (await screen()).length > 0);
    await until("the first frame pushed", async () => (await bodyData("display")) > 0);
    const before = await bodyData("display");
    await page.keyboard.press("9");
    await until("a new frame pushed after the key", async () => (await bodyData("display")) > before);
    await until("the page's panel equal to the emulated panel, pixel for pixel", async () => samePixels(await pixels("screen"), server.world.displayPng()));
    assert.ok((await screen()).indexOf("0.09") >= 0);
  });

  it("shows the printer's paper roll as it prints: a provisioning receipt from the Provision button (technician console)", async () => {
    await open({ bundle: await fixtureBundle() });
    await until("the fixture up", async () => server.world.host.output.some((l) => l.indexOf("fixture up") >= 0));
    await page.click("#prov");
    await until("the provisioning result", async () => /terminal 7 of merchant 42/.test((await page.textContent("#swmsg")) || ""), 20000);
    await until("one receipt on the roll", async () => ((await page.textContent("#receipts")) || "") === "1 receipt");
    assert.match(server.world.paperText(), /TERMINAL PROVISIONED/);
    await until("the page's roll equal to the printer's, pixel for pixel", async () => samePixels(await pixels("paper"), server.world.paperPng()));
    const last = await page.request.get(server.url + "receipt/last.png");
    assert.equal(last.status(), 200);
    assert.ok(samePixels(await pixels("paper", "/receipt/last.png"), Buffer.from(await last.body())));
  });

  it("takes the computer's keyboard as the keypad", async () => {
    await until("the idle screen", async () => (await screen()).length > 0);
    await typeAmount("75", "keyboard");
  });

  it("opens a customer wallet on the phone, and the switches reach the world (Wi-Fi, paper, power)", async () => {
    await page.click("#wcreate");
    await until("the wallet's allowance", async () => ((await page.textContent("#winfo")) || "").indexOf("allowance 200.00") >= 0);
    assert.match((await page.textContent("#winfo")) || "", /balance \(no gateway\)/);
    await page.uncheck("#swwifi");
    await until("Wi-Fi off", async () => !server.world.host.wifiWorld.enabled);
    await page.uncheck("#swgw");
    await until("the gateway unreachable", async () => !server.world.gatewayReachable);
    await until("the status line saying so", async () => /gateway unreachable/.test((await page.textContent("#status")) || ""));
    await page.click("#ff1");
    await until("the clock a day later", async () => server.world.now() >= Date.UTC(2026, 10, 24, 9));
    await page.check("#swpaper");
    await until("paper out", async () => server.world.host.printer.paperOut);
    await page.click("#pcut");
    await until("power off", async () => !server.world.host.poweredOn);
    await page.click("#pon");
    await until("power on and idle again", async () => server.world.host.poweredOn && (await screen()).length > 0);
  });

  it("feeds a dropped QR image to the scanner as the module would send it", async () => {
    const { qrPng } = await import("../../sim/world.ts");
    const png = qrPng("HELLO SCANNER");
    assert.equal(decodeQrPng(png), "HELLO SCANNER");
    const sent = recordScanner();
    await page.setInputFiles("#scanfile", { name: "code.png", mimeType: "image/png", buffer: png });
    await until("the scanner's read", async () => ((await page.textContent("#scanmsg")) || "").indexOf("HELLO SCANNER") >= 0);
    // What the GM65 put on its UART: the code's bytes and the CR tail the firmware configured, nothing else.
    await until("the module's bytes", async () => sent().indexOf("\r") >= 0);
    assert.equal(sent(), "HELLO SCANNER\r");
  });

  /** Everything the emulated scanner sends the bundle from now on, as a binary string. */
  function recordScanner(): () => string {
    let got = "";
    const port = server.world.board.wiring.scanner.port;
    server.world.host.addPartListener((p, b) => {
      if (p === port) got += Buffer.from(b).toString("latin1");
    });
    return () => got;
  }

  it("reads a QR code held up to the computer's camera (decoded in the browser by jsQR) and the scanner sends its bytes", async () => {
    // Chromium's fake camera plays a Y4M file: one frame with a QR code on a white background.
    const text = "CAMERA 1234 QR";
    const dir = mkdtempSync(join(tmpdir(), "sim-cam-"));
    const file = join(dir, "qr.y4m");
    writeFileSync(file, y4mOf(qrPng(text, 1), 640, 480));
    const camBrowser = await launchChromium(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-video-capture=" + file]);
    try {
      const cam = await camBrowser.newPage();
      cam.on("pageerror", (e) => pageErrors.push(e.message));
      await cam.goto(server.url);
      const sent = recordScanner();
      await cam.click("#cambtn");
      await until("the camera's read", async () => ((await cam.textContent("#scanmsg")) || "").indexOf("camera read: " + text) >= 0);
      await until("the module's bytes", async () => sent().indexOf("\r") >= 0);
      assert.equal(sent().split("\r")[0], text);
      await cam.click("#camstop");
      assert.equal(await cam.evaluate("document.body.dataset.camera"), "off");
      await cam.close();
    } finally {
      await camBrowser.close();
    }
  });

  it("pays an invoice the terminal shows online from the phone, which shows the relayed paid confirmation to the scanner", async function () {
    if (!FLOWS || !GATEWAY) {
      console.log("      (skipped: needs the terminal application and the reference gateway)");
      this.skip();
    }
    await open({ provision: true, gateway: (w) => loadReferenceGateway(w) });
    await until("the idle screen", async () => (await screen()).indexOf("Ready") >= 0);
    await page.click(`#keys button[data-key="A"]`);
    await until("the menu", async () => (await screen()).indexOf("Invoice QR") >= 0);
    await page.click(`#keys button[data-key="3"]`);
    await until("the invoice amount screen", async () => (await screen()).indexOf("Invoice amount") >= 0);
    await typeAmount("990");
    await page.click(`#keys button[data-key="#"]`);
    await until("the invoice QR on the panel", async () => (server.world.displayQr() || "").indexOf("/pay#") > 0);
    await page.click("#wcreate");
    await page.click("#paidconf");
    await until("the paid confirmation on the phone", async () => (await page.getAttribute("#phoneqr", "data-ready")) === "1");
    assert.match(decodeQrPng(await page.locator("#phoneqr").screenshot()) || "", /^C1/);
    await until("the terminal's paid screen", async () => (await screen()).indexOf("Paid") >= 0);
    await until("the wallet's online balance less the invoice", async () => ((await page.textContent("#winfo")) || "").indexOf("balance 990.10") >= 0);
  });

  it("takes a full offline payment (request QR on the panel, the phone pays, the scanner reads it, the receipt's QR decodes) and syncs it", async function () {
    // The shipped bundle once firmware/main.ts starts the application; until then the application compiled alone.
    const bundle = FLOWS ? undefined : await appBundle();
    if (!FLOWS && !bundle) {
      console.log("      (skipped: the terminal application, firmware/app/terminal.ts, is not in the tree; the tests above cover boot, keypad, panel and printer)");
      this.skip();
    }
    this.timeout(120000);
    await open({ bundle: bundle ?? undefined, provision: true, gateway: GATEWAY ? (w) => loadReferenceGateway(w) : undefined });
    assert.ok(server.world.provisioned, "the terminal was provisioned at start");
    await until("the idle screen", async () => (await screen()).length > 0);
    const receiptsBefore = server.world.receiptPngs().length;
    const qrsBefore = server.world.printedQrs().length;
    await page.uncheck("#swwifi"); // offline
    await until("Wi-Fi off", async () => !server.world.host.wifiWorld.enabled);
    await typeAmount("1250");
    await page.click(`#keys button[data-key="#"]`);
    await until("a payment request QR on the panel", async () => server.world.displayQr() !== null, 30000);
    // What the page shows decodes to what the panel holds: a screenshot of the page's panel, read by jsQR.
    assert.equal(decodeQrPng(await page.locator("#screen").screenshot()), server.world.displayQr());
    await page.click("#wcreate");
    await page.click("#paycam");
    await until("the payment QR on the phone", async () => (await page.getAttribute("#phoneqr", "data-ready")) === "1", 30000);
    const paymentShown = decodeQrPng(await page.locator("#phoneqr").screenshot());
    assert.ok(paymentShown && paymentShown.startsWith("P2"), "the phone's QR is a payment");
    await page.click("#payshow");
    await until("the receipt", async () => server.world.receiptPngs().length > receiptsBefore, 30000);
    // a job counts from its first line: wait until the printer has finished it (the terminal says so)
    await until("the receipt printed to its end", async () => (await screen()).indexOf("Receipt printed") >= 0, 60000);
    assert.ok(server.world.printedQrs().length > qrsBefore, "the receipt has a QR");
    // The receipt as the page serves it, screenshotted in the browser: its QR is the signed receipt.
    const shot = await browser.newPage({ viewport: { width: 600, height: 2400 } }); // tall enough not to scale the roll
    await shot.goto(server.url + "receipt/last.png");
    const shotPng = await shot.screenshot({ fullPage: true });
    const receiptQr = decodeQrPng(shotPng);
    await shot.close();
    const printed = server.world.printedQrs();
    assert.equal(receiptQr, printed[printed.length - 1]);
    const wallet = server.world.walletInfo("customer");
    assert.equal(wallet.spentMinor, 1250);
    // The phone reads the receipt (it keeps the transaction ID a fraud claim names).
    await page.click("#scanreceipt");
    await until("the phone's receipt check", async () => /receipt .* kept/.test((await page.textContent("#phonemsg")) || ""));
    if (!GATEWAY) {
      console.log("      (sync part skipped: the reference gateway, gateway/gateway.ts, has not landed)");
      return;
    }
    const ledgerRows = () => {
      const l = server.world.gatewayBooks()?.ledger;
      return Array.isArray(l) ? l.length : l && typeof l === "object" ? (Object.values(l).find(Array.isArray) as unknown[] | undefined)?.length ?? 0 : 0;
    };
    const before = ledgerRows();
    await page.check("#swwifi");
    await until("the payment in the gateway's ledger after Wi-Fi is back", async () => ledgerRows() > before, 60000);
    await until("the gateway panel shows the payment", async () => (await page.locator("#gw table.tx tr", { hasText: "12.50 EUR" }).count()) > 0);
    await until("the wallet's online balance from the gateway", async () => /balance \d+\.\d\d/.test((await page.textContent("#winfo")) || ""));
    await page.click("#claim");
    await until("the fraud claim's answer", async () => /claim sent/.test((await page.textContent("#phonemsg")) || ""));
  });
});

/** A one-frame Y4M video (4:2:0) of a PNG scaled to fit `width` x `height`, centred on white: Chromium's fake camera. */
function y4mOf(png: Buffer, width: number, height: number): Buffer {
  const img = PNG.sync.read(png);
  const k = Math.max(1, Math.floor(Math.min((width * 0.8) / img.width, (height * 0.8) / img.height)));
  const x0 = Math.floor((width - img.width * k) / 2);
  const y0 = Math.floor((height - img.height * k) / 2);
  const y = Buffer.alloc(width * height, 235);
  for (let j = 0; j < img.height * k; j++)
    for (let i = 0; i < img.width * k; i++) {
      const s = (Math.floor(j / k) * img.width + Math.floor(i / k)) * 4;
      y[(y0 + j) * width + x0 + i] = img.data[s] < 128 ? 16 : 235;
    }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\n`), Buffer.from("FRAME\n"), y, chroma]);
}
