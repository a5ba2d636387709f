// Stands in, on Espruino's Linux build, for what only the ESP32 build has (NRF, Wifi), so a board bundle can boot
// there and its memory can be measured. Loaded before the bundle by build.ts (JsVars) and test:espruino (boot).
// It is never part of what is flashed.
if (typeof NRF === "undefined") {
  global.NRF = {
    setServices: function () {}, updateServices: function () {}, setAdvertising: function () {},
    on: function () {}, disconnect: function () {}, sleep: function () {}, wake: function () {}
  };
}
(function () {
  var present = true;
  try { require("Wifi"); } catch (e) { present = false; }
  if (!present) {
    Modules.addCached("Wifi", "exports.on=function(){};exports.connect=function(){};exports.disconnect=function(){};");
  }
})();
