/**
 * Text messages to payers (the 3-day auto-approval, a reversal), through an SmsProvider: a production gateway plugs
 * in its SMS vendor; the simulator's OutboxSmsProvider keeps what it was asked to send in memory and, when given a
 * path, appends it to a JSON-lines file anyone can read.
 *
 * The gateway first queues each message in its database (the `sms` table, inside the transaction that decided to
 * send it), then hands it to the provider after the commit (Gateway.flush()): a crash never loses or invents one.
 */
import { appendFileSync } from "node:fs";

export interface SmsMessage {
  to: string;
  text: string;
}

export interface SmsProvider {
  /** Sends one message; throws (or rejects) when the vendor refused it (the gateway retries later). */
  send(m: SmsMessage): void | Promise<void>;
}

/** The simulator's provider: an outbox you can read (`sent`), optionally mirrored to a JSON-lines file. */
export class OutboxSmsProvider implements SmsProvider {
  readonly sent: (SmsMessage & { at: number })[] = [];
  constructor(private readonly o: { file?: string; now?: () => number } = {}) {}
  send(m: SmsMessage): void {
    const row = { to: m.to, text: m.text, at: this.o.now ? this.o.now() : Date.now() };
    this.sent.push(row);
    if (this.o.file) appendFileSync(this.o.file, JSON.stringify(row) + "\n");
  }
}
