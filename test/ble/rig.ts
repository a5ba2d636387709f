/**
 * Shared pieces of the Bluetooth session tests: a fake hal Ble that hands the terminal's notifications to a
 * central and the central's writes to the terminal's characteristic (failing loudly on anything a real GATT
 * server would refuse), a provisioned terminal on the emulated secure element, and a pump that runs the virtual
 * clock (for the secure element) while WebCrypto promises settle.
 */
import assert from "node:assert/strict";
import type { Ble, BleServiceOptions } from "../../hal/ble.ts";
import { provisionSeKeys } from "../../firmware/keys.ts";
import { FRAME } from "../../protocol/ble-frames.ts";
import type { BleSessionOptions } from "../../protocol/ble-session.ts";
import { BleSession } from "../../protocol/ble-session.ts";
import type { BleCentral } from "../../sdk/ble.ts";
import { crypto, seRig, testIssuer } from "../protocol/helpers.ts";
import type { SeRig } from "../protocol/helpers.ts";

export class FakeBle implements Ble {
  service: BleServiceOptions | null = null;
  private listeners: ((uuid: number, b: Uint8Array) => void)[] = [];
  /** Every frame the terminal notified, and every frame the central wrote. */
  readonly notified: Uint8Array[] = [];
  readonly written: Uint8Array[] = [];
  /** Changes a frame on its way from the central to the terminal (an attacker in range). */
  tamperWrite: ((frame: Uint8Array, index: number) => Uint8Array) | null = null;

  start(o: BleServiceOptions): void {
    this.service = o;
  }
  notify(uuid: number, value: Uint8Array): void {
    assert.ok(this.service, "notify before start");
    const ch = this.service.characteristics.find((c) => c.uuid === uuid);
    assert.ok(ch && ch.notify, "notify on a characteristic without notify: " + uuid.toString(16));
    assert.ok(value.length <= FRAME, "a notification over 20 bytes would be cut by the stack");
    const copy = new Uint8Array(value);
    this.notified.push(copy);
    for (const l of this.listeners) l(uuid, copy);
  }
  stop(): void {
    this.service = null;
  }
  /** The phone's side of the link. */
  central(): BleCentral {
    return {
      write: (uuid, bytes) => {
        assert.ok(this.service, "write while nothing is advertised");
        const ch = this.service.characteristics.find((c) => c.uuid === uuid);
        assert.ok(ch && ch.writable && ch.onWrite, "write to a characteristic that is not writable: " + uuid.toString(16));
        assert.ok(bytes.length <= FRAME, "a write over 20 bytes arrives as prepared-write pieces on ESP32");
        let b: Uint8Array = new Uint8Array(bytes);
        if (this.tamperWrite) b = this.tamperWrite(b, this.written.length);
        this.written.push(b);
        ch.onWrite(b);
      },
      onNotify: (fn) => this.listeners.push(fn),
    };
  }
}

export interface Terminal {
  rig: SeRig;
  ble: FakeBle;
  session: BleSession;
  cert: Uint8Array;
  pub: Uint8Array;
  issuerPub: Uint8Array;
  received: Uint8Array[];
  errors: string[];
  opened: number;
}

/**
 * A provisioned terminal (identity, storage and session keys; a certificate) running a BleSession on a FakeBle.
 * `makeCert` replaces the test issuer's certificate (terminal 4242, merchant 77, valid until day 30000) with one made
 * for the terminal's identity key: a rogue terminal's self-signed, expired or other terminal's certificate.
 */
export function terminal(extra: Partial<BleSessionOptions> = {}, terminalId = 4242, makeCert?: (terminalPub: Uint8Array) => Uint8Array): Terminal {
  const rig = seRig();
  const idr = rig.run<Uint8Array>((d) => rig.se.provisionKey(0, d));
  assert.equal(idr.err, null);
  const pk = rig.run<number[]>((d) => provisionSeKeys(rig.se, (e, c) => d(e ? e.code : null, c)));
  assert.equal(pk.err, null);
  const pub = idr.value as Uint8Array;
  const issuer = testIssuer();
  const cert = makeCert ? makeCert(pub) : issuer.issueTerminalCert({ terminalId, merchantId: 77, terminalPub: pub, expiryDay: 30000 });
  const ble = new FakeBle();
  const t: Terminal = { rig, ble, session: null as unknown as BleSession, cert, pub, issuerPub: issuer.publicKey, received: [], errors: [], opened: 0 };
  t.session = new BleSession({
    ble,
    se: rig.se,
    crypto,
    cert,
    name: "PAY " + terminalId,
    now: () => rig.clock.uptime(),
    onMessage: (m) => t.received.push(m),
    onError: (code) => t.errors.push(code),
    onOpen: () => t.opened++,
    ...extra,
  });
  t.session.start();
  return t;
}

/** Awaits `p` while moving the virtual clock (the secure element's commands take milliseconds). */
export async function pump<T>(rig: SeRig, p: Promise<T>, limitMs = 20000): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let t = 0; t < limitMs && !settled; t += 2) {
    rig.clock.advance(2, undefined, 1);
    await new Promise((r) => setImmediate(r));
    // WebCrypto on the phone's side completes on Node's thread pool: let it in (a busy CI machine is slow)
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.ok(settled, "did not settle within " + limitMs + " virtual ms");
  return p;
}

/** Runs the virtual clock until `cond` holds (terminal-side work with no promise to wait on). */
export async function until(rig: SeRig, cond: () => boolean, limitMs = 20000): Promise<void> {
  for (let t = 0; t < limitMs && !cond(); t += 2) {
    rig.clock.advance(2, undefined, 1);
    await new Promise((r) => setImmediate(r));
    // WebCrypto on the phone's side completes on Node's thread pool: let it in (a busy CI machine is slow)
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.ok(cond(), "condition not reached within " + limitMs + " virtual ms");
}
