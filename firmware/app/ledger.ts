/**
 * What the terminal remembers of wallets since its last sync (protocol/check.ts WalletLedger): per wallet
 * and allowance, the highest counter seen and the amount accepted offline. Rebuilt at boot from the journal's
 * pending wallet payments, so a reboot does not forget a counter (replays stay refused) or an amount (the per-wallet
 * limit stays right). Wallets are few between syncs; each costs one small object.
 *
 *   const l = new RamLedger();  l.record(walletId, expiryDay, counter, amountMinor);
 */
import type { WalletLedger } from "../../protocol/check.ts";

interface Seen {
  day: number;
  counter: number;
  spent: number;
}

export class RamLedger implements WalletLedger {
  private w: { [walletId: string]: Seen } = {};
  private deny: (walletId: string) => boolean;

  constructor(denied?: (walletId: string) => boolean) {
    this.deny = denied || (() => false);
  }

  denied(walletId: string): boolean {
    return this.deny(walletId);
  }

  lastCounter(walletId: string, day: number): number {
    const s = this.w[walletId];
    return s && s.day === day ? s.counter : -1;
  }

  spentMinor(walletId: string, day: number): number {
    const s = this.w[walletId];
    return s && s.day === day ? s.spent : 0;
  }

  /** Accepted offline across allowances (the per-wallet risk limit). */
  walletSpent(walletId: string): number {
    const s = this.w[walletId];
    return s ? s.spent : 0;
  }

  record(walletId: string, day: number, counter: number, amountMinor: number): void {
    let s = this.w[walletId];
    if (!s || s.day !== day) s = this.w[walletId] = { day: day, counter: -1, spent: 0 };
    if (counter > s.counter) s.counter = counter;
    s.spent += amountMinor;
  }

  /** After a sync acknowledged everything: the gateway holds the counters now. */
  clear(): void {
    this.w = {};
  }
}
