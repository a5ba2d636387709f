/**
 * A simulated phone: a Bluetooth LE central that connects to what the bundle published through `NRF`
 * (host.ble.services, setAdvertising), writes its characteristics and receives its notifications. It has the
 * BleCentral shape of sdk/ble.ts, so the simulator's customer wallet drives a payment through the same SDK code
 * as a phone app:
 *
 *   const phone = new SimPhone(host);
 *   phone.connect();                                   // NRF.on("connect") fires in the bundle
 *   const s = new WalletBleSession(phone, { now: () => host.sched.now, issuerKeys, wallClockMs: () => host.wallClock() });
 *   const info = await s.open();                       // while host.advance(...) runs the device
 *
 * What ESP32's Espruino does that the phone honours: 16-bit characteristic UUIDs (written as "FFF2"), writes of at
 * most 20 bytes (MTU 23: longer writes would arrive as pieces that Espruino does not reassemble, so they are
 * refused here), notifications only while connected, and events delivered from the device's event loop (the
 * bundle sees a write when the host next advances).
 */
import type { TerminalHost } from "../engine/engine.ts";

/** ATT payload of one write or notification at the default MTU of 23. */
export const ATT_PAYLOAD = 20;
/** The Nordic UART service Espruino adds unless `uart:false`: not the payment service. */
const NORDIC_UART = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";

function hex4(n: number): string {
  return ("000" + n.toString(16)).slice(-4).toUpperCase();
}

export interface SimPhoneOptions {
  /** Service to talk to (default: the first one published other than the Nordic UART). */
  service?: string;
}

export class SimPhone {
  private readonly host: TerminalHost;
  private readonly want: string | undefined;
  private listeners: ((charUuid: number, bytes: Uint8Array) => void)[] = [];
  private connected = false;
  private readonly hook = (service: string, char: string, bytes: Uint8Array) => {
    if (!this.connected || service.toUpperCase() !== this.service().toUpperCase()) return;
    const uuid = parseInt(char, 16);
    for (const fn of this.listeners) fn(uuid, bytes);
  };

  constructor(host: TerminalHost, o: SimPhoneOptions = {}) {
    this.host = host;
    this.want = o.service;
  }

  /** Connects to the device (it must be advertising a service). */
  connect(address = "aa:bb:cc:dd:ee:01"): void {
    if (this.connected) throw new Error("SimPhone: already connected");
    if (!this.host.ble.advertising || !this.host.ble.awake) throw new Error("SimPhone: the device is not advertising");
    this.service(); // throws when nothing is published
    this.connected = true;
    this.host.bleNotifyListeners.push(this.hook);
    this.host.bleConnect(address);
  }

  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    const i = this.host.bleNotifyListeners.indexOf(this.hook);
    if (i >= 0) this.host.bleNotifyListeners.splice(i, 1);
    this.host.bleDisconnect(19);
  }

  get isConnected(): boolean {
    return this.connected && this.host.ble.connected !== null;
  }

  /** The characteristic's current value (Espruino on ESP32 returns the stored value; no read offsets). */
  read(charUuid: number): Uint8Array {
    const ch = this.char(charUuid);
    if (!ch.readable) throw new Error("SimPhone: characteristic " + hex4(charUuid) + " is not readable");
    const v = ch.value;
    if (v === undefined || v === null) return new Uint8Array(0);
    if (typeof v === "string") return Uint8Array.from(v, (c) => c.charCodeAt(0) & 255);
    if (ArrayBuffer.isView(v)) return new Uint8Array(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (Object.prototype.toString.call(v) === "[object ArrayBuffer]") return new Uint8Array(new Uint8Array(v as ArrayBuffer));
    if (Array.isArray(v)) return Uint8Array.from(v as number[]);
    throw new Error("SimPhone: unreadable value in " + hex4(charUuid));
  }

  /** One ATT write of at most 20 bytes; the bundle's onWrite runs when the host next advances. */
  write(charUuid: number, bytes: Uint8Array): void {
    if (!this.isConnected) throw new Error("SimPhone: not connected");
    if (bytes.length > ATT_PAYLOAD) throw new Error("SimPhone: a write of " + bytes.length + " bytes exceeds MTU 23 (ESP32's Espruino does not reassemble prepared writes)");
    this.char(charUuid); // fails loudly on an unknown characteristic
    this.host.bleWrite(this.service(), hex4(charUuid), bytes);
  }

  onNotify(fn: (charUuid: number, bytes: Uint8Array) => void): void {
    this.listeners.push(fn);
  }

  private service(): string {
    const names = Object.keys(this.host.ble.services);
    if (this.want) {
      const found = names.find((n) => n.toUpperCase() === this.want!.toUpperCase());
      if (!found) throw new Error("SimPhone: the device publishes no service " + this.want);
      return found;
    }
    const found = names.find((n) => n.toLowerCase() !== NORDIC_UART);
    if (!found) throw new Error("SimPhone: the device publishes no service");
    return found;
  }

  private char(uuid: number): Record<string, unknown> {
    const svc = this.host.ble.services[this.service()];
    const key = Object.keys(svc).find((k) => k.toUpperCase() === hex4(uuid));
    if (!key) throw new Error("SimPhone: no characteristic " + hex4(uuid));
    return svc[key];
  }
}
