/**
 * npm run gateway -- --port 8080 --db gateway.db [--host 127.0.0.1] [--tls-cert cert.pem --tls-key key.pem]
 *                    [--admin-token T] [--issuer-key issuer.hex --issuer-key-id 1] [--movable-clock] [--sms-file sms.jsonl]
 *                    [--payout-name "Issuer Ltd" --payout-iban DE89... [--payout-bic BIC]] [--no-payouts]
 *
 * The reference gateway as a service (docs/gateway.md). Plain HTTP only on loopback; give a certificate and key
 * to listen elsewhere. Prints its URL, the admin token and the keys provisioning needs (issuer and link public keys).
 * --movable-clock lets POST /v1/admin/clock move the gateway's time forward (the simulator's 3-day rule).
 * The daily settlement runs on its own once a day is over (unless --no-payouts), once the issuer's payout account is
 * known (the --payout-* options, or PUT /v1/admin/payout-account); its pain.001 file is at GET /v1/admin/payouts/{id}/pain001.
 */
import { readFileSync } from "node:fs";
import { MovableClock } from "./clock.ts";
import { Issuer } from "./issuer.ts";
import { startGatewayServer } from "./server.ts";
import { OutboxSmsProvider } from "./sms.ts";

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error("unexpected argument " + a);
    if (a === "--no-payouts") {
      out["no-payouts"] = "1";
      continue;
    }
    const k = a.slice(2);
    if (k === "movable-clock" || k === "help") out[k] = "1";
    else {
      if (i + 1 >= argv.length) throw new Error("--" + k + " needs a value");
      out[k] = argv[++i];
    }
  }
  return out;
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  if (a.help) {
    process.stdout.write("usage: npm run gateway -- --port 8080 --db gateway.db [--host H] [--tls-cert F --tls-key F] [--admin-token T] [--issuer-key F --issuer-key-id N] [--movable-clock] [--sms-file F] [--payout-name N --payout-iban IBAN [--payout-bic BIC]] [--no-payouts]\n");
    return;
  }
  const port = Number(a.port ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port: 0 to 65535");
  if (!!a["tls-cert"] !== !!a["tls-key"]) throw new Error("--tls-cert and --tls-key go together");
  const tls = a["tls-cert"] ? { cert: readFileSync(a["tls-cert"]), key: readFileSync(a["tls-key"]) } : undefined;
  let issuer: Issuer | undefined;
  if (a["issuer-key"]) {
    const priv = Buffer.from(readFileSync(a["issuer-key"], "utf8").trim(), "hex");
    if (priv.length !== 32) throw new Error("--issuer-key: a file with the issuer's private key, 64 hex digits");
    issuer = new Issuer({ keyId: Number(a["issuer-key-id"] ?? "1"), privateKey: new Uint8Array(priv) });
  }
  const clock = a["movable-clock"] ? new MovableClock() : undefined;
  const s = await startGatewayServer({
    port,
    host: a.host,
    dbPath: a.db ?? "gateway.db",
    tls,
    clock,
    gateway: {
      issuer,
      adminToken: a["admin-token"],
      dailyPayouts: !a["no-payouts"],
      payoutAccount: a["payout-iban"] ? { name: a["payout-name"] ?? "Issuer", iban: a["payout-iban"], bic: a["payout-bic"] ?? "" } : undefined,
      sms: a["sms-file"] ? new OutboxSmsProvider({ file: a["sms-file"] }) : undefined },
  });
  const g = s.gateway;
  process.stdout.write(
    JSON.stringify(
      {
        url: s.url,
        db: a.db ?? "gateway.db",
        adminToken: g.adminToken,
        issuerKeyId: g.issuer.keyId,
        issuerPublicKey: Buffer.from(g.issuer.publicKey).toString("hex"),
        linkPublicKey: Buffer.from(g.linkPublicKey).toString("hex"),
        movableClock: !!clock,
      },
      null,
      2,
    ) + "\n",
  );
  // the 3-day rule, and the outboxes' retries (webhooks retry from 30 s on)
  const tick = setInterval(() => {
    try {
      g.tick();
    } catch (e) {
      process.stderr.write("gateway: tick failed: " + (e instanceof Error ? e.message : String(e)) + "\n");
    }
  }, 15000);
  const stop = () => {
    clearInterval(tick);
    void s.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  process.stderr.write("gateway: " + (e instanceof Error ? e.message : String(e)) + "\n");
  process.exit(1);
});
