/**
 * The terminal's ATECC608A/B configuration zone: what provisioning writes, and the check the firmware makes of it at
 * every boot. Pure bytes, no IO (the driver's setup() and check() in atecc608.ts send and read them).
 *
 *   const want = terminalConfig(current);          // the 128 bytes to write (serial, revision and locks kept)
 *   const code = checkConfig(readBack);            // "" when configured and locked as below, else a code
 *
 * Layout (Microchip ATECC608A datasheet DS40001977, section 2.2 "Configuration Zone"; the same offsets as
 * CryptoAuthLib's atecc608_config_t): SlotConfig[16] at 20-51, Counter0/Counter1 at 52-67, LockValue (data zone)
 * at 86, LockConfig at 87 (0x55 = unlocked, 0x00 = locked), ChipOptions at 90-91, KeyConfig[16] at 96-127. All
 * 16-bit fields are little-endian.
 *
 * SlotConfig bits: 0-3 ReadKey (for ECC private keys: bit 0 external Sign, bit 2 ECDH allowed), 7 IsSecret (no
 * clear reads or writes), 12-15 WriteConfig (for an ECC slot bit 13 = GenKey may make a new key after the data
 * zone is locked; for a data slot 0010 = never written once locked). KeyConfig: bit 0 Private, bits 2-4 KeyType
 * (4 = P-256, 7 = other data), bit 5 Lockable. ChipOptions (CryptoAuthLib ATCA_CHIP_OPT_*): bit 1 IOProtKeyEnable,
 * bits 8-9 ECDHProt (1 = an ECDH result leaves the part only encrypted under the I/O protection key), bits 12-15
 * the I/O protection key's slot.
 *
 * The terminal's slots: 0 identity (external Sign and ECDH, never regenerated), 2 storage (ECDH only, never
 * regenerated), 3 Bluetooth session (ECDH only, GenKey per session), 6 the I/O protection key (secret, never
 * written once locked), 1/4/5/7 private slots with no use, 8-15 as shipped. Every private slot is secret: its key
 * never leaves the part, and the storage root (ECDH on slot 2) crosses the bus only encrypted.
 */

/** Offsets in the configuration zone. */
export const enum AteccCfg {
  SlotConfig = 20,
  Counter0 = 52,
  LockValue = 86,
  LockConfig = 87,
  ChipOptions = 90,
  KeyConfig = 96,
}

/** Slot of the I/O protection key (ChipOptions bits 12-15). */
export const IO_KEY_SLOT = 6;
/** The private key slots the terminal uses (identity, storage, session): provisioning makes their keys. */
export const KEY_SLOTS = [0, 2, 3];

/** The configuration provisioning writes: `cur` (the part's 128 bytes) with the terminal's slots and options. */
export function terminalConfig(cur: Uint8Array): Uint8Array {
  const c = new Uint8Array(cur);
  // SlotConfig of slots 0-7, low byte then high byte. 0x0085: IsSecret, external Sign + ECDH. 0x0084: IsSecret,
  // ECDH only. 0x2084: the same, GenKey allowed. 0x2080: IsSecret, no use, never written once locked. 0x0080:
  // IsSecret, no use. (Here, not a module constant: the array would hold ~33 JsVars for as long as the terminal runs.)
  c.set([0x85, 0x00, 0x80, 0x00, 0x84, 0x00, 0x84, 0x20, 0x80, 0x00, 0x80, 0x00, 0x80, 0x20, 0x80, 0x00], AteccCfg.SlotConfig);
  for (let s = 0; s < 8; s++) {
    // KeyConfig: 0x33 private P-256, lockable; the I/O key slot 0x3C data (KeyType 7), lockable
    c[AteccCfg.KeyConfig + s * 2] = s === IO_KEY_SLOT ? 0x3c : 0x33;
    c[AteccCfg.KeyConfig + s * 2 + 1] = 0;
  }
  // Counter0 and Counter1 at 0: the datasheet's counter encoding of zero (FF FF FF FF 00 00 00 00)
  for (let i = 0; i < 16; i++) c[AteccCfg.Counter0 + i] = i & 4 ? 0 : 0xff;
  c[AteccCfg.ChipOptions] = 0x02; // IOProtKeyEnable
  c[AteccCfg.ChipOptions + 1] = (IO_KEY_SLOT << 4) | 0x01; // I/O key slot, ECDHProt 1 (encrypted output)
  return c;
}

/**
 * "" when the part is configured as terminalConfig says and both zones are locked; else SE_UNLOCKED (a zone still
 * open: anyone on the bus could change slots or keys) or SE_CONFIG (locked with other slots or options: only a new
 * part mends it). A locked configuration is judged before the data zone, so provisioning can stop short of
 * locking the data zone of a part it cannot use.
 */
export function checkConfig(c: Uint8Array): string {
  if (c[AteccCfg.LockConfig]) return "SE_UNLOCKED";
  const want = terminalConfig(c);
  for (let i = AteccCfg.SlotConfig; i < AteccCfg.SlotConfig + 16; i++) if (c[i] !== want[i]) return "SE_CONFIG";
  for (let i = AteccCfg.KeyConfig; i < AteccCfg.KeyConfig + 16; i++) if (c[i] !== want[i]) return "SE_CONFIG";
  if (!(c[AteccCfg.ChipOptions] & 2) || (c[AteccCfg.ChipOptions + 1] & 0xf3) !== want[AteccCfg.ChipOptions + 1]) return "SE_CONFIG";
  return c[AteccCfg.LockValue] ? "SE_UNLOCKED" : "";
}
