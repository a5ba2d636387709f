/**
 * npm run gateway -- --port 8080 --db gateway.db|postgres://… [--workers N] [--host 127.0.0.1] [--tls-cert cert.pem --tls-key key.pem]
 *                    [--admin-token T] [--issuer-key issuer.hex --issuer-key-id 1] [--movable-clock] [--sms-file sms.jsonl]
 *                    [--firmware-key-file firmware-keys.txt]
 *                    [--payout-name "Issuer Ltd" --payout-iban DE89... [--payout-bic BIC]] [--no-payouts]
 *                    [--kannel-url http://127.0.0.1:13013 --kannel-user U --kannel-password P [--sms-from NAME]
 *                     [--sms-dlr-url https://gateway.example]]
 *
 * The reference gateway as a service (docs/gateway.md). Plain HTTP only on loopback; give a certificate and key
 * to listen elsewhere. Prints its URL, the admin token and the keys provisioning needs (issuer and link public keys).
 * --movable-clock lets POST /v1/admin/clock move the gateway's time forward (the simulator's 3-day rule).
 * The daily settlement runs on its own once a day is over (unless --no-payouts), once the issuer's payout account is
 * known (the --payout-* options, or PUT /v1/admin/payout-account); its pain.001 file is at GET /v1/admin/payouts/{id}/pain001.
 * SMS go through Kannel's sendsms with --kannel-url (docs/gateway.md, SMS); --sms-dlr-url is the gateway's base URL
 * as Kannel reaches it, for delivery reports (default: this gateway's own URL).
 * --firmware-key-file registers the firmware PUBLIC keys updates must be signed with (one a line: "<id> <X||Y hex>",
 * or only the hex for ID 1); the firmware private key stays offline with tools/sign-update.ts.
 * --db takes a SQLite file (default gateway.db) or a postgres:// URL (gateway/pg-store.ts). On PostgreSQL,
 * --workers N runs N gateway processes on the one port (node:cluster hands each connection to one of them); separate
 * processes on separate ports (`--db` the same URL) work as well. SQLite is one process: --workers needs PostgreSQL.
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { isPgUrl } from "./pg-store.ts";
import { MovableClock } from "./clock.ts";
import { Issuer } from "./issuer.ts";
import { startGatewayServer } from "./server.ts";
import { KannelSmsProvider, kannelOptionsProblem } from "./kannel.ts";
import type { KannelOptions } from "./kannel.ts";
import type { SmsProvider } from "./sms.ts";
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

/** Firmware public keys, one a line: "<id> <X||Y hex>" or only the hex (ID 1); "#" starts a comment. */
function readFirmwareKeys(text: string): { id: number; pub: Uint8Array }[] {
  const out: { id: number; pub: Uint8Array }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const f = line.split(/\s+/);
    const id = f.length === 2 ? Number(f[0]) : 1;
    const hex = f[f.length - 1];
    if (f.length > 2 || !Number.isInteger(id) || id < 0 || id > 255 || !/^[0-9a-fA-F]{128}$/.test(hex)) {
      throw new Error("--firmware-key-file: each line \"<id 0-255> <public key X||Y, 128 hex digits>\", got " + JSON.stringify(line.slice(0, 40)));
    }
    out.push({ id, pub: new Uint8Array(Buffer.from(hex, "hex")) });
  }
  return out;
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const workers = a.workers === undefined ? 1 : Number(a.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error("--workers: 1 to 64");
  if (workers > 1 && !isPgUrl(a.db ?? "")) throw new Error("--workers needs --db postgres://… (a SQLite file is one process's)");
  if (workers > 1 && cluster.isPrimary) return primary(workers);
  const inCluster = !cluster.isPrimary;
  if (a.help) {
    process.stdout.write("usage: npm run gateway -- --port 8080 --db gateway.db [--host H] [--tls-cert F --tls-key F] [--admin-token T] [--issuer-key F --issuer-key-id N] [--movable-clock] [--sms-file F] [--firmware-key-file F] [--payout-name N --payout-iban IBAN [--payout-bic BIC]] [--no-payouts] [--kannel-url URL --kannel-user U --kannel-password P [--sms-from NAME] [--sms-dlr-url URL]] [--workers N (PostgreSQL)]\n");
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
  const firmwareKeys = a["firmware-key-file"] ? readFirmwareKeys(readFileSync(a["firmware-key-file"], "utf8")) : [];
  const clock = a["movable-clock"] ? new MovableClock() : undefined;
  // SMS: Kannel when asked, else the outbox file, else the gateway's in-memory outbox
  let kannel: KannelOptions | undefined;
  if (a["kannel-url"]) {
    if (a["sms-file"]) throw new Error("--kannel-url and --sms-file: one SMS provider at a time");
    kannel = { url: a["kannel-url"], user: a["kannel-user"] ?? "", password: a["kannel-password"] ?? "", from: a["sms-from"], dlrUrl: a["sms-dlr-url"] };
    const p = kannelOptionsProblem({ ...kannel, dlrUrl: kannel.dlrUrl ?? "http://127.0.0.1" });
    if (p) throw new Error("Kannel options (--kannel-url, --kannel-user, --kannel-password, --sms-from, --sms-dlr-url): " + p);
  } else if (a["kannel-user"] || a["kannel-password"] || a["sms-from"] || a["sms-dlr-url"]) throw new Error("--kannel-user, --kannel-password, --sms-from and --sms-dlr-url need --kannel-url");
  // the delivery reports' base URL defaults to this gateway's own, known once it listens: the provider reads it then
  let ownUrl = "";
  let sms: SmsProvider | undefined = a["sms-file"] ? new OutboxSmsProvider({ file: a["sms-file"] }) : undefined;
  if (kannel) {
    const k = kannel;
    let p: KannelSmsProvider | null = null;
    sms = { send: (m) => (p ??= new KannelSmsProvider({ ...k, dlrUrl: k.dlrUrl ?? ownUrl })).send(m) };
  }
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
      sms },
  });
  ownUrl = s.url;
  const g = s.gateway;
  for (const k of firmwareKeys) g.addFirmwareKey(k.id, k.pub);
  if (inCluster) process.send?.({ listening: s.url, pid: process.pid });
  // in a cluster the primary prints the summary once, for all its workers
  if (!inCluster || cluster.worker?.id === 1) process.stdout.write(
    JSON.stringify(
      {
        url: s.url,
        db: (a.db ?? "gateway.db").replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@"),
        adminToken: g.adminToken,
        issuerKeyId: g.issuer.keyId,
        issuerPublicKey: Buffer.from(g.issuer.publicKey).toString("hex"),
        linkPublicKey: Buffer.from(g.linkPublicKey).toString("hex"),
        firmwareKeys: g.firmwareKeys(),
        movableClock: !!clock,
        sms: kannel ? { kannel: kannel.url, user: kannel.user, from: kannel.from ?? null, dlrUrl: kannel.dlrUrl ?? s.url } : a["sms-file"] ? { file: a["sms-file"] } : "in memory",
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

/**
 * The cluster's primary: starts worker 1 first (it migrates the database and stores the keys), then the others,
 * and starts a worker again when one dies. It serves nothing itself.
 */
async function primary(n: number): Promise<void> {
  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const w = cluster.fork();
      w.on("message", (m: { listening?: string }) => {
        if (m && m.listening) resolve();
      });
      w.once("exit", (code) => reject(new Error("worker exited with " + code + " before it listened")));
    });
  await fork();
  await Promise.all(Array.from({ length: n - 1 }, fork));
  let stopping = false;
  cluster.on("exit", (w, code, signal) => {
    if (stopping) return;
    process.stderr.write("gateway: worker " + w.process.pid + " ended (" + (signal ?? code) + "); starting another\n");
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    setTimeout(() => process.exit(0), 3000).unref();
    cluster.on("exit", () => {
      if (!Object.keys(cluster.workers ?? {}).length) process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  process.stderr.write("gateway: " + (e instanceof Error ? e.message : String(e)) + "\n");
  process.exit(1);
});
