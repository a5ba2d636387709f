/**
 * The store hand-off link (docs/orders.md): a store's order system gives the terminal an order with the URL to call
 * once it is paid, as a custom-scheme link (shown as a QR code, or typed at the technician console):
 *
 *   pay-api://payNow?order=<base64url(Order, 44 bytes)>&callback=<percent-encoded URL>&tag=<base64url(16 bytes)>
 *
 *   tag = HMAC-SHA256(order key, "pay-api v1" | Order (44) | callback (ASCII, decoded))[0..16]
 *
 * The Order inside keeps its own tag (docs/protocol.md section 2); the link's tag adds the callback, so neither the
 * order nor the URL can be changed without the merchant's order key. base64url is RFC 4648 section 5 without
 * padding; percent-encoding is RFC 3986 section 2.1. The parameters may come in any order; each exactly once.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { ascii, concat, equalConstantTime } from "./codec/hex.ts";
import { hmacSha256 } from "./hmac.ts";
import { Len, MsgType, VERSION } from "./messages.ts";
import { fromBase64, toBase64 } from "./sync.ts";

/** The link's texts and sizes (a const enum: inlined, so the device holds no variable for them). */
const enum L {
  Prefix = "pay-api://payNow?",
  Label = "pay-api v1",
  /** Longest callback URL a link may carry (it travels in the terminal's upload, docs/sync.md section 3). */
  CallbackMax = 200,
  Tag = 16,
  Hex = "0123456789ABCDEF",
}
export const ORDER_LINK_PREFIX = L.Prefix;
export const ORDER_LINK_LABEL = L.Label;
export const CALLBACK_MAX = L.CallbackMax;

export interface OrderLink {
  order: Uint8Array; // 44, the Order message
  callback: string;
  tag: Uint8Array; // 16
}

/** RFC 4648 section 5 without padding. */
export function toBase64Url(b: Uint8Array): string {
  const s = toBase64(b);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === "=") break;
    out += c === "+" ? "-" : c === "/" ? "_" : c;
  }
  return out;
}

export function fromBase64Url(s: string): Uint8Array | undefined {
  let std = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === "+" || c === "/" || c === "=") return undefined;
    std += c === "-" ? "+" : c === "_" ? "/" : c;
  }
  while (std.length % 4) std += "=";
  return fromBase64(std);
}

/** A callback URL a link may carry: http(s), 1 to CALLBACK_MAX printable ASCII characters, no spaces. */
export function callbackOk(url: string): boolean {
  if (url.length > L.CallbackMax) return false;
  if (url.indexOf("https://") !== 0 && url.indexOf("http://") !== 0) return false;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return url.length > 8;
}

const SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/** Percent-encodes all but RFC 3986's unreserved characters (so ":", "/", "?", "&", "=" are encoded). */
export function percentEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    const n = s.charCodeAt(i) & 255;
    out += SAFE.indexOf(c) >= 0 ? c : "%" + L.Hex.charAt(n >> 4) + L.Hex.charAt(n & 15);
  }
  return out;
}

/** Decodes %XX escapes; undefined for a broken escape. "+" stays "+" (this is not form encoding). */
export function percentDecode(s: string): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c !== "%") {
      out += c;
      continue;
    }
    const hi = L.Hex.indexOf(s.charAt(i + 1).toUpperCase());
    const lo = L.Hex.indexOf(s.charAt(i + 2).toUpperCase());
    if (hi < 0 || lo < 0 || i + 2 >= s.length) return undefined;
    out += String.fromCharCode(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/** What the link's tag is an HMAC of: "pay-api v1" | order | callback. */
export function orderLinkTagged(order: Uint8Array, callback: string): Uint8Array {
  return concat([ascii(L.Label), order, ascii(callback)]);
}

/** The link's tag: HMAC-SHA256(order key, orderLinkTagged(order, callback))[0..16]. */
export function orderLinkTag(c: CryptoBackend, orderKey: Uint8Array, order: Uint8Array, callback: string): Uint8Array {
  return new Uint8Array(hmacSha256(c, orderKey, orderLinkTagged(order, callback)).subarray(0, L.Tag));
}

/** The link's text from its parts. */
export function orderLinkText(order: Uint8Array, callback: string, tag: Uint8Array): string {
  return L.Prefix + "order=" + toBase64Url(order) + "&callback=" + percentEncode(callback) + "&tag=" + toBase64Url(tag);
}

/** The link for an Order (44 bytes, already tagged with the order key) and its callback URL. */
export function makeOrderLink(c: CryptoBackend, orderKey: Uint8Array, order: Uint8Array, callback: string): string {
  return orderLinkText(order, callback, orderLinkTag(c, orderKey, order, callback));
}

/** Whether a scanned or typed text is a store hand-off link (its scheme), so the idle screen can route it. */
export function isOrderLink(text: string): boolean {
  return text.indexOf(L.Prefix) === 0;
}

/**
 * The link's parts, or null when it is not a well-formed link: another scheme or action, a parameter missing,
 * repeated or unknown, an order that is not 44 bytes with the Order header, a callback that is not an http(s) URL
 * of printable ASCII up to 200 characters, a tag that is not 16 bytes. Nothing is authenticated here: checkOrderLink.
 */
export function parseOrderLink(text: string): OrderLink | null {
  let t = text;
  while (t.length && (t.charCodeAt(t.length - 1) === 13 || t.charCodeAt(t.length - 1) === 10)) t = t.slice(0, -1);
  if (!isOrderLink(t)) return null;
  const parts = t.slice(L.Prefix.length).split("&");
  if (parts.length !== 3) return null;
  let order: Uint8Array | undefined;
  let callback: string | undefined;
  let tag: Uint8Array | undefined;
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf("=");
    if (eq < 0) return null;
    const k = parts[i].slice(0, eq);
    const v = parts[i].slice(eq + 1);
    if (k === "order" && !order) order = fromBase64Url(v);
    else if (k === "callback" && callback === undefined) callback = percentDecode(v);
    else if (k === "tag" && !tag) tag = fromBase64Url(v);
    else return null;
    if ((k === "order" && !order) || (k === "callback" && callback === undefined) || (k === "tag" && !tag)) return null;
  }
  if (!order || !tag || callback === undefined) return null;
  if (order.length !== Len.Order || order[0] !== VERSION || order[1] !== MsgType.Order || tag.length !== L.Tag) return null;
  if (!callbackOk(callback)) return null;
  return { order: order, callback: callback, tag: tag };
}

/** True when the link's tag is the order key's over its order and callback (constant-time compare). */
export function checkOrderLink(c: CryptoBackend, orderKey: Uint8Array, link: OrderLink): boolean {
  return equalConstantTime(orderLinkTag(c, orderKey, link.order, link.callback), link.tag);
}
