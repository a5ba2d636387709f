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
/**
 * Draws rows of the panel, given the canvas of one band and the panel row the band starts at: it draws at y - top
 * (what falls outside the band is clipped) everything those rows show, on a band already cleared to the background.
 */
export type Painter = (c: Canvas, top: number) => void;

/**
 * A panel drawn a band of rows at a time: no frame of the whole panel is kept, so what a screen shows lives in the
 * screen's own state and is drawn again for each band (firmware/ui/screen.ts).
 */
export interface Display {
  readonly width: number;
  readonly height: number;
  /**
   * Put rows y1..y2 (inclusive) on the panel: `draw` is called once for each band they cross. Before the panel is
   * ready the last `draw` is kept and paints the whole panel once it is.
   */
  paint(y1: number, y2: number, draw: Painter): void;
  /** Panel backlight / sleep. */
  power(on: boolean): void;
}

/** A band of rows, paletted, that the panel driver draws and sends (Espruino Graphics on the device). */
export interface Surface {
  readonly canvas: Canvas;
  readonly bpp: number;
  /** The packed pixels, rows top to bottom, most significant bits leftmost. */
  readonly buffer: ArrayBuffer;
  /** Start the band whose first row is panel row `top`: cleared to the background (palette index 0). */
  band(top: number): void;
  /** Expand packed `bpp`-bit pixels of whole rows into 16-bit panel words through `palette` (native speed on the device). */
  expand(packed: Uint8Array, out: Uint16Array, palette: Uint16Array): void;
}
/** A surface of `rows` rows of `width` pixels at `bpp` bits a pixel. */
export type SurfaceOpen = (width: number, rows: number, bpp: number) => Surface;
