/**
 * What the firmware draws on: a subset of Espruino's Graphics, typed. Colours are palette indices
 * (the display driver maps them to panel colours when it flips).
 */
export interface Canvas {
  getWidth(): number;
  getHeight(): number;
  clear(reset?: boolean): Canvas;
  setColor(c: number): Canvas;
  setBgColor(c: number): Canvas;
  fillRect(x1: number, y1: number, x2: number, y2: number): Canvas;
  clearRect(x1: number, y1: number, x2: number, y2: number): Canvas;
  drawRect(x1: number, y1: number, x2: number, y2: number): Canvas;
  drawLine(x1: number, y1: number, x2: number, y2: number): Canvas;
  setPixel(x: number, y: number, c?: number): Canvas;
  setFont(name: string, scale?: number): Canvas;
  setFontAlign(x: number, y: number, rotation?: number): Canvas;
  drawString(text: string, x: number, y: number, solid?: boolean): Canvas;
  stringWidth(text: string): number;
  drawImage(image: CanvasImage, x: number, y: number, options?: { scale?: number }): Canvas;
}
export interface CanvasImage {
  width: number;
  height: number;
  bpp: number;
  buffer: ArrayBuffer;
  transparent?: number;
}
/** Palette indices every display provides. */
export const enum Ink {
  Background = 0,
  Text = 1,
  Accent = 2,
  Alert = 3,
}
export interface Display {
  readonly width: number;
  readonly height: number;
  readonly canvas: Canvas;
  /** Send what changed on the canvas to the panel. Callback once the panel has it. */
  flip(): void;
  /** Panel backlight / sleep. */
  power(on: boolean): void;
}

/** A paletted off-screen buffer the panel driver flips to the panel (Espruino Graphics on the device). */
export interface Surface {
  readonly canvas: Canvas;
  readonly bpp: number;
  /** The packed pixels, rows top to bottom, most significant bits leftmost. */
  readonly buffer: ArrayBuffer;
  /** The rectangle drawn since the last call, or undefined; resets the tracking. */
  takeModified(): { y1: number; y2: number } | undefined;
  /**
   * Expand packed `bpp`-bit pixels of whole rows, the first being row `y`, into 16-bit panel words through
   * `palette` (native speed on the device). At 1 bpp the palette has every ink and each row takes its own.
   */
  expand(packed: Uint8Array, out: Uint16Array, palette: Uint16Array, y: number): void;
}
export type SurfaceOpen = (width: number, height: number, bpp: number) => Surface;
