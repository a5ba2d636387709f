/**
 * npx tsx tools/sign-update.ts --key issuer-key.hex [--bundle dist/devkit.js] [--version 0.2.0]
 *
 * The gateway side of a signed update: prints the offer a gateway puts in its hello reply,
 * `{"version","size","sha256","sig"}`, where `sig` is the issuer's ECDSA P-256 signature (R||S, hex) over the
 * bundle's SHA-256 (firmware/update/updater.ts checks it with the secure element before downloading).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signBody } from "../gateway/issuer.ts";
import type { UpdateOffer } from "../firmware/update/updater.ts";
import { ROOT, runMain } from "./common.ts";
import { ToolError } from "./link.ts";

export function signUpdate(bundle: Uint8Array, issuerPrivate: Uint8Array, version: string): UpdateOffer {
  const sha = createHash("sha256").update(bundle).digest();
  return { version, size: bundle.length, sha256: sha.toString("hex"), sig: Buffer.from(signBody(issuerPrivate, bundle)).toString("hex") };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMain("sign-update", async (a) => {
    if (!a.key) throw new ToolError("USAGE", "missing --key (file with the issuer's private key, 64 hex digits)");
    const key = new Uint8Array(Buffer.from(readFileSync(a.key, "utf8").trim(), "hex"));
    if (key.length !== 32) throw new ToolError("USAGE", "--key must hold 32 bytes as hex");
    const file = a.bundle ?? join(ROOT, "dist", "devkit.js");
    const bundle = new Uint8Array(readFileSync(file));
    process.stdout.write(JSON.stringify(signUpdate(bundle, key, a.version ?? "unknown")) + "\n");
  });
}
