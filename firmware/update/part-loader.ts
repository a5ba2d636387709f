/**
 * The part loader, as text the build puts at the end of a board bundle's code (build.ts PARTS, build-parts.ts).
 * A module of its own like the boot stub, imported by the build and the tests, never by the firmware.
 *
 * A part is a group of modules a flow needs and idle does not (the payment and invoice sessions). Its code is kept
 * in the same Storage file as the bundle, after the bundle's end inside a comment, so the boot never runs it and
 * the update slots and their signatures carry it unchanged. `__P(k)` evaluates part k from flash when one of its
 * functions is first called (through a stub the build leaves in the bundle); `__PD()` lets every loaded part go
 * again, deleting the globals it made, `__PD(k)` part k alone. Why: on Espruino a function costs about 5 JsVars for as long as it is
 * defined, whatever its size (docs/architecture.md "Memory"); a part's functions exist only while a flow runs.
 *
 * The part's text assigns its top-level functions, classes and variables to globals (`a=function(…){…}`), as the
 * bundle's own top level would, so it can be evaluated inside `__P` and its names are the bundle's (one terser run
 * named both). The loader's own names start with `__`, which terser never gives, so evaluating a part inside it
 * hides nothing. Each region starts with `//P<k>:<id>`, the id a hash of all the parts the loader was built with,
 * so a file that is not this bundle (another build, a stale copy) is refused with a clear error, never evaluated.
 */

/** Where one part lies, counted back from the end of the bundle's file. */
export interface PartPlace {
  /** Bytes from the start of the part's code to the end of the file. */
  fromEnd: number;
  length: number;
  /** Bytes from the start of its drop text (`delete global.x;…`) to the end of the file. */
  dropFromEnd: number;
  dropLength: number;
}

/** The marker that starts part k's code and its drop text. */
export function partMark(k: number, id: string): string {
  return "//P" + k + ":" + id + "\n";
}

/** The loader for these parts (plain ES5: the interpreter runs it as written). */
export function partLoader(places: PartPlace[], id: string): string {
  const at = (pick: (p: PartPlace) => number) => "[" + places.map(pick).join(",") + "]";
  return (
    `var __PL=new Uint8Array(${places.length});` +
    // the running file (__f): the factory bundle, or the update slot the boot stub chose
    "function __PR(__k,__e,__l){var __S=require(\"Storage\"),__f=global.__fw?\"fw.\"+global.__fw:\".bootcde\",__n=__S.read(__f);" +
    "__n=__n?__n.length:0;var __t=__S.read(__f,__n-__e,__l);" +
    `var __h="//P"+__k+":${id}\\n";if(!__t||__t.substr(0,__h.length)!=__h)throw new Error("part "+__k+" is not in "+__f);` +
    "return __t;}" +
    `function __P(__k){if(__PL[__k])return;eval(__PR(__k,${at((p) => p.fromEnd)}[__k],${at((p) => p.length)}[__k]));__PL[__k]=1;}` +
    // __PD(): every loaded part; __PD(k): part k alone
    `function __PD(__j){for(var __k=0;__k<${places.length};__k++)if(__PL[__k]&&(__j===undefined||__j==__k)){__PL[__k]=0;eval(__PR(__k,${at((p) => p.dropFromEnd)}[__k],${at((p) => p.dropLength)}[__k]));}}\n`
  );
}
