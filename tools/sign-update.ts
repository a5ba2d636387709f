/**
 * npx tsx tools/sign-update.ts --key firmware-key.hex --key-id 1 --board devkit --version 0.2.0 [--bundle dist/devkit.js]
 * npx tsx tools/sign-update.ts --new-key firmware-key.hex     (makes a firmware key; prints its public key)
 *
 * Signs a firmware bundle with a FIRMWARE key, on the machine that keeps it offline: never the issuer key, which
 * signs allowances online. Prints the offer `{"version","board","key","size","sha256","sig"}`; `sig` is the ECDSA
 * P-256 signature (R||S, hex) over SHA-256 of protocol/firmware.ts's body ("offline-pay firmware v1", board,
 * version, SHA-256 of the bundle). The gateway's `POST /v1/admin/updates` takes the offer with the bundle and checks
 * it against its registered firmware keys; the terminal checks it with its secure element against the firmware
 * keys provisioning gave it, and installs only a newer version for its own board (firmware/update/updater.ts).
 */
import { createECDH, createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { firmwareBody, isLabel } from "../protocol/firmware.ts";
import type { UpdateOffer } from "../firmware/update/updater.ts";
import { ROOT, runMain } from "./common.ts";
import { ToolError } from "./link.ts";

export const USAGE = [
  "usage: npx tsx tools/sign-update.ts --key firmware-key.hex --key-id N --board BOARD --version V [--bundle FILE]",
  "       npx tsx tools/sign-update.ts --new-key firmware-key.hex",
  "  --key      file holding the firmware private key, 64 hex digits (kept offline; not the issuer key)",
  "  --key-id   the firmware key's ID, 0 to 255, as provisioned on the terminals and registered at the gateway",
  "  --board    the board the bundle is built for (devkit)",
  "  --version  the bundle's version; terminals install only a version newer than theirs",
  "  --bundle   the bundle (default dist/<board>.js)",
  "  --new-key  writes a new firmware private key to the file (refuses to overwrite) and prints its public key",
].join("\n");

/** X||Y (64 bytes) of a P-256 private key. */
export function firmwarePublicKey(priv: Uint8Array): Uint8Array {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(priv));
  return new Uint8Array(ecdh.getPublicKey()).subarray(1);
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString("base64url");
}

/** The offer for `bundle`, signed by the firmware key `priv` numbered `keyId`. */
export function signUpdate(bundle: Uint8Array, priv: Uint8Array, board: string, version: string, keyId: number): UpdateOffer {
  if (!isLabel(board)) throw new ToolError("USAGE", "--board: 1 to 32 printable ASCII characters");
  if (!isLabel(version)) throw new ToolError("USAGE", "--version: 1 to 32 printable ASCII characters, no spaces");
  if (!(Number.isInteger(keyId) && keyId >= 0 && keyId <= 255)) throw new ToolError("USAGE", "--key-id: 0 to 255");
  if (priv.length !== 32) throw new ToolError("USAGE", "--key must hold 32 bytes as hex");
  const sha = new Uint8Array(createHash("sha256").update(bundle).digest());
  const pub = firmwarePublicKey(priv);
  const key = createPrivateKey({ key: { kty: "EC", crv: "P-256", d: b64url(priv), x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) }, format: "jwk" });
  const sig = sign("sha256", firmwareBody(board, version, sha), { key, dsaEncoding: "ieee-p1363" });
  return { version, board, key: keyId, size: bundle.length, sha256: Buffer.from(sha).toString("hex"), sig: sig.toString("hex") };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.indexOf("--help") >= 0 || process.argv.indexOf("-h") >= 0) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  runMain("sign-update", async (a) => {
    if (a["new-key"]) {
      if (existsSync(a["new-key"])) throw new ToolError("USAGE", a["new-key"] + " exists: not overwritten");
      const priv = new Uint8Array(randomBytes(32));
      writeFileSync(a["new-key"], Buffer.from(priv).toString("hex") + "\n", { mode: 0o600 });
      process.stdout.write(Buffer.from(firmwarePublicKey(priv)).toString("hex") + "\n");
      return;
    }
    if (!a.key || a["key-id"] === undefined || !a.board || !a.version) throw new ToolError("USAGE", "missing --key, --key-id, --board or --version\n" + USAGE);
    const text = readFileSync(a.key, "utf8").trim();
    const key = /^[0-9a-fA-F]{64}$/.test(text) ? new Uint8Array(Buffer.from(text, "hex")) : new Uint8Array(0);
    if (key.length !== 32) throw new ToolError("USAGE", "--key must hold the firmware private key as 64 hex digits");
    const file = a.bundle ?? join(ROOT, "dist", a.board + ".js");
    const bundle = new Uint8Array(readFileSync(file));
    process.stdout.write(JSON.stringify(signUpdate(bundle, key, a.board, a.version, Number(a["key-id"]))) + "\n");
  });
}
