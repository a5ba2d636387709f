import assert from "node:assert/strict";
import sinon from "sinon";
import type { Clock } from "../../hal/clock.ts";
import type { I2C, I2COptions } from "../../hal/io.ts";
import { Atecc608 } from "../../hal/drivers/atecc608.ts";
import { AteccOp, command, crc16 } from "../../hal/drivers/atecc608-frames.ts";

const toHex = (b: ArrayLike<number>) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");

/** A response frame COUNT | data | CRC. */
function frame(data: ArrayLike<number>): string {
  const r = new Uint8Array(data.length + 3);
  r[0] = r.length;
  r.set(Array.from(data), 1);
  const c = crc16(r, 0, r.length - 2);
  r[r.length - 2] = c & 0xff;
  r[r.length - 1] = c >> 8;
  return toHex(r);
}
const status = (s: number) => frame([s]);

/** One expected write, and what the part makes readable after it (from `busy` ms on; reads before that NACK). */
interface Step {
  addr: number;
  bytes: string;
  ack?: boolean;
  reply?: string;
  busy?: number;
}

const ADDR = 0x60;
const WAKE: Step = { addr: 0, bytes: "00", ack: false, reply: "04 11 33 43", busy: 1.5 };
const IDLE: Step = { addr: ADDR, bytes: "02" };
const SLEEP: Step = { addr: ADDR, bytes: "01" };
const cmd = (p: Uint8Array, reply: string, busy = 3, addr = ADDR): Step => ({ addr, bytes: toHex(p), reply, busy });

/**
 * A scripted I2C bus holding one ATECC608 at 0x60. Every write must be the next one in the script, every read
 * must come while a reply is pending and stay inside it; anything else throws, failing the test.
 */
class FakeBus implements I2C {
  readonly log: string[] = [];
  readonly opened: I2COptions[] = [];
  private pending: { bytes: number[]; pos: number; readyAt: number } | null = null;
  constructor(
    private script: Step[],
    private now: () => number,
    private device = ADDR,
  ) {}
  open = (o: I2COptions): I2C => {
    this.opened.push(o);
    return this;
  };
  write(address: number, data: Uint8Array): boolean {
    const got = `W ${address.toString(16)}: ${toHex(data)}`;
    this.log.push(`${this.now()} ${got}`);
    const step = this.script.shift();
    if (!step) throw new Error(`unexpected write ${got}`);
    const want = `W ${step.addr.toString(16)}: ${step.bytes}`;
    if (got !== want) throw new Error(`expected ${want}\n     got ${got}`);
    this.pending = step.reply
      ? { bytes: step.reply.split(" ").map((x) => parseInt(x, 16)), pos: 0, readyAt: this.now() + (step.busy ?? 0) }
      : null;
    return step.ack ?? true;
  }
  read(address: number, count: number): Uint8Array | null {
    if (address !== this.device) throw new Error(`read from unexpected address ${address.toString(16)}`);
    const p = this.pending;
    if (!p) throw new Error(`unexpected read of ${count} bytes: nothing pending`);
    if (this.now() < p.readyAt) {
      this.log.push(`${this.now()} R ${count}: NACK`);
      return null;
    }
    if (p.pos + count > p.bytes.length) throw new Error(`read of ${count} bytes runs past the reply`);
    const out = Uint8Array.from(p.bytes.slice(p.pos, p.pos + count));
    p.pos += count;
    this.log.push(`${this.now()} R ${count}: ${toHex(out)}`);
    return out;
  }
  /** Asserts the whole script ran. */
  finished(): void {
    assert.deepEqual(this.script, [], "script steps never reached");
  }
}

describe("ATECC608 driver (fake I2C)", () => {
  let timers: sinon.SinonFakeTimers;
  let clock: Clock;
  beforeEach(() => {
    timers = sinon.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    clock = {
      now: () => timers.now,
      set: () => {},
      uptime: () => timers.now,
      setTimeout: (fn, ms) => timers.setTimeout(fn, ms) as unknown as number,
      setInterval: (fn, ms) => timers.setInterval(fn, ms) as unknown as number,
      clear: (id) => timers.clearTimeout(id),
    };
  });
  afterEach(() => timers.restore());

  function rig(script: Step[]) {
    const bus = new FakeBus(script, () => timers.now);
    const se = new Atecc608({ i2c: bus.open, clock });
    return { bus, se };
  }
  /** Records one callback's arguments. */
  function capture<T>() {
    const calls: Array<[string | null, T | undefined]> = [];
    return { calls, done: (err: string | null, v?: T) => void calls.push([err, v]) };
  }

  it("opens its bus at 100 kHz so the address-0 write is a long enough wake pulse", () => {
    const { bus } = rig([]);
    assert.deepEqual(bus.opened, [{ hz: 100000 }]);
  });

  it("wakes with a zero byte to address 0, reads 04 11 33 43 after tWHI, then sends the command", () => {
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Info, 0, 0), frame([0, 0, 0x60, 3])), SLEEP]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(bus.log.slice(0, 3), ["0 W 0: 00", "2 R 4: 04 11 33 43", "2 W 60: 03 07 30 00 00 00 03 5D"]);
    assert.equal(c.calls.length, 1);
    assert.equal(c.calls[0][0], null);
    assert.equal(toHex(c.calls[0][1]!), "00 00 60 03");
  });

  it("reads COUNT first, then the rest of the response", () => {
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Info, 0, 0), frame([0, 0, 0x60, 3])), SLEEP]);
    se.info(() => {});
    timers.tick(100);
    assert.deepEqual(bus.log.slice(4, 6), ["5 R 1: 07", "5 R 6: 00 00 60 03 83 BB"]);
  });

  it("polls a busy part 1 ms after the command, then every 2 ms, until it answers", () => {
    const rnd = Array.from({ length: 32 }, (_, i) => i);
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Random, 0, 0), frame(rnd), 20), SLEEP]);
    const c = capture<Uint8Array>();
    se.random(c.done);
    timers.tick(200);
    bus.finished();
    const polls = bus.log.filter((l) => / R 1: /.test(l)).map((l) => parseInt(l, 10));
    // command written at t=2: polls at 3, 5, ... 21 NACK; 23 answers
    assert.deepEqual(polls, [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
    assert.equal(bus.log.filter((l) => l.endsWith("NACK")).length, 10);
    assert.deepEqual(c.calls[0][1] && Array.from(c.calls[0][1]), rnd);
  });

  it("does not answer before the part does", () => {
    const { se } = rig([WAKE, cmd(command(AteccOp.Random, 0, 0), frame(new Array(32).fill(7)), 20), SLEEP]);
    const c = capture<Uint8Array>();
    se.random(c.done);
    timers.tick(20);
    assert.equal(c.calls.length, 0);
    timers.tick(10);
    assert.equal(c.calls.length, 1);
  });

  it("sends a command again once after a CRC-error (FF) reply", () => {
    const p = command(AteccOp.Info, 0, 0);
    const { bus, se } = rig([WAKE, cmd(p, status(0xff), 0), cmd(p, frame([0, 0, 0x60, 2])), SLEEP]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.equal(c.calls[0][0], null);
    assert.equal(toHex(c.calls[0][1]!), "00 00 60 02");
  });

  it("reports \"crc\" when the resent command gets a CRC error again", () => {
    const p = command(AteccOp.Info, 0, 0);
    const { bus, se } = rig([WAKE, cmd(p, status(0xff), 0), cmd(p, status(0xff), 0), SLEEP]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(c.calls, [["crc", undefined]]);
  });

  it("does not resend a command whose reply was garbled on the bus (it may have run)", () => {
    const good = frame([5, 0, 0, 0]);
    const garbled = good.slice(0, -2) + (good.endsWith("00") ? "01" : "00");
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Counter, 1, 0), garbled), SLEEP]);
    const c = capture<number>();
    se.counter(0, true, c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(c.calls, [["rx-crc", undefined]]);
  });

  it("fails with \"wake\" and sends no command when the wake reply is not 04 11 33 43", () => {
    const { bus, se } = rig([{ ...WAKE, reply: "04 00 03 40" }, SLEEP]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(c.calls, [["wake", undefined]]);
  });

  it("fails with \"wake\" when nothing answers after the wake pulse", () => {
    const { bus, se } = rig([{ ...WAKE, busy: 1e9 }, { ...SLEEP, ack: false }]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(c.calls, [["wake", undefined]]);
  });

  it("reports \"self-test\" when the part wakes in self-test failure mode", () => {
    const { se } = rig([{ ...WAKE, reply: status(0x07) }, SLEEP]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    assert.deepEqual(c.calls, [["self-test", undefined]]);
  });

  it("times out a part that stays busy past the command's maximum time plus margin", () => {
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Info, 0, 0), frame([0, 0, 0x60, 3]), 1e9), { ...SLEEP, ack: false }]);
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(50);
    assert.equal(c.calls.length, 0, "Info (5 ms) must be given its 50 ms margin");
    timers.tick(20);
    assert.deepEqual(c.calls, [["timeout", undefined]]);
    bus.finished();
    const last = parseInt(bus.log.filter((l) => l.endsWith("NACK")).pop()!, 10);
    assert.ok(last >= 57 && last <= 61, `last poll at ${last}`);
  });

  it("signs: Nonce 43 with the digest, idle, wake, Sign A0 on the slot, sleep; result is R||S", () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
    const rs = Array.from({ length: 64 }, (_, i) => 255 - i);
    const { bus, se } = rig([
      WAKE,
      cmd(command(AteccOp.Nonce, 0x43, 0, digest), status(0)),
      IDLE,
      WAKE,
      cmd(command(AteccOp.Sign, 0xa0, 2), frame(rs), 60),
      SLEEP,
    ]);
    const c = capture<Uint8Array>();
    se.sign(2, digest, c.done);
    timers.tick(300);
    bus.finished();
    assert.equal(c.calls[0][0], null);
    assert.deepEqual(Array.from(c.calls[0][1]!), rs);
  });

  for (const [st, want] of [
    [0x00, [null, true]],
    [0x01, [null, false]],
    [0x0f, ["execution", undefined]],
  ] as const) {
    it(`verify maps status ${st.toString(16).padStart(2, "0")} to (${want[0]}, ${want[1]})`, () => {
      const digest = new Uint8Array(32).fill(1);
      const sig = new Uint8Array(64).fill(2);
      const pub = new Uint8Array(64).fill(3);
      const { bus, se } = rig([
        WAKE,
        cmd(command(AteccOp.Nonce, 0x43, 0, digest), status(0)),
        IDLE,
        WAKE,
        cmd(command(AteccOp.Verify, 0x22, 4, sig, pub), status(st), 50),
        SLEEP,
      ]);
      const c = capture<boolean>();
      se.verify(digest, sig, pub, c.done);
      timers.tick(300);
      bus.finished();
      assert.deepEqual(c.calls, [want]);
    });
  }

  it("sends Verify as P1 22, P2 0004 with R||S then X||Y (COUNT 0x87)", () => {
    const p = command(AteccOp.Verify, 0x22, 4, new Uint8Array(64), new Uint8Array(64));
    assert.equal(toHex(p.subarray(0, 6)), "03 87 45 22 04 00");
  });

  it("stops a sequence at the first failing command", () => {
    const digest = new Uint8Array(32);
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Nonce, 0x43, 0, digest), status(0x03)), SLEEP]);
    const c = capture<Uint8Array>();
    se.sign(0, digest, c.done);
    timers.tick(300);
    bus.finished();
    assert.deepEqual(c.calls, [["parse", undefined]]);
  });

  it("reads a counter as a 4-byte little-endian number", () => {
    const { se } = rig([WAKE, cmd(command(AteccOp.Counter, 0, 1), frame([0x01, 0x02, 0x1f, 0x00])), SLEEP]);
    const c = capture<number>();
    se.counter(1, false, c.done);
    timers.tick(100);
    assert.deepEqual(c.calls, [[null, 0x1f0201]]);
  });

  it("increments a counter with Counter mode 01", () => {
    const { bus, se } = rig([WAKE, cmd(command(AteccOp.Counter, 1, 0), frame([7, 0, 0, 0])), SLEEP]);
    const c = capture<number>();
    se.counter(0, true, c.done);
    timers.tick(100);
    bus.finished();
    assert.deepEqual(c.calls, [[null, 7]]);
  });

  it("gets a public key with GenKey mode 00 and provisions one with mode 04", () => {
    const xy = Array.from({ length: 64 }, (_, i) => i);
    const { bus, se } = rig([
      WAKE,
      cmd(command(AteccOp.GenKey, 0, 3), frame(xy), 40),
      SLEEP,
      WAKE,
      cmd(command(AteccOp.GenKey, 4, 5), frame(xy), 40),
      SLEEP,
    ]);
    const a = capture<Uint8Array>();
    const b = capture<Uint8Array>();
    se.publicKey(3, a.done);
    se.provisionKey(5, b.done);
    timers.tick(500);
    bus.finished();
    assert.deepEqual(Array.from(a.calls[0][1]!), xy);
    assert.deepEqual(Array.from(b.calls[0][1]!), xy);
  });

  it("reads the config zone as four 32-byte blocks", () => {
    const block = (b: number) => Array.from({ length: 32 }, (_, i) => b * 32 + i);
    const script: Step[] = [];
    for (let b = 0; b < 4; b++) script.push(WAKE, cmd(command(AteccOp.Read, 0x80, b << 3), frame(block(b))), SLEEP);
    const { bus, se } = rig(script);
    const c = capture<Uint8Array>();
    se.readConfig(c.done);
    timers.tick(500);
    bus.finished();
    assert.equal(c.calls[0][0], null);
    assert.deepEqual(Array.from(c.calls[0][1]!), Array.from({ length: 128 }, (_, i) => i));
  });

  it("queues calls and runs them one at a time, in order", () => {
    const { bus, se } = rig([
      WAKE,
      cmd(command(AteccOp.Random, 0, 0), frame(new Array(32).fill(9)), 20),
      SLEEP,
      WAKE,
      cmd(command(AteccOp.Info, 0, 0), frame([0, 0, 0x60, 3])),
      SLEEP,
    ]);
    const order: string[] = [];
    se.random(() => order.push("random"));
    se.info(() => order.push("info"));
    timers.tick(300);
    bus.finished();
    assert.deepEqual(order, ["random", "info"]);
  });

  it("keeps working after a failed call", () => {
    const { bus, se } = rig([
      { ...WAKE, reply: "04 00 03 40" },
      SLEEP,
      WAKE,
      cmd(command(AteccOp.Info, 0, 0), frame([0, 0, 0x60, 3])),
      SLEEP,
    ]);
    const a = capture<Uint8Array>();
    const b = capture<Uint8Array>();
    se.info(a.done);
    se.info(b.done);
    timers.tick(300);
    bus.finished();
    assert.equal(a.calls[0][0], "wake");
    assert.equal(b.calls[0][0], null);
  });

  it("talks to the address given in its options", () => {
    const p = command(AteccOp.Info, 0, 0);
    const bus = new FakeBus([WAKE, cmd(p, frame([0, 0, 0x60, 3]), 3, 0x35), { ...SLEEP, addr: 0x35 }], () => timers.now, 0x35);
    const se = new Atecc608({ i2c: bus.open, clock, address: 0x35 });
    const c = capture<Uint8Array>();
    se.info(c.done);
    timers.tick(100);
    bus.finished();
    assert.equal(c.calls[0][0], null);
  });

  it("exposes the configured key slot, 0 by default", () => {
    assert.equal(rig([]).se.keySlot, 0);
    assert.equal(new Atecc608({ i2c: new FakeBus([], () => 0).open, clock, keySlot: 4 }).keySlot, 4);
  });
});

describe("ATECC608 test bus (the fake itself)", () => {
  it("throws on a write that is not the next one in the script", () => {
    const bus = new FakeBus([{ addr: ADDR, bytes: "02" }], () => 0);
    assert.throws(() => bus.write(ADDR, Uint8Array.of(1)), /expected W 60: 02/);
  });
  it("throws on a read while nothing is pending", () => {
    const bus = new FakeBus([], () => 0);
    assert.throws(() => bus.read(ADDR, 1), /unexpected read/);
  });
});
