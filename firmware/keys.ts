/**
 * The device's storage keys (journal and vault), derived at every boot from a key that never leaves the secure
 * element and never written anywhere (docs/protocol.md section 8).
 *
 *   deriveStorageKeys(device.secure, device.crypto, (err, keys) => {
 *     if (err) return showFault(err);             // err.code: "KEYS_SE" or "KEYS_SHAPE"
 *     openJournal({ ..., keys: keys.journal }); openVault(store, crypto, keys.vault, ...);
 *   });
 *
 * root = ECDH(private key in SeSlot.Storage, STORAGE_POINT): the X coordinate of d·Q, 32 bytes.
 * key(label) = HMAC-SHA256(root, label)[0..16], labels "journal enc", "journal mac", "journal iv", "vault enc",
 * "vault mac".
 *
 * STORAGE_POINT is a P-256 point nobody knows the discrete logarithm of (hashed to the curve from a public label,
 * see storagePointSeed). It must not be the generator G: ECDH(d, G) is the X coordinate of the slot's public key,
 * which the part hands to anyone on the I2C bus (GenKey mode 00), and any point k·G with a known k is no better
 * (X(k·Pub)). With a point of unknown logarithm, computing d·Q from the public key is the CDH problem.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import type { Done, SecureElement } from "../hal/secure-element.ts";
import { SeSlot } from "../hal/secure-element.ts";
import { ascii, fromHex } from "../protocol/codec/hex.ts";
import { hmacSha256 } from "../protocol/hmac.ts";
import type { JournalKeys } from "./journal/record.ts";

/**
 * X||Y of the fixed storage point: x = SHA-256("offline-pay storage point v1" | counter) for the first counter
 * (here 0) giving an x on P-256, y the even square root of x^3 - 3x + b. test/keys checks it is reproduced.
 */
export function storagePointHex(): string {
  return "acc15cb34655b899661b08285c3995b8abbb261aae0043eb585d6a5904f3ec82" + "4f4bb453c1ff7b34fda066b059b278f03883ae752f87dc995cafa8107c9becb2";
}
/** The label hashed to the storage point (documented; the point above is what the code uses). */
export const STORAGE_POINT_LABEL = "offline-pay storage point v1";

/** Keys of the sealed vault file (firmware/vault.ts). */
export interface VaultKeys {
  enc: Uint8Array;
  mac: Uint8Array;
}

export interface StorageKeys {
  journal: JournalKeys;
  vault: VaultKeys;
}

/** An error with a code (Espruino has no usable Error subclasses). */
export interface KeyError {
  code: string;
  message: string;
}

function keyError(code: string, message: string): KeyError {
  return { code: code, message: message };
}

/** HMAC-SHA256(root, label), first 16 bytes. */
export function labelKey(c: CryptoBackend, root: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(hmacSha256(c, root, ascii(label)).subarray(0, 16));
}

/** The keys from a 32-byte root (exported for tests and for the documentation's test vector). */
export function storageKeysFromRoot(c: CryptoBackend, root: Uint8Array): StorageKeys {
  return {
    journal: { enc: labelKey(c, root, "journal enc"), mac: labelKey(c, root, "journal mac"), iv: labelKey(c, root, "journal iv") },
    vault: { enc: labelKey(c, root, "vault enc"), mac: labelKey(c, root, "vault mac") },
  };
}

/**
 * Asks the secure element for root = ECDH(SeSlot.Storage, STORAGE_POINT) and derives the journal and vault keys.
 * The root is wiped once the keys are made; nothing is stored. Errors: KEYS_SE (the part refused or failed, e.g.
 * no storage key provisioned), KEYS_SHAPE (an answer that is not 32 bytes).
 */
export function deriveStorageKeys(se: SecureElement, c: CryptoBackend, done: (err: KeyError | null, keys?: StorageKeys) => void): void {
  const point = fromHex(storagePointHex()) as Uint8Array;
  se.ecdh(SeSlot.Storage, point, (err, root) => {
    if (err) return done(keyError("KEYS_SE", "Secure element: no storage key (" + err + ")"));
    if (!root || root.length !== 32) return done(keyError("KEYS_SHAPE", "Secure element: bad ECDH answer"));
    const keys = storageKeysFromRoot(c, root);
    root.fill(0);
    done(null, keys);
  });
}

/** Secure elements that can make a key (the ATECC608 driver: GenKey mode 04). */
export interface KeyMaker {
  provisionKey?: (slot: number, done: Done<Uint8Array>) => void;
}

/**
 * Provisioning: makes sure SeSlot.Storage and SeSlot.Session hold a private key, generating one (GenKey 04) where
 * the part reports none. An existing storage key is never replaced: a new one would make the journal and the
 * vault unreadable. Calls back with which slots were created. The technician's `identity`/`provision` console
 * commands are the place to call it, right after slot 0.
 */
export function provisionSeKeys(se: SecureElement, done: (err: KeyError | null, created?: number[]) => void): void {
  const maker = se as unknown as KeyMaker;
  const slots = [SeSlot.Storage, SeSlot.Session];
  const created: number[] = [];
  let i = 0;
  const next = (): void => {
    if (i >= slots.length) return done(null, created);
    const slot = slots[i++];
    se.publicKey(slot, (err, pub) => {
      if (!err && pub && pub.length === 64) return next();
      if (typeof maker.provisionKey !== "function") return done(keyError("KEYS_SE", "Secure element cannot make keys"));
      maker.provisionKey(slot, (gerr, gpub) => {
        if (gerr || !gpub || gpub.length !== 64) return done(keyError("KEYS_SE", "Key generation failed in slot " + slot + " (" + gerr + ")"));
        created.push(slot);
        next();
      });
    });
  };
  next();
}
