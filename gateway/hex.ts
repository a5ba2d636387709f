/**
 * Bytes as hex, lower case, at Node's speed: the same text as protocol/codec/hex.ts's toHex, which is written for the
 * device (it builds the string two digits at a time, an allocation a byte). The gateway turns every uploaded
 * record's txId, entry and allowance into hex; with the device's version that was the largest single source of
 * garbage on an upload's path (docs/gateway.md, ingest at the limit, fifth pass).
 */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** True when both hold the same bytes (what comparing their hex said, without making it). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
