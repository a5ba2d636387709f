/**
 * A 4x4 membrane keypad at the pin level: pressing key (r, c) connects row wire r to column wire c, so the column
 * reads high exactly when a held key's row is driven high (the driver pulls columns down).
 */
export class KeypadMatrixEmulator {
  private held = new Set<number>();

  constructor(
    readonly keys: string,
    readonly rows: string[],
    readonly cols: string[],
  ) {
    if (keys.length !== rows.length * cols.length) throw new Error("keypad: keys must be rows x cols");
  }

  private index(key: string): number {
    const i = this.keys.indexOf(key);
    if (i < 0 || key.length !== 1) throw new Error(`keypad: no key "${key}"`);
    return i;
  }

  press(key: string): void {
    this.held.add(this.index(key));
  }

  release(key: string): void {
    this.held.delete(this.index(key));
  }

  /** The keys held now, in keypad order. */
  heldKeys(): string[] {
    return [...this.held].sort((a, b) => a - b).map((i) => this.keys.charAt(i));
  }

  releaseAll(): void {
    this.held.clear();
  }

  /** The level on a column pin, given the level each row pin is driven to. */
  columnLevel(pin: string, rowLevel: (pin: string) => number): number | undefined {
    const c = this.cols.indexOf(pin);
    if (c < 0) return undefined;
    for (const i of this.held) {
      const r = Math.floor(i / this.cols.length);
      if (i % this.cols.length === c && rowLevel(this.rows[r])) return 1;
    }
    return 0;
  }
}
