/** Shared pieces of the update tests: a FileStore over the simulator's Storage, a secure-element fake. */
import { randomBytes } from "node:crypto";
import type { SecureElement } from "../../hal/secure-element.ts";
import type { FileStore } from "../../hal/storage.ts";
import { BOOT_STUB, BOOT_STUB_END } from "../../firmware/update/boot-stub.ts";
import { isPowerCut } from "../../sim/espruino/flash.ts";
import type { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { readBoard } from "../../sim/host.ts";
import type { BoardData } from "../../sim/host.ts";
import { p256PublicKey, p256VerifyDigest } from "../../sim/peripherals/atecc608.ts";
import type { UpdateOffer } from "../../firmware/update/updater.ts";
import { signUpdate } from "../../tools/sign-update.ts";

/**
 * The devkit's board data as the build wrote it (dist/devkit.board.json). Not a static import of boards/devkit.ts:
 * that would pull the Espruino bindings into the Node type-check.
 */
export function boardData(): BoardData {
  return readBoard("devkit").board;
}

/** A bundle as the build makes it: the boot stub around `body`. */
export function bundle(body: string): string {
  return BOOT_STUB + body + BOOT_STUB_END;
}

/**
 * The device's Storage as a FileStore, over the simulator's Espruino Storage on `flash`. Once a power cut has
 * torn a flash operation the device is off: every later call throws again (nothing runs after a cut).
 */
export function flashStore(flash: Flash): FileStore & { dead: boolean } {
  const s = new EspruinoStorage(flash);
  const st = {
    dead: false,
    guard<T>(fn: () => T): T {
      if (st.dead) throw Object.assign(new Error("device is off"), { code: "POWER_CUT" });
      try {
        return fn();
      } catch (e) {
        if (isPowerCut(e)) st.dead = true;
        throw e;
      }
    },
  };
  return {
    get dead() {
      return st.dead;
    },
    read: (name, offset, length) =>
      st.guard(() => {
        const ab = s.readArrayBuffer(name);
        if (!ab) return undefined;
        const start = offset || 0;
        const n = length === undefined ? ab.byteLength - start : length;
        return new Uint8Array(ab, start, n);
      }),
    write: (name, data, offset, size) => st.guard(() => (size === undefined ? s.write(name, data, offset || 0) : s.write(name, data, offset || 0, size))),
    erase: (name) => st.guard(() => s.erase(name)),
    list: (prefix) => st.guard(() => s.list().filter((n) => n.indexOf(prefix) === 0)),
    stats: () => st.guard(() => s.getStats()),
  } as FileStore & { dead: boolean };
}

/** The devkit's board name, as its device reports it (`device.board`). */
export const BOARD = "devkit";

/** A firmware-signing key (offline, numbered `keyId`) and the offer it signs for a bundle, version and board. */
export interface FirmwareSigner {
  keyId: number;
  priv: Uint8Array;
  pub: Uint8Array;
  offer(bundle: string, version: string, board?: string): UpdateOffer;
}

export function firmwareSigner(keyId = 1): FirmwareSigner {
  const priv = new Uint8Array(randomBytes(32));
  const pub = p256PublicKey(priv);
  return {
    keyId,
    priv,
    pub,
    offer(b, version, board) {
      return signUpdate(new Uint8Array(Buffer.from(b, "latin1")), priv, board ?? BOARD, version, keyId);
    },
  };
}

/** The firmware keys a terminal was provisioned with, by ID, as installUpdate takes them. */
export function keysOf(signers: FirmwareSigner[]): { [id: string]: Uint8Array } {
  const out: { [id: string]: Uint8Array } = {};
  for (const s of signers) out[String(s.keyId)] = s.pub;
  return out;
}

/** The update tests' signer (named `issuer` before firmware keys were split from the issuer's). */
export const issuer = firmwareSigner;

/** Only `verify` is expected of the secure element here; anything else fails the test loudly. */
export function verifyingSe(): SecureElement {
  const no = (what: string) => () => {
    throw new Error("unexpected secure element call: " + what);
  };
  return {
    info: no("info"),
    random: no("random"),
    sign: no("sign"),
    counter: no("counter"),
    publicKey: no("publicKey"),
    ecdh: no("ecdh"),
    verify(digest, sig, pub, done) {
      const r = p256VerifyDigest(pub, digest, sig);
      done(null, r === true);
    },
  };
}
