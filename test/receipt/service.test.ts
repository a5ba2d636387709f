import assert from "node:assert/strict";
import { diagnosticsJob, provisioningJob } from "../../firmware/receipt/service.ts";
import { decodeQr, printed } from "./print.ts";

const T = Date.UTC(2026, 10, 23, 8, 40);
const KEY = "ab".repeat(64);

describe("service printouts", () => {
  it("the provisioning slip names terminal, merchant, gateway, firmware and the whole identity key", () => {
    const { text } = printed(provisioningJob({ terminalId: 42, merchantName: "Corner Cafe", merchantId: "M-1001", gatewayUrl: "https://gateway.example.com/a/very/long/path/that/wraps", firmware: "1.4.0", identityKeyHex: KEY, timeMs: T }, {}));
    assert.match(text, /^ *PROVISIONED$/m);
    assert.match(text, /^ *Terminal 42$/m);
    assert.match(text, /^Firmware +1\.4\.0$/m);
    assert.match(text, /^Time +2026-11-23 08:40$/m);
    assert.match(text, /^https:\/\/gateway\.example\.com\/a\/ve\nry\/long\/path\/that\/wraps$/m);
    const keyLines = text.split("\n").filter((l) => /^(ab)+$/.test(l));
    assert.equal(keyLines.join(""), KEY);
  });

  it("the provisioning slip carries its QR, GS ( k and raster", () => {
    const qr = "K1ABCDEF0123456789";
    for (const rasterQr of [false, true]) {
      const { png } = printed(provisioningJob({ terminalId: 1, merchantName: "", merchantId: "", gatewayUrl: "https://g", firmware: "1", identityKeyHex: KEY, timeMs: T, qr }, { rasterQr }));
      assert.equal(decodeQr(png), qr, "raster " + rasterQr);
    }
  });

  it("diagnostics print each line under the title and time, wrapped at 32 columns", () => {
    const { text } = printed(diagnosticsJob(["SE ok", "", "x".repeat(40)], { timeMs: T }));
    assert.equal(text.split("\n").slice(0, 7).join("\n"), "          DIAGNOSTICS\n2026-11-23 08:40\n" + "-".repeat(32) + "\nSE ok\n \n" + "x".repeat(32) + "\n" + "x".repeat(8));
  });
});
