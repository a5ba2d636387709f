/**
 * A 4x4 membrane keypad: rows driven, columns read with pull-downs.
 *
 *   const k = new MatrixKeypad({ rows: [digital("D13"), ...], cols: [...], keys: "123A456B789C*0#D" });
 *   k.listen((key) => ...);
 *
 * Idle, all rows are high, so a press raises its column and wakes us through the column's edge watch.
 * Each edge triggers one full scan (rows low, then one row high at a time); a key is reported when the scan
 * goes from "nothing held" to "a key held", so bounces and the edges the scan itself causes are harmless.
 */
import type { Digital, DigitalOpen } from "../io.ts";
import { PinMode } from "../io.ts";
import type { Keypad } from "../keypad.ts";

export interface MatrixKeypadOptions {
  rows: DigitalOpen[];
  cols: DigitalOpen[];
  /** Key names row by row, one character each. */
  keys: string;
  debounceMs?: number;
}

export class MatrixKeypad implements Keypad {
  private rows: Digital[] = [];
  private cols: Digital[] = [];
  private keys: string;
  private held = -1;
  private scanning = false;
  private onKey: ((key: string) => void) | null = null;

  constructor(o: MatrixKeypadOptions) {
    this.keys = o.keys;
    for (const open of o.rows) {
      const r = open({ mode: PinMode.Output });
      r.write(1);
      this.rows.push(r);
    }
    const edge = () => this.scan();
    for (const open of o.cols) {
      this.cols.push(open({ mode: PinMode.InputPullDown, onChange: edge, debounceMs: o.debounceMs || 10 }));
    }
  }

  listen(onKey: (key: string) => void): void {
    this.onKey = onKey;
  }

  private scan(): void {
    if (this.scanning) return;
    this.scanning = true;
    const rows = this.rows;
    let found = -1;
    for (let r = 0; r < rows.length; r++) rows[r].write(0);
    for (let r = 0; r < rows.length && found < 0; r++) {
      rows[r].write(1);
      for (let c = 0; c < this.cols.length; c++) {
        if (this.cols[c].read()) {
          found = r * this.cols.length + c;
          break;
        }
      }
      rows[r].write(0);
    }
    for (let r = 0; r < rows.length; r++) rows[r].write(1);
    this.scanning = false;
    const was = this.held;
    this.held = found;
    if (found >= 0 && was < 0 && this.onKey) this.onKey(this.keys.charAt(found));
  }
}
