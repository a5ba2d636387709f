/**
 * The hosted pay page in Chromium (Playwright), served by a real gateway (`startGatewayServer`) on loopback: what a
 * phone camera opens from a terminal's invoice QR. Card approved, declined, insufficient funds, expired; 3-D Secure
 * completed and abandoned; a wallet held by the browser pays. The page's paid confirmation QR decodes (jsQR) to the
 * issuer-signed confirmation an offline terminal accepts, and the postings moved the money.
 * Chromium comes from Debian (`.ci/run` installs it; CHROMIUM_PATH overrides); without it the suite says it skipped.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../helpers/chromium.ts";
import { startGatewayServer } from "../../gateway/server.ts";
import type { GatewayServer } from "../../gateway/server.ts";
import { invoiceUrl } from "../../protocol/qr.ts";
import { fromQrText } from "../../protocol/qr.ts";
import { decodePaid } from "../../protocol/messages.ts";
import { decodeQrPng } from "../../sim/world.ts";
import { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";


describe("hosted pay page in Chromium (Playwright)", function () {
  this.timeout(60000);
  let browser: Browser;
  let gw: GatewayServer;
  let dir = "";
  let terminal: SoftTerminal;
  let merchantId = 0;
  let invoiceNo = 0;
  const pageErrors: string[] = [];

  before(async function () {
    skipWithoutChromium(this);
    dir = mkdtempSync(join(tmpdir(), "paypage-"));
    gw = await startGatewayServer({ port: 0, dbPath: join(dir, "gw.db"), gateway: { adminToken: "adm", verifyThreads: 0 } });
    const m = gw.gateway.registerMerchant({ name: "Cafe Blue" });
    merchantId = m.merchantId;
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: gw.gateway.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const t = gw.gateway.registerTerminal({ merchantId, publicKey: probe.publicKey });
    terminal = new SoftTerminal({ terminalId: t.terminalId, privateKey: probe.privateKey, linkPublicKey: gw.gateway.linkPublicKey, send: probe.send });
    browser = await launchChromium();
  });
  after(async () => {
    if (browser) await browser.close();
    if (gw) await gw.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(pageErrors.splice(0), [], "no script errors on the page"));

  /** Opens the pay page as the invoice QR's URL does, for a fresh invoice of `amount`. */
  async function open(amount: number, init?: () => void, arg?: unknown): Promise<Page> {
    const page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    if (init) await page.addInitScript(init as (a: unknown) => void, arg);
    const url = invoiceUrl(gw.url, terminal.invoice(++invoiceNo, amount));
    assert.ok(url.startsWith(gw.url + "/pay#"), url);
    await page.goto(url);
    await page.waitForSelector("#payform:not([hidden])");
    return page;
  }

  async function payCard(page: Page, number: string, tab: "card" | "debit" = "card", expiry = "12/39"): Promise<void> {
    if (tab === "debit") await page.click("#t-debit");
    await page.fill("#number", number);
    await page.fill("#expiry", expiry);
    await page.fill("#cvc", "123");
    await page.click("#paycard");
  }

  /** The confirmation QR on the page, decoded from a screenshot: the issuer-signed PaidConfirmation. */
  async function confirmation(page: Page) {
    await page.waitForSelector("#done:not([hidden])");
    const png = await page.locator("#qrimg").screenshot();
    const text = decodeQrPng(png);
    assert.ok(text && text.startsWith("C1"), "the page's QR decodes to a paid confirmation: " + text);
    const m = fromQrText(text);
    assert.ok(!("err" in m));
    return decodePaid(m.msg)!;
  }

  it("shows the merchant and the amount, takes a card, and shows the paid confirmation as a QR a terminal accepts", async () => {
    const page = await open(1250);
    assert.equal(await page.textContent("#merchant"), "Cafe Blue");
    assert.equal(await page.textContent("#amount"), "12.50 EUR");
    await payCard(page, "4242 4242 4242 4242");
    const c = await confirmation(page);
    assert.equal(c.amountMinor, 1250);
    assert.equal(c.terminalId, terminal.terminalId);
    assert.equal(c.method, 1);
    assert.equal(gw.gateway.merchantBalances(merchantId).available, 1250, "the postings moved the money");
    await page.close();
  });

  it("takes a debit card as a debit card", async () => {
    const page = await open(800);
    await payCard(page, "4000 0566 5566 5556", "debit");
    assert.equal((await confirmation(page)).method, 2);
    await page.close();
  });

  for (const [number, code, words] of [
    ["4000 0000 0000 0002", "CARD_DECLINED", "declined"],
    ["4000 0000 0000 9995", "INSUFFICIENT_FUNDS", "Insufficient funds"],
    ["4000 0000 0000 0069", "CARD_EXPIRED", "expired"],
  ]) {
    it("says why test card " + number + " was refused (" + code + ") and lets the customer try another card", async () => {
      const before = gw.gateway.merchantBalances(merchantId).available;
      const page = await open(500);
      await payCard(page, number);
      await page.waitForSelector("#msg.err");
      const msg = (await page.textContent("#msg")) ?? "";
      assert.ok(msg.includes(code) && msg.includes(words), msg);
      assert.equal(gw.gateway.merchantBalances(merchantId).available, before, "no money moved");
      await payCard(page, "5555 5555 5555 4444");
      await confirmation(page);
      await page.close();
    });
  }

  it("completes 3-D Secure with the bank's code", async () => {
    const page = await open(3000);
    await payCard(page, "4000 0000 0000 3220");
    await page.waitForSelector("#challenge:not([hidden])");
    await page.fill("#code", "1234");
    await page.click("#confirm");
    assert.equal((await confirmation(page)).amountMinor, 3000);
    await page.close();
  });

  it("records nothing when the customer abandons 3-D Secure", async () => {
    const before = gw.gateway.merchantBalances(merchantId).available;
    const page = await open(3100);
    await payCard(page, "4000 0000 0000 3220");
    await page.waitForSelector("#challenge:not([hidden])");
    await page.click("#abandon");
    await page.waitForSelector("#msg.err");
    assert.match((await page.textContent("#msg")) ?? "", /AUTHENTICATION_FAILED/);
    assert.equal(gw.gateway.merchantBalances(merchantId).available, before);
    await page.close();
  });

  it("pays with the wallet this browser holds (signed with WebCrypto), from its available balance", async () => {
    const w = new SoftWallet();
    gw.gateway.registerWallet({ publicKey: w.publicKey, capMinor: 1000, balanceMinor: 6000 });
    const pub = Buffer.from(w.publicKey);
    const jwk = { kty: "EC", crv: "P-256", d: Buffer.from(w.privateKey).toString("base64url"), x: pub.subarray(0, 32).toString("base64url"), y: pub.subarray(32).toString("base64url") };
    const page = await open(
      2000,
      ((wallet: unknown) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem("offlinepay.wallet", JSON.stringify(wallet))) as () => void,
      { walletId: w.walletId, jwk },
    );
    await page.click("#t-wallet");
    await page.click("#paywallet");
    assert.equal((await confirmation(page)).method, 3);
    assert.equal(gw.gateway.walletBalances(w.walletId).available, 3000);
    await page.close();
  });
});
