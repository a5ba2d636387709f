/**
 * npm run order -- link   --key HEX --merchant ID --ref REF --amount 25.99 --callback URL [--currency 978] [--expires-in MIN] [--png FILE]
 * npm run order -- qr     --key HEX --merchant ID --ref REF --amount 25.99 [--currency 978] [--expires-in MIN] [--png FILE]
 * npm run order -- verify --secret HEX --signature 't=…,v1=…' --body FILE
 * npm run order -- listen --secret HEX [--port 8099]
 * npm run order -- send   --board devkit --port PORT --link 'pay-api://…'
 *
 * The store side of the order hand-off (docs/orders.md), on the command line: makes the link or QR text a store's
 * order system gives the terminal, and checks the callbacks the gateway sends once the order is paid. A store
 * system does the same in code with sdk/store.ts. `send` is the technician's: it types a link into a terminal whose
 * console is open (the console op `order`, firmware/tech/console.ts), which then shows the order screen.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import qrcode from "qrcode-generator";
import { PNG } from "pngjs";
import { orderLink, orderQr, StoreError, verifyCallback, type OrderSpec } from "../sdk/store.ts";
import { checkPort, loadBoardDef, parseArgs } from "./common.ts";
import { espruinoBoardJson, openLink, ToolError } from "./link.ts";
import { techCall } from "./tech.ts";

export const USAGE = [
  "usage: npm run order -- link   --key HEX --merchant ID --ref REF --amount 25.99 --callback URL [options]",
  "       npm run order -- qr     --key HEX --merchant ID --ref REF --amount 25.99 [options]",
  "       npm run order -- verify --secret HEX --signature 't=<ms>,v1=<hex>' --body FILE",
  "       npm run order -- listen --secret HEX [--port 8099]",
  "       npm run order -- send   --board devkit --port PORT --link 'pay-api://payNow?…'",
  "  link        prints the pay-api://payNow?order=…&callback=…&tag=… link: the terminal takes it as a QR code or typed",
  "              at its console, and once the order is paid the gateway POSTs order.paid to the callback URL",
  "  qr          prints the O1… order code (no callback of its own: the merchant's webhook hears of it)",
  "  verify      checks one callback: its x-gateway-signature header against the merchant's webhook secret",
  "  listen      an HTTP server on loopback that checks and prints every callback it receives (for development)",
  "  send        types a link into a terminal whose console is open (technician menu, 1): it checks it as a scanned",
  "              one and shows the order screen (--port: a serial device or the simulator's tcp://127.0.0.1:2323)",
  "  --key       the merchant's order key in hex (16 to 64 bytes), as provisioned on its terminals",
  "  --merchant  the merchant ID",
  "  --ref       the order reference: 1 to 12 printable ASCII characters, no spaces",
  "  --amount    the amount in major units (25.99); or --amount-minor 2599",
  "  --currency  ISO 4217 numeric code (default 978, EUR)",
  "  --expires-in  minutes until the terminal refuses the order (default 15)",
  "  --callback  https URL (http only to loopback, for development), at most 200 characters",
  "  --png       also writes the QR code as a PNG file",
  "  --secret    the merchant's webhook secret in hex (from its registration)",
].join("\n");

function spec(a: Record<string, string>): OrderSpec {
  const need = (k: string) => {
    if (!a[k] || a[k] === "true") throw new ToolError("USAGE", "missing --" + k);
    return a[k];
  };
  let amountMinor: number;
  if (a["amount-minor"]) amountMinor = Number(a["amount-minor"]);
  else {
    const m = /^([0-9]{1,9})(?:\.([0-9]{1,2}))?$/.exec(need("amount"));
    if (!m) throw new ToolError("USAGE", "--amount: a number with at most 2 decimals, such as 25.99");
    amountMinor = Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
  }
  const minutes = a["expires-in"] ? Number(a["expires-in"]) : 15;
  if (!(minutes > 0 && minutes <= 60 * 24 * 30)) throw new ToolError("USAGE", "--expires-in: minutes, 1 to 43200");
  return {
    orderKey: need("key"),
    merchantId: Number(need("merchant")),
    orderRef: need("ref"),
    amountMinor,
    currency: a.currency ? Number(a.currency) : 978,
    expires: Math.floor(Date.now() / 1000 + minutes * 60),
    callback: a.callback,
  };
}

/** A PNG of the QR code of `text`: 4 pixels a module, a 4-module quiet zone (ISO/IEC 18004 section 6.3.8). */
export function qrPng(text: string, alphanumeric: boolean): Buffer {
  const q = qrcode(0, "M");
  q.addData(text, alphanumeric ? "Alphanumeric" : "Byte");
  q.make();
  const n = q.getModuleCount();
  const px = 4;
  const size = (n + 8) * px;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / px) - 4;
      const my = Math.floor(y / px) - 4;
      const dark = mx >= 0 && my >= 0 && mx < n && my < n && q.isDark(my, mx);
      const i = (y * size + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = dark ? 0 : 255;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + "\n")): Promise<void> {
  if (argv.indexOf("--help") >= 0 || argv.indexOf("-h") >= 0 || argv.length === 0) {
    out(USAGE);
    return;
  }
  const cmd = argv[0];
  const a = parseArgs(argv.slice(1));
  try {
    if (cmd === "link" || cmd === "qr") {
      const s = spec(a);
      const text = cmd === "link" ? orderLink(s) : orderQr(s);
      out(text);
      if (a.png) writeFileSync(a.png, qrPng(text, cmd === "qr"));
    } else if (cmd === "verify") {
      const body = readFileSync(a.body === "-" ? 0 : a.body, "utf8");
      const ev = verifyCallback({ secret: a.secret ?? "", signature: a.signature, body });
      out("valid: " + JSON.stringify(ev));
    } else if (cmd === "listen") {
      const port = a.port ? Number(a.port) : 8099;
      const secret = a.secret ?? "";
      if (!/^([0-9a-fA-F]{2})+$/.test(secret)) throw new ToolError("USAGE", "--secret: the webhook secret in hex");
      const srv = createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          try {
            const ev = verifyCallback({ secret, signature: req.headers["x-gateway-signature"] as string | undefined, body });
            out(new Date().toISOString() + " " + req.url + " delivery " + (req.headers["x-gateway-delivery"] ?? "?") + ": " + JSON.stringify(ev));
            res.writeHead(200).end("ok\n");
          } catch (e) {
            out(new Date().toISOString() + " " + req.url + " REFUSED: " + (e as Error).message);
            res.writeHead(401).end("refused\n");
          }
        });
      });
      await new Promise<void>((resolve) => srv.listen(port, "127.0.0.1", resolve));
      out("listening for order callbacks on http://127.0.0.1:" + port + "/ (Ctrl-C to stop)");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      srv.close();
    } else if (cmd === "send") {
      if (!a.link || a.link === "true") throw new ToolError("USAGE", "missing --link");
      const def = await loadBoardDef(a.board ?? "devkit");
      const link = await openLink({ port: await checkPort(a.port ?? ""), board: espruinoBoardJson(def) });
      try {
        const r = await techCall(link, { op: "order", link: a.link });
        out("order " + r.orderRef + " (" + r.amountMinor + " minor units) on the terminal's screen: # customer pays, 3 invoice QR");
      } finally {
        await link.close();
      }
    } else throw new ToolError("USAGE", "unknown command " + JSON.stringify(cmd) + " (link, qr, verify, listen, send)\n" + USAGE);
  } catch (e) {
    if (e instanceof StoreError) throw new ToolError("USAGE", e.message);
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      console.error("order failed: " + (e && e.message ? e.message : String(e)));
      process.exit(e instanceof ToolError && e.code === "USAGE" ? 2 : 1);
    },
  );
}
