/**
 * A Bluetooth LE GATT peripheral with one service. Characteristic UUIDs are 16-bit (ESP32's Espruino truncates
 * longer ones); values over 20 bytes are framed above this layer.
 */
export interface BleCharacteristic {
  uuid: number;
  readable?: boolean;
  writable?: boolean;
  notify?: boolean;
  value?: Uint8Array;
  onWrite?(data: Uint8Array): void;
}
export interface BleServiceOptions {
  service: string;
  name: string;
  characteristics: BleCharacteristic[];
  onConnect?(address: string): void;
  onDisconnect?(): void;
}
export interface Ble {
  /** Publish the service and advertise. */
  start(options: BleServiceOptions): void;
  /** Update a characteristic's value and notify a subscribed central. */
  notify(uuid: number, value: Uint8Array): void;
  /** Stop advertising and drop any connection. */
  stop(): void;
}
