import assert from "node:assert/strict";
import { base45Encode } from "../../protocol/codec/base45.ts";
import { AUTO_APPROVE_MS, methodLabel, receiptJob } from "../../firmware/receipt/receipt.ts";
import type { ReceiptInfo } from "../../firmware/receipt/receipt.ts";
import { decodeQr, printed } from "./print.ts";

const T = Date.UTC(2026, 10, 23, 8, 40);

function recoveryText(): string {
  const b = new Uint8Array(87);
  for (let i = 0; i < b.length; i++) b[i] = (i * 37 + 11) & 255;
  b[0] = 1;
  b[1] = 0x12;
  return "X1" + base45Encode(b);
}

function info(over: Partial<ReceiptInfo> = {}): ReceiptInfo {
  return {
    merchantName: "Corner Cafe",
    merchantId: "M-1001",
    terminalId: 42,
    utr: "0000-01A0-0037",
    txIdHex: "0000002a00000007",
    amountMinor: 123456,
    currency: "EUR",
    method: methodLabel(1),
    timeMs: T,
    settled: false,
    orderRef: "ORD-7781",
    recoveryQr: recoveryText(),
    ...over,
  };
}

describe("receipt job", () => {
  it("prints merchant, terminal, UTR, transaction ID, time, method and order", () => {
    const { text } = printed(receiptJob(info(), {}));
    assert.match(text, /^ *Corner Cafe$/m);
    assert.match(text, /^ *Merchant M-1001$/m);
    assert.match(text, /^ *Terminal 42$/m);
    assert.match(text, /^UTR +0000-01A0-0037$/m);
    assert.match(text, /^Tx +0000002a00000007$/m);
    assert.match(text, /^Time +2026-11-23 08:40$/m);
    assert.match(text, /^Method +Wallet QR$/m);
    assert.match(text, /^Order +ORD-7781$/m);
  });

  it("prints the amount with its currency in double size", () => {
    const { printer } = printed(receiptJob(info(), {}));
    const line = printer.paper.find((it) => it.kind === "text" && it.text === "EUR 1,234.56");
    assert.ok(line && line.kind === "text" && line.width === 2 && line.height === 2 && line.bold);
  });

  it("a pending payment shows its auto-approve date, three days on", () => {
    const { text } = printed(receiptJob(info(), {}));
    assert.equal(T + AUTO_APPROVE_MS, Date.UTC(2026, 10, 26, 8, 40));
    assert.match(text, /^ *PENDING$/m);
    assert.match(text, /^ *auto-approves 2026-11-26 08:40$/m);
    assert.doesNotMatch(text, /SETTLED/);
  });

  it("a settled payment says so and shows no auto-approve date", () => {
    const { text } = printed(receiptJob(info({ settled: true }), {}));
    assert.match(text, /^ *SETTLED$/m);
    assert.doesNotMatch(text, /PENDING|auto-approves/);
  });

  it("a refund or void is recorded and sent at the next sync, never auto-approved", () => {
    const { text } = printed(receiptJob(info({ amountMinor: -500, title: "REFUND", method: "Refund of 0000-01A0-0037" }), {}));
    assert.match(text, /^ *REFUND$/m);
    assert.match(text, /^ *-?EUR -?5\.00$/m);
    assert.match(text, /^ *RECORDED$/m);
    assert.match(text, /^ *sent at the next sync$/m);
    assert.doesNotMatch(text, /PENDING|auto-approves/);
  });

  it("leaves out the order line when there is no order", () => {
    const { text } = printed(receiptJob(info({ orderRef: "" }), {}));
    assert.doesNotMatch(text, /^Order/m);
  });

  it("carries the signed receipt in a GS ( k QR that decodes from the printed image", () => {
    const { printer, png } = printed(receiptJob(info(), {}));
    assert.ok(printer.paper.some((it) => it.kind === "qr" && it.data === recoveryText()));
    assert.equal(decodeQr(png), recoveryText());
  });

  it("carries it as a raster QR when the printer has no GS ( k, also decodable", () => {
    const { printer, png } = printed(receiptJob(info(), { rasterQr: true }));
    assert.ok(!printer.paper.some((it) => it.kind === "qr"));
    assert.ok(printer.paper.some((it) => it.kind === "raster"));
    assert.equal(decodeQr(png), recoveryText());
  });

  it("prints a text it cannot raster-encode (over the 230 bytes of version 9-L) as lines instead", () => {
    const long = "text too long for the encoder, ".repeat(8); // 248 characters, 31 a line
    const { text, printer } = printed(receiptJob(info({ recoveryQr: long }), { rasterQr: true }));
    assert.ok(!printer.paper.some((it) => it.kind === "raster"));
    assert.match(text, /^ *text too long for the encoder, t$/m);
  });

  it("fits every line on 32 columns, long names cut", () => {
    const { printer } = printed(receiptJob(info({ merchantName: "A very long merchant name that goes on", method: "x".repeat(50), orderRef: "y".repeat(40), amountMinor: 99999999999 }), {}));
    for (const it of printer.paper) if (it.kind === "text") assert.ok(it.text.length * it.width <= 32, it.text);
  });

  it("names each journal method", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 9].map(methodLabel), ["Wallet QR", "Wallet Bluetooth", "Invoice, QR confirm", "Invoice, BT confirm", "Invoice, online", "Method 9"]);
  });
});
