/**
 * The boot-loader stub, as text the build prepends to every bundle. A module of its own, imported by build.ts and
 * the tests but never by the firmware: the ~800-character string held by the bundle would cost ~80 JsVars at idle.
 */
import { ATTEMPTS_MAX, OFF_COMMIT, OFF_GEN, OFF_GOOD, OFF_SIZE, OFF_TRIES, SLOTS, STATE_BYTES, TRY_BYTES } from "./layout.ts";

/**
 * Plain ES5 run by Espruino around the bundle's own code (`if (!stub()) { bundle } else { eval(slot) }`): if a
 * committed update slot is bootable (confirmed, or fewer than ATTEMPTS_MAX unconfirmed boots), the newest one is
 * evaluated instead of the factory bundle, after recording the attempt. `global.__fw` says which slot runs ("" =
 * factory) and stops the evaluated bundle's own stub from diverting again. The slot is evaluated at the top level,
 * not inside the stub's function, so that its code runs in the global scope as the factory bundle's does (build.ts
 * ESPRUINO_GLOBALS says why that matters for memory). A bundle that throws while loading reboots the device, so its
 * attempts run out and the previous one boots (rollback).
 */
export const BOOT_STUB =
  "if(!(function(){if(global.__fw!==undefined)return 0;global.__fw=\"\";" +
  "var S=require(\"Storage\"),best=\"\",bg=-1,bt=0;" +
  "function u(s,o){return((s.charCodeAt(o)<<24)|(s.charCodeAt(o+1)<<16)|(s.charCodeAt(o+2)<<8)|s.charCodeAt(o+3))>>>0;}" +
  "[" + SLOTS.map((s) => JSON.stringify(s)).join(",") + "].forEach(function(x){" +
  "var n=\"fw.\"+x+\".st\",s=S.read(n);" +
  `if(!s||s.length<${STATE_BYTES}||s.charCodeAt(${OFF_COMMIT})!=1)return;` +
  `var d=S.read("fw."+x);if(!d||d.length!=u(s,${OFF_SIZE}))return;` +
  `var good=s.charCodeAt(${OFF_GOOD})==1,t=0,i;for(i=${OFF_TRIES};i<${OFF_TRIES + TRY_BYTES};i++)if(s.charCodeAt(i)==0)t++;` +
  `if(!good&&t>=${ATTEMPTS_MAX}){if(t==${ATTEMPTS_MAX})S.write(n,"\\0",${OFF_TRIES + ATTEMPTS_MAX});return;}` +
  `var g=u(s,${OFF_GEN});if(g>bg){bg=g;best=x;bt=good?-1:t;}});` +
  "if(!best)return 0;" +
  `if(bt>=0)S.write("fw."+best+".st","\\0",${OFF_TRIES}+bt);` +
  "global.__fw=best;" +
  "return 1;})()){\n";
/** Closes the block BOOT_STUB opens around the factory bundle; else, the chosen update slot is evaluated. */
export const BOOT_STUB_END =
  "\n}else{try{eval(require(\"Storage\").read(\"fw.\"+global.__fw));}" +
  "catch(e){print(\"update \"+global.__fw+\" failed to boot: \"+e);E.reboot();}}\n";
