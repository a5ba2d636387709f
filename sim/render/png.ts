/**
 * PNG encoding for simulator screenshots (via pngjs), and RGB565 → RGBA expansion.
 *
 *   const rgba = rgb565ToRgba(display.frame());
 *   fs.writeFileSync("screen.png", encodePng(240, 240, rgba));
 */
import { PNG } from "pngjs";

/** Encodes `width`×`height` RGBA pixels (4 bytes each, row-major) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`encodePng: bad size ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(`encodePng: expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}

/**
 * Expands RGB565 pixels to opaque RGBA, replicating the top bits into the low ones so 0x001F → blue 255 and
 * 0xFFFF → white 255,255,255.
 */
export function rgb565ToRgba(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length * 4);
  for (let i = 0; i < pixels.length; i++) {
    const c = pixels[i] & 0xffff;
    const r = (c >> 11) & 0x1f;
    const g = (c >> 5) & 0x3f;
    const b = c & 0x1f;
    out[i * 4] = (r << 3) | (r >> 2);
    out[i * 4 + 1] = (g << 2) | (g >> 4);
    out[i * 4 + 2] = (b << 3) | (b >> 2);
    out[i * 4 + 3] = 255;
  }
  return out;
}
