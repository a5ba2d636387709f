// Stands in, on Espruino's Linux build, for what only an ESP32 with the board's parts has, so a board bundle can
// boot there and its memory can be measured: pins above D31 (the Linux build has fewer), the UARTs' pin routing,
// I2C and SPI with nothing attached, NRF and Wifi, and the console detach (see below). Graphics, E, Storage, crypto and timers stay the real ones.
// Loaded before the bundle by build.ts (JsVars) and test:espruino (boot). Never part of what is flashed.
(function () {
  function nop() {}
  global.Pin = function (n) { this.name = String(n); };
  global.pinMode = nop;
  global.digitalWrite = nop;
  global.digitalRead = function () { return 0; };
  global.setWatch = function () { return 1; };
  global.clearWatch = nop;
  // Built-in bus objects cannot be replaced through `global`, but their methods can.
  [Serial2, Serial3].forEach(function (u) { u.setup = nop; u.write = nop; });
  SPI1.setup = nop;
  SPI1.write = nop;
  // A bus with nothing on it: every transfer is unacknowledged, as Espruino reports it.
  I2C1.setup = nop;
  I2C1.writeTo = function () { throw new Error("I2C: no ACK"); };
  I2C1.readFrom = function () { throw new Error("I2C: no ACK"); };
  if (typeof NRF === "undefined") {
    global.NRF = {
      setServices: nop, updateServices: nop, setAdvertising: nop,
      on: nop, disconnect: nop, sleep: nop, wake: nop
    };
  }
  // The firmware detaches the console at boot (E.setConsole(null)); the probe still has to print its figures,
  // so the call is recorded instead. Detaching costs no memory, so the figures are unchanged.
  E.setConsole = function (device) { global.__consoleDetachedTo = device; };
  var wifi = true;
  try { require("Wifi"); } catch (e) { wifi = false; }
  if (!wifi) Modules.addCached("Wifi", "exports.on=function(){};exports.connect=function(){};exports.disconnect=function(){};");
})();
