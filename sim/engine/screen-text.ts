/** Text the firmware drew and has not painted over, as both engines track it (what `screenText()` reports). */
export interface ScreenText {
  text: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The text on screen, top to bottom, left to right, one line per row of text. */
export function screenLines(texts: ScreenText[]): string[] {
  const sorted = texts.slice().sort((a, b) => a.y1 - b.y1 || a.x1 - b.x1);
  const lines: string[] = [];
  let lastY = -1000;
  for (const t of sorted) {
    if (Math.abs(t.y1 - lastY) <= 2 && lines.length) lines[lines.length - 1] += "  " + t.text;
    else lines.push(t.text);
    lastY = t.y1;
  }
  return lines;
}
