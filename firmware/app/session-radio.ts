/**
 * The Bluetooth side of an open payment or invoice: advertises the encrypted session (protocol/
 * ble-session.ts), sends the session's first message (the request or the invoice) when a phone connects, passes
 * every message on, and, once the session ends, stops only after the last notification (the receipt) went out.
 *
 *   const radio = new SessionRadio(device, cert, terminalId, relay);   // relay: optional, below
 *   radio.start(() => request, touch, (m) => { if (m[1] === MsgType.Payment) ... });
 *   radio.send(receipt);   // false when no phone is connected
 *   radio.end();           // at the session's end: stops 1.5 s later
 *   radio.release();       // the next session calls this before it advertises: a late stop cannot hit it
 */
import type { Device } from "../../hal/device.ts";
import { BleSession } from "../../protocol/ble-session.ts";

/** How long an ended session's link stays up for its last notifications. */
const LINGER_MS = 1500;

export class SessionRadio {
  private ble: BleSession | null = null;
  private stopping: BleSession | null = null;
  private stopTimer = 0;

  constructor(
    private d: Device,
    private cert: Uint8Array,
    private terminalId: number,
    /**
     * Optional: a relay bundle of pending records for the phone to carry to the gateway (docs/protocol.md, "Relayed
     * records"), or null; sent right after the first message, so it reaches the phone before the receipt.
     */
    private relay?: (done: (bundle: Uint8Array | null) => void) => void,
  ) {}

  /** Advertise; `first()` is sent on each connection, `onOpen` marks progress, `onMessage` gets each message. */
  start(first: () => Uint8Array | null, onOpen: () => void, onMessage: (m: Uint8Array) => void): void {
    const d = this.d;
    if (!this.cert.length) return;
    const s = new BleSession({
      ble: d.ble,
      se: d.secure,
      crypto: d.crypto,
      cert: this.cert,
      name: "PAY " + this.terminalId,
      now: () => d.clock.uptime(),
      onOpen: () => {
        onOpen();
        const m = first();
        if (this.ble === s && m) {
          s.send(m);
          if (this.relay) this.relay((b) => (this.ble === s && b ? s.send(b) : false));
        }
      },
      onMessage: (m) => {
        if (this.ble === s) onMessage(m);
      },
    });
    this.ble = s;
    s.start();
  }

  send(m: Uint8Array): boolean {
    return this.ble ? this.ble.send(m) : false;
  }

  /** The session ended: let the last notifications go out, then stop. */
  end(): void {
    const b = this.ble;
    if (!b) return;
    this.ble = null;
    this.stopping = b;
    this.stopTimer = this.d.clock.setTimeout(() => this.release(), LINGER_MS);
  }

  /** Stop an ended session's radio now. */
  release(): void {
    if (this.stopTimer) this.d.clock.clear(this.stopTimer);
    this.stopTimer = 0;
    const b = this.stopping;
    this.stopping = null;
    if (b) b.stop();
  }
}
