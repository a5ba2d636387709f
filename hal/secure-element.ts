/**
 * A secure element holding the terminal's keys (ATECC608 on the devkit). Every call completes through an
 * error-first callback: the part takes milliseconds per command and IO never blocks.
 */
export type Done<T> = (err: string | null, result?: T) => void;
export interface SecureElement {
  /** Device revision bytes, e.g. 00 00 60 03 for an ATECC608B. */
  info(done: Done<Uint8Array>): void;
  /** 32 bytes from the part's RNG. */
  random(done: Done<Uint8Array>): void;
  /** ECDSA P-256 signature R||S (64 bytes) of a 32-byte digest with the private key in `slot`. */
  sign(slot: number, digest: Uint8Array, done: Done<Uint8Array>): void;
  /** Verify R||S over a digest with a public key X||Y (64 bytes); result true when valid. */
  verify(digest: Uint8Array, signature: Uint8Array, publicKey: Uint8Array, done: Done<boolean>): void;
  /** Monotonic counter 0 or 1: read, or increment and read. */
  counter(id: number, increment: boolean, done: Done<number>): void;
  /** Public key X||Y of the private key in `slot`. */
  publicKey(slot: number, done: Done<Uint8Array>): void;
  /**
   * ECDH (P-256) between the private key in `slot` and a peer public key X||Y: the shared secret's X coordinate
   * (32 bytes), in the clear. Used for session and link keys and for the device's storage keys.
   */
  ecdh(slot: number, peerPublicKey: Uint8Array, done: Done<Uint8Array>): void;
  /** The configuration zone (128 bytes), where the part has one (ATECC608: four 32-byte reads). */
  readConfig?(done: Done<Uint8Array>): void;
  /**
   * Boot: reads the configuration and calls back "" when the part is configured and locked as the terminal needs
   * it, else a code (SE_UNLOCKED, SE_CONFIG, SE_IO_KEY without a 32-byte I/O key, SE_READ); when "", ECDH results
   * are asked for encrypted under `ioKey` from then on.
   */
  check?(ioKey: Uint8Array | null, sha256: (b: Uint8Array) => Uint8Array, done: (code: string) => void): void;
  /**
   * Provisioning, irreversible on a real part: configures and locks the part for the terminal, makes its keys and
   * its I/O protection key (handed to `keep` before the part is locked with it), skipping what an earlier run
   * already locked; then as check() with that key.
   */
  setup?(o: SetupOptions, done: (code: string) => void): void;
  /** GenKey mode 04: a new private key in `slot`; its public key X||Y. */
  provisionKey?(slot: number, done: Done<Uint8Array>): void;
}

export interface SetupOptions {
  /** The I/O protection key kept from an earlier, interrupted run; null: made by the part. */
  ioKey: Uint8Array | null;
  /** Keeps a new I/O protection key (on flash) before the part is locked with it; false: not kept, stop. */
  keep(key: Uint8Array): boolean;
  sha256(b: Uint8Array): Uint8Array;
}

/** Key slots of the terminal's secure element (provisioned by tools/provision.ts). */
export const enum SeSlot {
  /** The terminal's identity key: signs requests and receipts, ECDH with the gateway's link key. */
  Identity = 0,
  /** A key used only for ECDH with fixed points, deriving the storage keys (journal, vault). Never leaves the part. */
  Storage = 2,
  /** Ephemeral-session ECDH key for Bluetooth (regenerated per session where the part allows). */
  Session = 3,
}
