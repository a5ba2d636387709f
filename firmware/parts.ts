/**
 * Letting go of the flow code a board bundle loaded from flash (build.ts PARTS, firmware/update/part-loader.ts).
 * In a bundle with parts, `__PD` is the loader's drop; the stubs load a part again when a flow next needs it. Run
 * from TypeScript (tests on Node) or in a bundle without parts, there is nothing to let go.
 *
 *   dropParts();   // at idle, once nothing made by a part is still in use
 */
declare const __PD: ((k?: number) => void) | undefined;

/** The parts, by their place in build.ts PARTS (the build refuses another order). */
export const PART_SESSIONS = 0;
export const PART_PRINT = 1;
export const PART_SCREENS = 2;
export const PART_ORDERS = 3;

/** How long the terminal stays idle before it lets the parts go: past every tail a session leaves (radio linger
 *  1.5 s, a notice 3 s, an online answer 3 s), and short enough that idle is idle again within seconds. */
export const PARTS_LINGER_MS = 10000;

/** Lets every loaded part go, or part `k` alone (PART_PRINT, …). */
export function dropParts(k?: number): void {
  if (typeof __PD === "function") __PD(k);
}
