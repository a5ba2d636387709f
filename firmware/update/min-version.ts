/**
 * The lowest firmware version this terminal will ever install again: raised to each version it installs, so a
 * signed but older (vulnerable) bundle is refused even after the running bundle rolled back or the device rebooted.
 *
 *   if (compareVersions(offer.version, readMinVersion(store)) < 0) refuse();
 *   raiseMinVersion(store, offer.version);   // before the install's commit byte
 *
 * Kept as records written in place into a pre-sized file (firmware/record-log.ts: `fwmin.a`/`fwmin.b`, 1 KB, about
 * 30 updates per file before a turnover), never by rewriting a file, so raising it leaves nothing for a compaction
 * (docs/architecture.md, "Storage that never needs a compaction"). Record: the version, ASCII.
 */
import type { FileStore } from "../../hal/storage.ts";
import { ascii } from "../../protocol/codec/hex.ts";
import { compareVersions } from "../../protocol/firmware.ts";
import { RecordLog } from "../record-log.ts";
import { bytesToText } from "../settings.ts";

export const MIN_LOGS = ["fwmin.a", "fwmin.b"];
export const MIN_LOG_BYTES = 1024;
const T_MIN = 1;

function log(store: FileStore): RecordLog {
  return new RecordLog(store, MIN_LOGS, MIN_LOG_BYTES);
}

/** The persisted minimum version, "" when none was ever recorded (a factory terminal). */
export function readMinVersion(store: FileStore): string {
  let v = "";
  log(store).load((type, _gen, data) => {
    // the highest ever recorded wins, whatever the order of the records
    if (type === T_MIN) {
      const s = bytesToText(data);
      if (!v || compareVersions(s, v) > 0) v = s;
    }
  });
  return v;
}

/** Raises the minimum to `version` (nothing written when it is not higher). False when Storage refuses the write. */
export function raiseMinVersion(store: FileStore, version: string): boolean {
  const held = readMinVersion(store);
  if (held && compareVersions(version, held) <= 0) return true;
  const l = log(store);
  l.load();
  return l.append(T_MIN, l.gen + 1, ascii(version));
}
