/** A QR scanner module: delivers decoded codes as text (ASCII payloads by design). */
export interface ScanResult {
  /** The decoded text without the module's tail. */
  text: string;
}
export interface Scanner {
  /** Register the one listener for codes and for errors (garbage, an over-long or cut-off code). */
  listen(onCode: (err: string | null, code?: ScanResult) => void): void;
  /** Arm the module for one scan (command-triggered mode). */
  trigger(): void;
}
