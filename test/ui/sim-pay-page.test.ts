/**
 * The terminal's invoice paid on the hosted pay page, end to end in the simulator: the terminal (the flashed bundle)
 * shows an invoice QR; a phone's browser (Chromium, Playwright) opens the pay page the QR's URL names, served by the
 * simulator's gateway; the customer pays by card; the terminal, offline, takes the paid confirmation the page shows
 * (its QR decoded by jsQR) at its scanner and shows Paid; the postings moved the money to the merchant.
 * Without Chromium the suite says it skipped.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../helpers/chromium.ts";
import { invoiceFromText, invoiceUrl } from "../../protocol/qr.ts";
import { startPageServer } from "../../sim/server.ts";
import type { PageServer } from "../../sim/server.ts";
import { decodeQrPng, loadReferenceGateway } from "../../sim/world.ts";


describe("simulator: an invoice paid on the hosted pay page (Chromium)", function () {
  this.timeout(120000);
  let browser: Browser;
  let server: PageServer;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    browser = await launchChromium();
  });
  after(async () => {
    if (server) await server.close();
    if (browser) await browser.close();
  });

  const screen = async () => ((await (await page.request.get(server.url + "state")).json()) as { screen: string[] }).screen.join(" | ");
  async function until(what: string, ok: () => Promise<boolean>, ms = 30000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok()) return;
      await page.waitForTimeout(100);
    }
    if (await ok()) return;
    assert.fail(`timed out waiting for ${what}; the terminal shows: ${await screen()}`);
  }
  async function key(k: string, then: string): Promise<void> {
    await page.click(`#keys button[data-key="${k}"]`);
    await until(then, async () => (await screen()).indexOf(then) >= 0);
  }

  it("the terminal, offline, takes the confirmation the pay page shows after a card payment, and the merchant is credited", async () => {
    server = await startPageServer({ port: 0, stateDir: null, wallClockMs: Date.UTC(2026, 10, 23, 9), provision: true, gateway: (w) => loadReferenceGateway(w) });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await until("the idle screen", async () => (await screen()).indexOf("Ready") >= 0);
    await page.request.post(server.url + "switch/wifi?on=0");
    await key("A", "Invoice QR");
    await key("3", "Invoice amount");
    await key("1", "0.01");
    await key("2", "0.12");
    await key("5", "1.25");
    await key("0", "12.50");
    await page.click(`#keys button[data-key="#"]`);
    let shown = "";
    await until("the invoice QR on the panel", async () => {
      shown = server.world.displayQr() || "";
      return "msg" in invoiceFromText(shown);
    });
    const inv = invoiceFromText(shown);
    assert.ok("msg" in inv);

    // the customer's phone opens the QR's pay page (here on the simulator's gateway) and pays by card
    const phone = await browser.newPage();
    phone.on("pageerror", (e) => errors.push(e.message));
    await phone.goto(invoiceUrl(server.url, inv.msg));
    await phone.waitForSelector("#payform:not([hidden])");
    assert.equal(await phone.textContent("#amount"), "12.50 EUR");
    await phone.fill("#number", "4242424242424242");
    await phone.fill("#expiry", "12/39");
    await phone.fill("#cvc", "123");
    await phone.click("#paycard");
    await phone.waitForSelector("#done:not([hidden])");
    const confirmation = decodeQrPng(await phone.locator("#qrimg").screenshot());
    assert.ok(confirmation && confirmation.startsWith("C1"), String(confirmation));

    // the terminal is offline: the customer shows the confirmation to its scanner
    const r = await page.request.post(server.url + "scan/text", { data: confirmation });
    assert.ok(r.ok(), await r.text());
    await until("the terminal's paid screen", async () => (await screen()).indexOf("Paid") >= 0);
    const money = (server.world.gatewayBooks()?.money ?? {}) as { merchants?: { available: number }[] };
    assert.equal(money.merchants?.[0]?.available, 1250, "the card's money reached the merchant's available balance");
    assert.deepEqual(errors, []);
    await phone.close();
  });
});
