/** A receipt printer. Jobs are byte streams built by a pure encoder; the driver paces them to the part. */
export type PrinterStatus = "ready" | "paper-out" | "cover-open" | "offline" | "error";
export interface Printer {
  /** Send a job; the callback fires once it has gone out, or with the reason it could not. */
  print(job: Uint8Array, done: (err: string | null) => void): void;
  /** Ask the printer how it is (real-time status). */
  status(done: (status: PrinterStatus) => void): void;
}
