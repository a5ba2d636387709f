/**
 * The 4x4 matrix keypad driver against a fake matrix: rows are outputs, columns inputs with pull-downs; a held key
 * connects its row to its column, so a column reads high only while its key's row is driven high.
 */
import assert from "node:assert/strict";
import type { DigitalOptions } from "../../hal/io.ts";
import { MatrixKeypad } from "../../hal/drivers/keypad-matrix.ts";

const KEYS = "123A456B789C*0#D";

function matrix() {
  const rowLevel = [0, 0, 0, 0];
  const held = new Set<number>(); // r * 4 + c
  const colEdges: ((level: number) => void)[] = [];
  const modes: string[] = [];
  const writes: string[] = [];
  const colRead = (c: number) => {
    for (const k of held) if (k % 4 === c && rowLevel[Math.floor(k / 4)]) return 1;
    return 0;
  };
  const row = (r: number) => (o: DigitalOptions) => {
    modes.push("row" + r + ":" + o.mode);
    return { read: () => rowLevel[r], write: (l: number) => (writes.push(r + "=" + l), (rowLevel[r] = l)), close() {} };
  };
  const col = (c: number) => (o: DigitalOptions) => {
    modes.push("col" + c + ":" + o.mode + ":" + o.debounceMs);
    if (o.onChange) colEdges[c] = o.onChange;
    return { read: () => colRead(c), write() {}, close() {} };
  };
  const press = (key: string) => {
    const k = KEYS.indexOf(key);
    held.add(k);
    colEdges[k % 4](colRead(k % 4));
  };
  const release = (key: string) => {
    const k = KEYS.indexOf(key);
    held.delete(k);
    colEdges[k % 4](colRead(k % 4));
  };
  const bounce = (key: string) => colEdges[KEYS.indexOf(key) % 4](1);
  return { rows: [0, 1, 2, 3].map(row), cols: [0, 1, 2, 3].map(col), rowLevel, modes, writes, press, release, bounce };
}

describe("matrix keypad driver (fake 4x4 matrix)", () => {
  it("drives the rows as outputs, all high at idle, and reads the columns with pull-downs and a debounce", () => {
    const m = matrix();
    new MatrixKeypad({ rows: m.rows, cols: m.cols, keys: KEYS });
    assert.deepEqual(m.rowLevel, [1, 1, 1, 1]);
    assert.ok(m.modes.slice(0, 4).every((x) => /^row\d:/.test(x)));
    assert.ok(m.modes.slice(4).every((x) => /^col\d:\d+:10$/.test(x)), m.modes.join(" "));
  });

  it("names every one of the 16 keys by its row and column", () => {
    const m = matrix();
    const got: string[] = [];
    const k = new MatrixKeypad({ rows: m.rows, cols: m.cols, keys: KEYS });
    k.listen((x) => got.push(x));
    for (const key of KEYS) {
      m.press(key);
      m.release(key);
    }
    assert.equal(got.join(""), KEYS);
    assert.deepEqual(m.rowLevel, [1, 1, 1, 1], "rows are left high for the next press");
  });

  it("reports a held key once, however often its column bounces", () => {
    const m = matrix();
    const got: string[] = [];
    const k = new MatrixKeypad({ rows: m.rows, cols: m.cols, keys: KEYS });
    k.listen((x) => got.push(x));
    m.press("5");
    m.bounce("5");
    m.bounce("5");
    m.release("5");
    m.bounce("5"); // a bounce after release: nothing held, nothing reported
    assert.deepEqual(got, ["5"]);
  });

  it("reports a second key pressed while the first is still held only after all keys were released", () => {
    const m = matrix();
    const got: string[] = [];
    const k = new MatrixKeypad({ rows: m.rows, cols: m.cols, keys: KEYS });
    k.listen((x) => got.push(x));
    m.press("1");
    m.press("9"); // rollover: ignored while 1 is held
    m.release("9");
    m.release("1");
    m.press("9");
    assert.deepEqual(got, ["1", "9"]);
  });

  it("reports nothing before a listener is set, and does not crash", () => {
    const m = matrix();
    new MatrixKeypad({ rows: m.rows, cols: m.cols, keys: KEYS });
    m.press("#");
    m.release("#");
  });
});
