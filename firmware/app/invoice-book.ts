/**
 * The invoices this terminal issued since boot, kept by the terminal for the whole run (firmware/app/invoice.ts
 * uses it in its sessions). A file of its own because the invoice sessions are a part the bundle loads only while a
 * flow needs them (build.ts PARTS), and the book lives from boot.
 */
export const OPEN = 1;
export const PAID = 2;
const BOOK = 16;

/**
 * Invoices this terminal issued since boot (the last 16): number, amount, order, open or paid. Lets a notice that
 * arrives after its session ended still find its order reference, and refuses recording one invoice twice.
 */
export class InvoiceBook {
  private no = new Uint32Array(BOOK);
  private amount = new Uint32Array(BOOK);
  private state = new Uint8Array(BOOK);
  private refs: string[] = [];
  private next = 0;

  add(invoiceNo: number, amountMinor: number, orderRef: string): void {
    const i = this.next;
    this.next = (this.next + 1) % BOOK;
    this.no[i] = invoiceNo;
    this.amount[i] = amountMinor;
    this.state[i] = OPEN;
    this.refs[i] = orderRef;
  }

  private find(invoiceNo: number): number {
    for (let i = 0; i < BOOK; i++) if (this.state[i] && this.no[i] === invoiceNo) return i;
    return -1;
  }

  /** 0 unknown, 1 open, 2 paid. */
  stateOf(invoiceNo: number): number {
    const i = this.find(invoiceNo);
    return i < 0 ? 0 : this.state[i];
  }

  amountOf(invoiceNo: number): number {
    const i = this.find(invoiceNo);
    return i < 0 ? -1 : this.amount[i];
  }

  orderRefOf(invoiceNo: number): string {
    const i = this.find(invoiceNo);
    return i < 0 ? "" : this.refs[i] || "";
  }

  markPaid(invoiceNo: number): void {
    const i = this.find(invoiceNo);
    if (i >= 0) this.state[i] = PAID;
  }
}
