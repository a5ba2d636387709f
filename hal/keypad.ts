/** Key names on the terminal's keypad: digits, and the function keys below. */
export const enum Key {
  Enter = "#",
  Cancel = "*",
  Menu = "A",
  Back = "B",
  Clear = "C",
  Func = "D",
}
export interface Keypad {
  /** Register the one listener: called with a key's name ("0".."9", "#", "*", "A".."D") on each press. */
  listen(onKey: (key: string) => void): void;
}
