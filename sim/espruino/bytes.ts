/**
 * Bytes of anything Espruino accepts as data: a string (one byte per character), a number (one byte), an array or
 * array-like of numbers, a typed array or ArrayBuffer (from any realm), or `{ data, count }` (data repeated).
 * Always a fresh copy. Null for anything else, so each caller reports it in its own words.
 */
export function espruinoBytes(d: unknown): Uint8Array | null {
  if (typeof d === "string") {
    const b = new Uint8Array(d.length);
    for (let i = 0; i < d.length; i++) b[i] = d.charCodeAt(i) & 255;
    return b;
  }
  if (typeof d === "number") return new Uint8Array([d & 255]);
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  if (Object.prototype.toString.call(d) === "[object ArrayBuffer]") return new Uint8Array((d as ArrayBuffer).slice(0));
  if (d && typeof d === "object" && "data" in d && "count" in d) {
    const one = espruinoBytes((d as { data: unknown }).data);
    if (!one) return null;
    const n = Number((d as { count: number }).count);
    const out = new Uint8Array(one.length * n);
    for (let i = 0; i < n; i++) out.set(one, i * one.length);
    return out;
  }
  if (d && typeof d === "object" && typeof (d as ArrayLike<number>).length === "number") {
    return Uint8Array.from(d as ArrayLike<number>, (x) => Number(x) & 255);
  }
  return null;
}

/** espruinoBytes, throwing `message` for input it cannot take. */
export function toBytes(d: unknown, message = "Expecting data"): Uint8Array {
  const b = espruinoBytes(d);
  if (!b) throw new Error(message + ", got " + typeof d);
  return b;
}
