/**
 * A small QR code encoder for the display (ISO/IEC 18004): alphanumeric mode, error correction level L, versions
 * 2 to 5 (one Reed-Solomon block each, one alignment pattern), fixed mask 0. Decoders do not care which mask was
 * chosen; skipping the mask search keeps it fast on the interpreter, and the whole encoder small next to a general
 * library (qrcode-generator alone is 21 KB minified). Protocol QR texts are Base45 ("R1..."), which is the QR
 * alphanumeric alphabet, so a payment request (134 characters) fits version 5.
 *
 *   const q = qrEncode("R1" + base45);    // null when the text is too long or not alphanumeric
 *   if (q) for (y...) for (x...) if (q.modules[y * q.size + x]) dark(x, y);
 */

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
/** Data and EC codewords of versions 2..5 at level L (one block each). */
const DATA_CW = [34, 55, 80, 108];
const EC_CW = [10, 15, 20, 26];

export interface QrMatrix {
  size: number;
  /** 1 = dark, row-major. */
  modules: Uint8Array;
}

function gfMul(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = ((z << 1) ^ ((z >>> 7) * 0x11d)) & 255;
    if ((y >>> i) & 1) z ^= x;
  }
  return z;
}

/** The RS remainder of `data` for `n` EC codewords. */
function rsRemainder(data: Uint8Array, n: number): Uint8Array {
  const div = new Uint8Array(n);
  div[n - 1] = 1;
  let root = 1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      div[j] = gfMul(div[j], root);
      if (j + 1 < n) div[j] ^= div[j + 1];
    }
    root = gfMul(root, 2);
  }
  const r = new Uint8Array(n);
  for (let k = 0; k < data.length; k++) {
    const f = data[k] ^ r[0];
    for (let i = 0; i < n - 1; i++) r[i] = r[i + 1];
    r[n - 1] = 0;
    for (let i = 0; i < n; i++) r[i] ^= gfMul(div[i], f);
  }
  return r;
}

export function qrEncode(text: string): QrMatrix | null {
  const len = text.length;
  const bits = 13 + 11 * (len >> 1) + 6 * (len & 1);
  let v = -1;
  for (let i = 0; i < DATA_CW.length; i++) if (bits <= DATA_CW[i] * 8) {
    v = i;
    break;
  }
  if (v < 0) return null;
  const nData = DATA_CW[v];
  const data = new Uint8Array(nData);
  let bp = 0;
  const put = (val: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) {
      if ((val >>> i) & 1) data[bp >> 3] |= 0x80 >> (bp & 7);
      bp++;
    }
  };
  put(2, 4);
  put(len, 9);
  for (let i = 0; i < len; i += 2) {
    const a = ALNUM.indexOf(text.charAt(i));
    if (a < 0) return null;
    if (i + 1 < len) {
      const b = ALNUM.indexOf(text.charAt(i + 1));
      if (b < 0) return null;
      put(a * 45 + b, 11);
    } else put(a, 6);
  }
  bp += Math.min(4, nData * 8 - bp); // terminator
  let at = (bp + 7) >> 3;
  for (let pad = 0xec; at < nData; pad ^= 0xec ^ 0x11) data[at++] = pad;
  const ec = rsRemainder(data, EC_CW[v]);

  const version = v + 2;
  const size = 17 + 4 * version;
  const m = new Uint8Array(size * size);
  const fn = new Uint8Array(size * size);
  const set = (x: number, y: number, dark: boolean) => {
    m[y * size + x] = dark ? 1 : 0;
    fn[y * size + x] = 1;
  };
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  const finder = (cx: number, cy: number) => {
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        set(x, y, d !== 2 && d !== 4);
      }
  };
  finder(3, 3);
  finder(size - 4, 3);
  finder(3, size - 4);
  const ap = 4 * version + 10;
  for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) set(ap + dx, ap + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  // format information: level L (01), mask 0, BCH(15,5), XOR mask 0x5412
  const fd = 1 << 3;
  let rem = fd;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  const f = ((fd << 10) | rem) ^ 0x5412;
  const fb = (i: number) => ((f >>> i) & 1) === 1;
  for (let i = 0; i <= 5; i++) set(8, i, fb(i));
  set(8, 7, fb(6));
  set(8, 8, fb(7));
  set(7, 8, fb(8));
  for (let i = 9; i < 15; i++) set(14 - i, 8, fb(i));
  for (let i = 0; i < 8; i++) set(size - 1 - i, 8, fb(i));
  for (let i = 8; i < 15; i++) set(8, size - 15 + i, fb(i));
  set(8, size - 8, true);
  // codewords in the zigzag, mask 0 ((x + y) even flips) on data modules
  const total = nData + ec.length;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const y = upward ? size - 1 - vert : vert;
        const k = y * size + x;
        if (fn[k]) continue;
        let dark = 0;
        if (i < total * 8) {
          const cw = i >> 3 < nData ? data[i >> 3] : ec[(i >> 3) - nData];
          dark = (cw >>> (7 - (i & 7))) & 1;
          i++;
        }
        m[k] = (x + y) % 2 === 0 ? dark ^ 1 : dark;
      }
    }
  }
  return { size: size, modules: m };
}
