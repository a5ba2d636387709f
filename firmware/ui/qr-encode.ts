/**
 * A small QR code encoder for the display (ISO/IEC 18004:2015): alphanumeric or byte mode, error correction level
 * L, versions 2 to 9, fixed mask 0. Decoders do not care which mask was chosen; skipping the mask search keeps it
 * fast on the interpreter, and the whole encoder small next to a general library (qrcode-generator alone is 21 KB
 * minified).
 * - Protocol QR texts are Base45 ("R1..."), the QR alphanumeric alphabet (mode 0010, a 9-bit character count up to
 *   version 9): a payment request (134 characters) fits version 5.
 * - Anything else (an invoice's pay URL, `<gateway>/pay#<base64url>`, with lower case and '#') goes in byte mode
 *   (mode 0100, an 8-bit character count up to version 9; section 7.4), one byte per character: ASCII only, so that
 *   every decoder reads the same text. A typical invoice URL (about 140 characters) needs version 7 (Table 7).
 * Capacities and block structure at level L are from Table 9: versions 2-5 have one Reed-Solomon block, 6-9 two
 * blocks of equal size whose codewords are interleaved, data then EC. Versions 7 and up carry version information
 * (BCH(18,6), generator 0x1F25, Annex D) and a 3x3 grid of alignment patterns at 6, 2v+8 and 4v+10 (Annex E).
 *
 *   const q = qrEncode(text);    // null when the text is too long for version 9 or not ASCII
 *   if (q) for (y...) for (x...) if (q.modules[y * q.size + x]) dark(x, y);
 */

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
/** ISO/IEC 18004 Table 9, level L, versions 2..9: data codewords per block, EC codewords per block (typed arrays:
 * a few JsVars each where an array of numbers takes one per element). */
const DATA_CW = new Uint8Array([34, 55, 80, 108, 68, 78, 97, 116]);
const EC_CW = new Uint8Array([10, 15, 20, 26, 18, 20, 24, 30]);
/** Number of blocks: 1 up to version 5, then 2. */
const BLOCKS_FROM_V6 = 4;

export interface QrMatrix {
  size: number;
  /** 1 = dark, row-major. */
  modules: Uint8Array;
}

/**
 * The EC codewords of every block of `data` (`nb` blocks of `k` codewords), `n` per block, one after the other.
 * GF(256) with the polynomial 0x11D, by log and antilog tables made per call (a few hundred bytes,
 * freed after: nothing kept in RAM between codes).
 */
function rsBlocks(data: Uint8Array, nb: number, k: number, n: number): Uint8Array {
  const exp = new Uint8Array(510);
  const log = new Uint8Array(256);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp[i] = exp[i + 255] = x;
    log[x] = i;
    x = (x << 1) ^ ((x >>> 7) * 0x11d);
  }
  // generator (x - a^0)(x - a^1)...(x - a^(n-1)), leading 1 left out, highest degree first
  const g = new Uint8Array(n);
  g[n - 1] = 1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      g[j] = g[j] ? exp[log[g[j]] + i] : 0;
      if (j + 1 < n) g[j] ^= g[j + 1];
    }
  }
  for (let j = 0; j < n; j++) g[j] = log[g[j]]; // all non-zero: keep their logs
  // long division of each block by the generator, in place: the block's data, then its n EC codewords
  const out = new Uint8Array(nb * n);
  const buf = new Uint8Array(k + n);
  for (let b = 0; b < nb; b++) {
    buf.fill(0);
    buf.set(data.subarray(b * k, b * k + k));
    for (let c = 0; c < k; c++) {
      const f = buf[c];
      if (f) {
        const lf = log[f];
        for (let i = 0; i < n; i++) buf[c + 1 + i] ^= exp[g[i] + lf];
      }
    }
    out.set(buf.subarray(k), b * n);
  }
  return out;
}

export function qrEncode(text: string): QrMatrix | null {
  const len = text.length;
  let alnum = true;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c > 126 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) return null;
    if (alnum && ALNUM.indexOf(text.charAt(i)) < 0) alnum = false;
  }
  // mode and character count (9 bits alphanumeric, 8 bits byte, versions 1-9), then the characters
  const bits = alnum ? 13 + 11 * (len >> 1) + 6 * (len & 1) : 12 + 8 * len;
  let v = -1;
  for (let i = 0; i < DATA_CW.length; i++) if (bits <= DATA_CW[i] * (i < BLOCKS_FROM_V6 ? 8 : 16)) {
    v = i;
    break;
  }
  if (v < 0) return null;
  const nb = v < BLOCKS_FROM_V6 ? 1 : 2;
  const k = DATA_CW[v];
  const nData = nb * k;
  const data = new Uint8Array(nData);
  let bp = 0;
  const put = (val: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) {
      if ((val >>> i) & 1) data[bp >> 3] |= 0x80 >> (bp & 7);
      bp++;
    }
  };
  if (alnum) {
    put(2, 4);
    put(len, 9);
    for (let i = 0; i < len; i += 2) {
      const a = ALNUM.indexOf(text.charAt(i));
      if (i + 1 < len) put(a * 45 + ALNUM.indexOf(text.charAt(i + 1)), 11);
      else put(a, 6);
    }
  } else {
    put(4, 4);
    put(len, 8);
    for (let i = 0; i < len; i++) put(text.charCodeAt(i), 8);
  }
  bp += Math.min(4, nData * 8 - bp); // terminator
  let at = (bp + 7) >> 3;
  for (let pad = 0xec; at < nData; pad ^= 0xec ^ 0x11) data[at++] = pad;
  const nEc = EC_CW[v];
  const ec = rsBlocks(data, nb, k, nEc);

  const version = v + 2;
  const size = 17 + 4 * version;
  // bit 0: dark; bit 1: a function module (finder, timing, alignment, format, version), skipped by the data
  const m = new Uint8Array(size * size);
  const set = (x: number, y: number, dark: boolean) => {
    m[y * size + x] = dark ? 3 : 2;
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
  // alignment patterns (Annex E): centres at 6, (versions 7+) 2v+8, and 4v+10, but none on a finder
  const last = 4 * version + 10;
  const np = version >= 7 ? 3 : 2;
  const pos = (i: number) => (i === 0 ? 6 : i === np - 1 ? last : 2 * version + 8);
  for (let iy = 0; iy < np; iy++)
    for (let ix = 0; ix < np; ix++) {
      if ((ix === 0 && (iy === 0 || iy === np - 1)) || (iy === 0 && ix === np - 1)) continue;
      const ax = pos(ix);
      const ay = pos(iy);
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) set(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  // format information: level L (01), mask 0, BCH(15,5), XOR mask 0x5412 (Annex C)
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
  // version information from version 7: 6 bits of version, BCH(18,6) with generator 0x1F25 (Annex D), in two
  // 6x3 blocks beside the top-right and bottom-left finders
  if (version >= 7) {
    let vr = version;
    for (let i = 0; i < 12; i++) vr = (vr << 1) ^ ((vr >>> 11) * 0x1f25);
    const vb = (version << 12) | vr;
    for (let i = 0; i < 18; i++) {
      const dark = ((vb >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = (i / 3) | 0;
      set(a, b, dark);
      set(b, a, dark);
    }
  }
  // codewords in the zigzag, two modules wide, up and down from the bottom right; blocks interleaved (data codeword
  // i of each block in turn, then the EC codewords likewise); remainder bits 0; mask 0 ((x + y) even flips) on data modules
  const all = new Uint8Array(nData + nb * nEc);
  for (let n = 0; n < nData; n++) all[n] = data[(n % nb) * k + ((n / nb) | 0)];
  for (let n = 0; n < nb * nEc; n++) all[nData + n] = ec[(n % nb) * nEc + ((n / nb) | 0)];
  const nBits = all.length * 8;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < size; vert++) {
      const y = upward ? size - 1 - vert : vert;
      for (let x = right; x >= right - 1; x--) {
        const p = y * size + x;
        if (m[p]) {
          m[p] &= 1;
          continue;
        }
        const dark = i < nBits ? (all[i >> 3] >> (7 - (i & 7))) & 1 : 0;
        i++;
        m[p] = dark ^ ((x + y) & 1) ^ 1;
      }
    }
  }
  // column 6 (the vertical timing pattern) is skipped by the zigzag: clear its function flags too
  for (let y = 0; y < size; y++) m[y * size + 6] &= 1;
  return { size: size, modules: m };
}
