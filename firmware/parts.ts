/**
 * Letting go of the flow code a board bundle loaded from flash (build.ts PARTS, firmware/update/part-loader.ts).
 * In a bundle with parts, `__PD` is the loader's drop; the stubs load a part again when a flow next needs it. Run
 * from TypeScript (tests on Node) or in a bundle without parts, there is nothing to let go.
 *
 *   dropParts();   // at idle, once nothing made by a part is still in use
 */
declare const __PD: (() => void) | undefined;

/** How long the terminal stays idle before it lets the parts go: past every tail a session leaves (radio linger
 *  1.5 s, a notice 3 s, an online answer 3 s), and short enough that idle is idle again within seconds. */
export const PARTS_LINGER_MS = 10000;

export function dropParts(): void {
  if (typeof __PD === "function") __PD();
}
