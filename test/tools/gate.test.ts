import assert from "node:assert/strict";
import { BOOT_STUB, BOOT_STUB_END } from "../../firmware/update/boot-stub.ts";
import { checkBundle } from "../gate/espruino-gate.ts";
import { fixtureBundle } from "./fixture.ts";

describe("technician and update code pass the Espruino gate", function () {
  this.timeout(30000);
  it("the technician menu, console commands, diagnostics and update slots, compiled as for the device", async () => {
    assert.deepEqual(checkBundle(await fixtureBundle(), "tech-fixture.js"), []);
  });
  it("the boot-loader stub the build puts before every bundle", () => {
    assert.deepEqual(checkBundle(BOOT_STUB + "print(1);" + BOOT_STUB_END, "boot-stub.js"), []);
  });
});
