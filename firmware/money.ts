/**
 * Money is an integer count of minor units (cents) everywhere; Espruino's float printing is inexact
 * (`String(1234567.89)` gives "1234567.89000000013"), so formatting is done on integers only.
 */

/** Minor units per major unit by ISO 4217 exponent; currencies not listed use 2. */
const EXPONENT_0 = "JPY,KRW,VND,CLP,ISK,UGX,XAF,XOF";

export function exponent(currency: string): number {
  return EXPONENT_0.indexOf(currency) >= 0 ? 0 : 2;
}

/** 123456 EUR -> "EUR 1,234.56"; negative amounts get a leading "-". */
export function formatMoney(minor: number, currency: string): string {
  const neg = minor < 0;
  let n = Math.floor(Math.abs(minor));
  const exp = exponent(currency);
  let frac = "";
  if (exp) {
    const f = n % 100;
    frac = "." + (f < 10 ? "0" : "") + f;
    n = Math.floor(n / 100);
  }
  const digits = "" + n;
  let whole = "";
  for (let i = 0; i < digits.length; i++) {
    if (i && (digits.length - i) % 3 === 0) whole += ",";
    whole += digits.charAt(i);
  }
  return (neg ? "-" : "") + currency + " " + whole + frac;
}

/**
 * Parse what the merchant typed as digits ("1234" -> 1234 minor units). Returns -1 for anything that is not
 * 1..12 digits.
 */
export function parseMinor(digits: string): number {
  if (!digits.length || digits.length > 12) return -1;
  let n = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The ISO 4217 number of a currency code ("EUR" -> 978), 0 for one not listed. The table is in the function's code,
 * so it stays in flash until called.
 */
export function currencyNumber(code: string): number {
  const t = "EUR978USD840GBP826CHF756JPY392SEK752NOK578DKK208PLN985CZK203";
  const i = code.length === 3 ? t.indexOf(code) : -1;
  return i >= 0 && i % 6 === 0 ? parseInt(t.substr(i + 3, 3), 10) : 0;
}
