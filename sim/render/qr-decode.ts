/**
 * A QR code read off a picture as a scanner module reads it: the bytes the code holds (a GM65 sends these, not a
 * re-encoded string), and their text. jsQR does the reading; a small image (a 240 px panel) is scaled up first.
 */
import jsQR from "jsqr";
import { PNG } from "pngjs";

export interface DecodedQr {
  /** The code's bytes, as stored in it (byte, alphanumeric or numeric segments). */
  bytes: Uint8Array;
  /** The same as text (jsQR's reading: UTF-8 where the bytes are). */
  text: string;
}

/** The first QR code found in RGBA pixels, or null. */
export function decodeQrRgba(data: Uint8ClampedArray, width: number, height: number): DecodedQr | null {
  const r = jsQR(data, width, height, { inversionAttempts: "attemptBoth" });
  return r ? { bytes: Uint8Array.from(r.binaryData), text: r.data } : null;
}

/** What each PNG (by identity: the panel hands out the same Buffer while it is unchanged) decoded to. */
const decoded = new WeakMap<Buffer, DecodedQr | null>();

/** The first QR code found in a PNG, or null (also tried at 2, 3 and 4 times the size). */
export function decodeQrPngBytes(png: Buffer): DecodedQr | null {
  if (decoded.has(png)) return decoded.get(png)!;
  const r = decodeUncached(png);
  decoded.set(png, r);
  return r;
}

function decodeUncached(png: Buffer): DecodedQr | null {
  const img = PNG.sync.read(png);
  const direct = decodeQrRgba(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length), img.width, img.height);
  if (direct) return direct;
  for (const k of [2, 3, 4]) {
    const w = img.width * k;
    const h = img.height * k;
    const out = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const s = (((y / k) | 0) * img.width + ((x / k) | 0)) * 4;
        const d = (y * w + x) * 4;
        out[d] = img.data[s];
        out[d + 1] = img.data[s + 1];
        out[d + 2] = img.data[s + 2];
        out[d + 3] = 255;
      }
    const r = decodeQrRgba(out, w, h);
    if (r) return r;
  }
  return null;
}
