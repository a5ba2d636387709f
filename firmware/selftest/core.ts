/** Self-test cases of the platform-independent core: codecs and money. Protocol and journal cases join here. */
import { equalConstantTime, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { formatMoney, parseMinor } from "../money.ts";
import type { Case } from "./runner.ts";
import { expectEqual } from "./runner.ts";

export function coreCases(): Case[] {
  return [
    { name: "money formats cents", run: () => expectEqual(formatMoney(123456, "EUR"), "EUR 1,234.56") },
    { name: "money formats small", run: () => expectEqual(formatMoney(5, "EUR"), "EUR 0.05") },
    { name: "money formats millions", run: () => expectEqual(formatMoney(123456789012, "USD"), "USD 1,234,567,890.12") },
    { name: "money formats zero-exponent", run: () => expectEqual(formatMoney(1500, "JPY"), "JPY 1,500") },
    { name: "money formats negative", run: () => expectEqual(formatMoney(-250, "EUR"), "-EUR 2.50") },
    { name: "parseMinor digits", run: () => expectEqual(parseMinor("001999"), 1999) },
    { name: "parseMinor rejects non-digit", run: () => expectEqual(parseMinor("12a"), -1) },
    { name: "parseMinor rejects 13 digits", run: () => expectEqual(parseMinor("1234567890123"), -1) },
    { name: "hex round trip", run: () => expectEqual(toHex(fromHex("00ff10ab") as Uint8Array), "00ff10ab") },
    { name: "hex rejects odd", run: () => expectEqual(fromHex("abc"), undefined) },
    { name: "hex rejects non-hex", run: () => expectEqual(fromHex("zz"), undefined) },
    {
      name: "constant-time compare",
      run: () =>
        expectEqual(
          equalConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 2])) &&
            !equalConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 3])),
          true,
        ),
    },
  ];
}
