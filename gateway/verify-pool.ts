/**
 * ECDSA P-256 checks on worker threads: the HTTP server has an upload's signatures checked here while the request
 * waits its turn, so the main thread (which runs every request's database transaction, one at a time) only looks up
 * the answers (Verifier.admit). Nothing is trusted blindly: a triple (key, data, signature) is only admitted when a
 * worker's node:crypto verified exactly those bytes, and anything not admitted is checked again in the request.
 *
 * The worker is plain JavaScript (eval), so it runs the same under tsx, node and a bundler.
 */
import { Worker } from "node:worker_threads";

export interface SigCheck {
  /** X||Y (64 bytes). */
  pub: Uint8Array;
  /** What was signed (SHA-256 is taken over it). */
  data: Uint8Array;
  /** R||S (64 bytes). */
  sig: Uint8Array;
}

const WORKER = `
const { parentPort } = require("node:worker_threads");
const { createPublicKey, verify } = require("node:crypto");
const keys = new Map();
function key(pub) {
  const id = Buffer.from(pub).toString("hex");
  let k = keys.get(id);
  if (k === undefined) {
    k = null;
    try {
      const b = Buffer.from(pub);
      if (b.length === 64) k = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b.subarray(0, 32).toString("base64url"), y: b.subarray(32).toString("base64url") }, format: "jwk" });
    } catch (e) {
      k = null;
    }
    if (keys.size > 20000) keys.clear();
    keys.set(id, k);
  }
  return k;
}
// the checks come packed in one buffer (pack(), below): per check pub (64), sig (64), data's length (4), data
parentPort.on("message", (m) => {
  const b = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
  const out = new Uint8Array(m.n);
  let o = 0;
  for (let i = 0; i < m.n; i++) {
    const pub = b.subarray(o, o + 64);
    const sig = b.subarray(o + 64, o + 128);
    const len = b.readUInt32BE(o + 128);
    const data = b.subarray(o + 132, o + 132 + len);
    o += 132 + len;
    try {
      const k = key(pub);
      out[i] = k && verify("sha256", data, { key: k, dsaEncoding: "ieee-p1363" }, sig) ? 1 : 0;
    } catch (e) {
      out[i] = 0;
    }
  }
  parentPort.postMessage({ id: m.id, out });
});
`;

interface Slot {
  worker: Worker;
  busy: number;
  broken: boolean;
}

/**
 * The checks as one buffer, handed over to the worker (transferred, not copied): per check pub (64), sig (64), the
 * data's length (4, big-endian) and the data. A key or signature of another length is sent as zeros: it cannot
 * verify (the Verifier checks it in the request and refuses it there).
 */
function pack(items: SigCheck[]): Uint8Array {
  let n = 0;
  for (const x of items) n += 132 + x.data.length;
  const buf = new Uint8Array(n);
  const dv = new DataView(buf.buffer);
  let o = 0;
  for (const x of items) {
    if (x.pub.length === 64 && x.sig.length === 64) {
      buf.set(x.pub, o);
      buf.set(x.sig, o + 64);
    }
    dv.setUint32(o + 128, x.data.length);
    buf.set(x.data, o + 132);
    o += 132 + x.data.length;
  }
  return buf;
}

export class VerifyPool {
  private slots: Slot[] = [];
  private waiting = new Map<number, { resolve: (ok: boolean[]) => void; slot: Slot; n: number }>();
  private nextId = 1;

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER, { eval: true });
      const slot: Slot = { worker, busy: 0, broken: false };
      worker.unref();
      worker.on("message", (m: { id: number; out: Uint8Array }) => {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        slot.busy--;
        w.resolve(Array.from(m.out, (x) => x === 1));
      });
      const fail = () => {
        slot.broken = true;
        // whatever it had: answered "not verified here" (the request checks them itself)
        for (const [id, w] of this.waiting) {
          if (w.slot !== slot) continue;
          this.waiting.delete(id);
          w.resolve(new Array(w.n).fill(false));
        }
      };
      worker.on("error", fail);
      worker.on("exit", fail);
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.filter((s) => !s.broken).length;
  }

  /** One boolean per check; false for anything a worker could not verify (or when no worker is left). */
  verify(items: SigCheck[]): Promise<boolean[]> {
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.broken && (!best || s.busy < best.busy)) best = s;
    if (!best || !items.length) return Promise.resolve(new Array(items.length).fill(false));
    const slot = best;
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, slot, n: items.length });
      // compact copies: a view posted as is clones its whole buffer (often Node's 8 KB pool), three times a record
      const buf = pack(items);
      slot.worker.postMessage({ id, n: items.length, buf }, [buf.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }
}
