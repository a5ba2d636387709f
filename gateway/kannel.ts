/**
 * An SmsProvider over Kannel's HTTP sendsms interface (Kannel 1.4 user's guide, "Sending SMS messages" and
 * "Delivery reports"): one GET to smsbox's sendsms port per message.
 *
 *   const sms = new KannelSmsProvider({ url: "http://127.0.0.1:13013", user: "gw", password: "…", from: "Gateway",
 *                                       dlrUrl: "https://gateway.example" });
 *   new Gateway({ store, sms });
 *
 * smsbox answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery" while no SMSC is connected: taken
 * all the same, bearerbox keeps it). A 4xx answer (bad number, a text it will not take) is a refusal of that
 * message: the gateway counts it. Anything else (connection refused, timeout, 5xx, 403 from a wrong user or
 * password, which is the operator's to fix) is SMS_UNAVAILABLE: the message stays queued and is retried.
 *
 * With `dlrUrl` (the gateway's own base URL as Kannel reaches it), every message asks for delivery reports:
 * dlr-mask 31 and dlr-url `<dlrUrl>/v1/sms/<id>/dlr?token=<the message's secret>&type=%d`; Kannel replaces `%d`
 * with the report's type and calls it back (GET). The gateway records it on the message's row.
 */
import type { SmsMessage, SmsProvider } from "./sms.ts";
import { DLR_MASK, SmsError } from "./sms.ts";

export interface KannelOptions {
  /** smsbox's sendsms base URL, e.g. http://127.0.0.1:13013 (the path /cgi-bin/sendsms is added). */
  url: string;
  /** A `sendsms-user` group's username and password. */
  user: string;
  password: string;
  /** The sender shown on phones (alphanumeric, up to 11 characters); default: the sendsms-user's default-sender. */
  from?: string;
  /** The gateway's base URL as Kannel reaches it, for delivery reports; none: no reports asked for. */
  dlrUrl?: string;
  /** Milliseconds before a request is given up (default 10 s). */
  timeoutMs?: number;
  /** For tests: the fetch to use (default: Node's). */
  fetch?: typeof fetch;
}

/** The options' problem, or "": an http(s) URL without credentials in it, a user, a sender Kannel can show. */
export function kannelOptionsProblem(o: KannelOptions): string {
  const url = (s: string) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && !u.search;
    } catch {
      return false;
    }
  };
  if (!o || typeof o.url !== "string" || !url(o.url)) return "url: Kannel's sendsms base URL, http(s)://host:port";
  if (typeof o.user !== "string" || !o.user) return "user: a sendsms-user's username";
  if (typeof o.password !== "string") return "password: a string";
  if (o.from !== undefined && (typeof o.from !== "string" || !/^(\+?[0-9]{1,15}|[A-Za-z0-9 ._-]{1,11})$/.test(o.from))) return "from: up to 11 letters or digits, or a number";
  if (o.dlrUrl !== undefined && (typeof o.dlrUrl !== "string" || !url(o.dlrUrl))) return "dlrUrl: the gateway's base URL, http(s)://host:port";
  return "";
}

/** The sendsms request for one message (a pure function: tested without Kannel). */
export function sendsmsUrl(o: KannelOptions, m: SmsMessage): string {
  const q = new URLSearchParams();
  q.set("username", o.user);
  q.set("password", o.password);
  q.set("to", m.to);
  if (o.from) q.set("from", o.from);
  q.set("text", m.text);
  q.set("charset", "UTF-8");
  if (o.dlrUrl && m.id !== undefined && m.token) {
    q.set("dlr-mask", String(DLR_MASK));
    q.set("dlr-url", o.dlrUrl.replace(/\/+$/, "") + "/v1/sms/" + m.id + "/dlr?token=" + encodeURIComponent(m.token) + "&type=%d");
  }
  return o.url.replace(/\/+$/, "") + "/cgi-bin/sendsms?" + q.toString();
}

export class KannelSmsProvider implements SmsProvider {
  constructor(private readonly o: KannelOptions) {
    const p = kannelOptionsProblem(o);
    if (p) throw new Error("kannel: " + p);
  }

  async send(m: SmsMessage): Promise<void> {
    const f = this.o.fetch ?? fetch;
    let status: number;
    let text: string;
    try {
      const r = await f(sendsmsUrl(this.o, m), { redirect: "manual", signal: AbortSignal.timeout(this.o.timeoutMs ?? 10000) });
      status = r.status;
      text = (await r.text()).trim().slice(0, 200);
    } catch (e) {
      // never echo the URL: it holds the password
      const why = e instanceof Error ? (e.name === "TimeoutError" ? "timeout" : (e as { cause?: { code?: string } }).cause?.code || e.name) : "error";
      throw new SmsError("SMS_UNAVAILABLE", "kannel unreachable (" + why + ")");
    }
    if (status >= 200 && status <= 299) return;
    if (status >= 400 && status <= 499 && status !== 403 && status !== 408 && status !== 429) throw new SmsError("SMS_REFUSED", "kannel refused: HTTP " + status + " " + text);
    throw new SmsError("SMS_UNAVAILABLE", "kannel: HTTP " + status + " " + text);
  }
}
