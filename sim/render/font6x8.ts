/**
 * A 6x8 bitmap font for the simulator's display: printable ASCII 32..126 drawn as 5x7 glyphs (descenders use
 * row 7) in a 6x8 cell, column 5 left blank as spacing. Designed for this project; Espruino's own fonts differ.
 *
 *   import { glyphRows, FONT_W, FONT_H } from "./font6x8.ts";
 *   const rows = glyphRows("A".charCodeAt(0)); // 8 bytes, top row first
 *   const lit = (rows[y] >> (FONT_W - 1 - x)) & 1; // x = 0 is the leftmost column
 */

/** Width of a character cell in pixels. */
export const FONT_W = 6;
/** Height of a character cell in pixels. */
export const FONT_H = 8;

const FIRST = 32;
const LAST = 126;

/** 16 hex digits per glyph: 8 rows top to bottom; bit 5 = leftmost column, bit 0 = rightmost. */
const TABLE =
  "0000000000000000" + // 32 space
  "0808080808000800" + // 33 "!"
  "1414140000000000" + // 34 "\""
  "14143e143e141400" + // 35 "#"
  "081e281c0a3c0800" + // 36 "$"
  "3032040810260600" + // 37 "%"
  "182428102a241a00" + // 38 "&"
  "0808100000000000" + // 39 "'"
  "0408101010080400" + // 40 "("
  "1008040404081000" + // 41 ")"
  "00082a1c2a080000" + // 42 "*"
  "0008083e08080000" + // 43 "+"
  "0000000000180810" + // 44 ","
  "0000003e00000000" + // 45 "-"
  "0000000000181800" + // 46 "."
  "0002040810200000" + // 47 "/"
  "1c22262a32221c00" + // 48 "0"
  "0818080808081c00" + // 49 "1"
  "1c22020408103e00" + // 50 "2"
  "3e04080402221c00" + // 51 "3"
  "040c14243e040400" + // 52 "4"
  "3e203c0202221c00" + // 53 "5"
  "0c10203c22221c00" + // 54 "6"
  "3e02040810101000" + // 55 "7"
  "1c22221c22221c00" + // 56 "8"
  "1c22221e02041800" + // 57 "9"
  "0018180018180000" + // 58 ":"
  "0018180018081000" + // 59 ";"
  "0408102010080400" + // 60 "<"
  "00003e003e000000" + // 61 "="
  "1008040204081000" + // 62 ">"
  "1c22020408000800" + // 63 "?"
  "1c22021a2a2a1c00" + // 64 "@"
  "1c22223e22222200" + // 65 "A"
  "3c22223c22223c00" + // 66 "B"
  "1c22202020221c00" + // 67 "C"
  "3824222222243800" + // 68 "D"
  "3e20203c20203e00" + // 69 "E"
  "3e20203c20202000" + // 70 "F"
  "1c22202e22221e00" + // 71 "G"
  "2222223e22222200" + // 72 "H"
  "1c08080808081c00" + // 73 "I"
  "0e04040404241800" + // 74 "J"
  "2224283028242200" + // 75 "K"
  "2020202020203e00" + // 76 "L"
  "22362a2a22222200" + // 77 "M"
  "2222322a26222200" + // 78 "N"
  "1c22222222221c00" + // 79 "O"
  "3c22223c20202000" + // 80 "P"
  "1c2222222a241a00" + // 81 "Q"
  "3c22223c28242200" + // 82 "R"
  "1e20201c02023c00" + // 83 "S"
  "3e08080808080800" + // 84 "T"
  "2222222222221c00" + // 85 "U"
  "2222222222140800" + // 86 "V"
  "2222222a2a2a1400" + // 87 "W"
  "2222140814222200" + // 88 "X"
  "2222140808080800" + // 89 "Y"
  "3e02040810203e00" + // 90 "Z"
  "1c10101010101c00" + // 91 "["
  "0020100804020000" + // 92 "\\"
  "1c04040404041c00" + // 93 "]"
  "0814220000000000" + // 94 "^"
  "000000000000003e" + // 95 "_"
  "1008040000000000" + // 96 "`"
  "00001c021e221e00" + // 97 "a"
  "20202c3222223c00" + // 98 "b"
  "00001c2020221c00" + // 99 "c"
  "02021a2622221e00" + // 100 "d"
  "00001c223e201c00" + // 101 "e"
  "0c12103810101000" + // 102 "f"
  "00001e22221e021c" + // 103 "g"
  "20202c3222222200" + // 104 "h"
  "0800180808081c00" + // 105 "i"
  "04000c0404042418" + // 106 "j"
  "2020242830282400" + // 107 "k"
  "1808080808081c00" + // 108 "l"
  "0000342a2a222200" + // 109 "m"
  "00002c3222222200" + // 110 "n"
  "00001c2222221c00" + // 111 "o"
  "00003c22223c2020" + // 112 "p"
  "00001e22221e0202" + // 113 "q"
  "00002c3220202000" + // 114 "r"
  "00001e201c023c00" + // 115 "s"
  "1010381010120c00" + // 116 "t"
  "0000222222261a00" + // 117 "u"
  "0000222222140800" + // 118 "v"
  "000022222a2a1400" + // 119 "w"
  "0000221408142200" + // 120 "x"
  "00002222221e021c" + // 121 "y"
  "00003e0408103e00" + // 122 "z"
  "0408081008080400" + // 123 "{"
  "0808080808080800" + // 124 "|"
  "1008080408081000" + // 125 "}"
  "0000102a04000000" + // 126 "~"
  "3e22222222223e00"; // placeholder box

const PLACEHOLDER = LAST - FIRST + 1;

function decode(): Uint8Array {
  const bytes = new Uint8Array(TABLE.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(TABLE.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

const GLYPHS = decode();

/**
 * The 8 rows of a character's glyph, top to bottom (bit 5 = leftmost of 6 columns, bit 0 = rightmost).
 * Codes outside 32..126 give a hollow box. Returns a fresh array each call.
 */
export function glyphRows(charCode: number): Uint8Array {
  const index = charCode >= FIRST && charCode <= LAST && Number.isInteger(charCode) ? charCode - FIRST : PLACEHOLDER;
  return GLYPHS.slice(index * FONT_H, index * FONT_H + FONT_H);
}
