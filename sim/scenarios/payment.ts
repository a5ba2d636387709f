/**
 * Offline payments as merchant and customer make them: the merchant types an amount and presses #, the terminal
 * shows a signed payment request (a QR on the display, and Bluetooth advertising), the customer's wallet pays it,
 * the terminal takes the payment (its scanner reads the phone's QR, or over Bluetooth) and prints a receipt whose
 * QR is the signed receipt.
 */
import { decodeQrPng } from "../world.ts";
import type { World } from "../world.ts";
import type { Scenario } from "./index.ts";
import { money, provisioned, shows, typeAmount } from "./steps.ts";

export const PAYMENT_MINOR = 1250;
export const CUSTOMER = "customer";

/** Merchant side: type the amount, press #, wait for the request QR (decoded from the display as a phone would). */
export async function openPayment(w: World, amountMinor = PAYMENT_MINOR): Promise<string> {
  await provisioned(w);
  await typeAmount(w, amountMinor);
  await w.until(`the typed amount ${money(amountMinor)}`, () => shows(w, money(amountMinor)));
  await w.type("#");
  let request: string | null = null;
  // Decoding the panel costs a few jsQR passes: look twice a simulated second. Up to 30 s: on the interpreter the
  // request's signature takes the secure element's real command time, and a loaded machine slows the interpreter.
  for (let t = 0; t < 30000 && request === null; t += 500) {
    await w.run(500);
    request = w.displayQr();
  }
  if (request === null) throw new Error("no payment request QR on the display 30 s after # (the payment flow, firmware/app/); the screen shows: " + w.screenText().join(" | "));
  return request;
}

/** Wait for the receipt after a payment: a new QR on the paper roll; returns it and what jsQR reads on the roll. */
export async function awaitReceipt(w: World, printedBefore: number): Promise<{ receiptQr: string; decodedFromPaper: string | null }> {
  // a receipt takes the printer some 15-25 s at its baud rate (device time; real time on the interpreter)
  await w.until("the receipt on the printer (a new QR on the paper roll)", () => w.printedQrs().length > printedBefore, 60000);
  const qrs = w.printedQrs();
  const receipts = w.receiptPngs();
  return { receiptQr: qrs[qrs.length - 1], decodedFromPaper: receipts.length ? decodeQrPng(receipts[receipts.length - 1]) : null };
}

/** A whole QR payment; returns what each side saw. */
export async function qrPayment(w: World, amountMinor = PAYMENT_MINOR, wallet = CUSTOMER): Promise<Record<string, unknown>> {
  await w.wallet(wallet);
  const printedBefore = w.printedQrs().length;
  const request = await openPayment(w, amountMinor);
  const payment = await w.pay(wallet, request);
  w.scanText(payment);
  const receipt = await awaitReceipt(w, printedBefore);
  return { amountMinor, request, payment, ...receipt, screen: w.screenText(), wallet: w.walletInfo(wallet) };
}

export const offlinePayment: Scenario = {
  describe: "provision if needed, Wi-Fi off; 12.50 paid by QR: request on the display, payment to the scanner, receipt",
  async run(w) {
    w.setWifi(false);
    return qrPayment(w);
  },
};

export const blePayment: Scenario = {
  describe: "provision if needed; 12.50 paid over Bluetooth (encrypted session) from the customer's wallet, receipt",
  async run(w) {
    await w.wallet(CUSTOMER);
    const printedBefore = w.printedQrs().length;
    await openPayment(w);
    await w.until("Bluetooth advertising for the payment", () => !!w.host.ble.advertising);
    // the exchange's bound in device time: on the interpreter (real time) the session's ECDH and signatures on the
    // secure element at its command times take some 20 s, as in bench/device-flows.ts
    const paid = await w.payOverBluetooth(CUSTOMER, 60000);
    const receipt = await awaitReceipt(w, printedBefore);
    return { ...paid, ...receipt, screen: w.screenText(), wallet: w.walletInfo(CUSTOMER) };
  },
};
