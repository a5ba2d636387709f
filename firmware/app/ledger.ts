/**
 * What the terminal remembers of wallets since its last sync (protocol/check.ts WalletLedger): per wallet
 * and allowance, the highest counter seen and the amount accepted offline. Rebuilt at boot from the journal's
 * pending wallet payments, so a reboot does not forget a counter (replays stay refused) or an amount (the per-wallet
 * limit stays right). Wallets are few between syncs; each costs one small object.
 *
 *   const l = new RamLedger();  l.record(walletId, expiryDay, counter, amountMinor);
 */
import type { WalletLedger } from "../../protocol/check.ts";

/** Allowances remembered per wallet between syncs; a further one is refused (R08) rather than forget one. */
export const ALLOWANCES_PER_WALLET = 4;

/**
 * One wallet: `total` across all its allowances (the per-wallet risk limit), and per allowance (keyed by its
 * expiry day, the key protocol/check.ts uses; two allowances sharing a day are counted together, which only
 * refuses more) its highest counter and its total, as rows of [day, counter, spent] in one small typed array
 * (a fixed 4 JsVars or so, whatever the number of payments). Nothing is reset when the wallet switches allowance:
 * a reset let a wallet alternating two allowances start both limits from 0 at every switch.
 */
interface Seen {
  total: number;
  rows: Float64Array;
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

  /** Row offset of the allowance in the wallet's table, -1 when absent, -2 when absent and the table is full. */
  private row(s: Seen | undefined, day: number): number {
    if (!s) return -1;
    for (let o = 0; o < s.rows.length; o += 3) {
      if (s.rows[o] === day) return o;
      if (s.rows[o] < 0) return -1;
    }
    return -2;
  }

  lastCounter(walletId: string, day: number): number {
    const s = this.w[walletId];
    const o = this.row(s, day);
    // a table full of other allowances: any counter counts as replayed (R08) until a sync clears it
    return o >= 0 ? (s as Seen).rows[o + 1] : o === -2 ? Infinity : -1;
  }

  spentMinor(walletId: string, day: number): number {
    const s = this.w[walletId];
    const o = this.row(s, day);
    return o >= 0 ? (s as Seen).rows[o + 2] : 0;
  }

  /** Accepted offline across allowances, online approvals not counted (the per-wallet risk limit). */
  walletSpent(walletId: string): number {
    const s = this.w[walletId];
    return s ? s.total : 0;
  }

  /**
   * A payment journaled: its counter (replays stay refused) and its amount under its allowance (R07: the allowance's
   * money is spent however it was taken). `online`: approved and settled by the gateway, so not in the per-wallet
   * total, which counts the risk taken offline (an online approval must not refuse a later honest offline payment).
   */
  record(walletId: string, day: number, counter: number, amountMinor: number, online?: boolean): void {
    let s = this.w[walletId];
    if (!s) {
      s = this.w[walletId] = { total: 0, rows: new Float64Array(3 * ALLOWANCES_PER_WALLET) };
      s.rows.fill(-1);
    }
    if (!online) s.total += amountMinor;
    let o = this.row(s, day);
    if (o === -2) return;
    if (o < 0) {
      o = 0;
      while (s.rows[o] >= 0) o += 3;
      s.rows[o] = day;
      s.rows[o + 2] = 0;
    }
    if (counter > s.rows[o + 1]) s.rows[o + 1] = counter;
    s.rows[o + 2] += amountMinor;
  }

  /** After a sync acknowledged everything: the gateway holds the counters now. */
  clear(): void {
    this.w = {};
  }
}
