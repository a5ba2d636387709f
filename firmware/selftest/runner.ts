/**
 * The self-test harness that dist/selftest.js runs on the device, on the interpreter and under Node: one line per
 * failure, then `N passed, M failed`.
 */
export interface Case {
  name: string;
  /** Returns null when the case passes, else what went wrong. Throwing counts as a failure. */
  run(): string | null;
}

export function expectEqual(got: unknown, want: unknown): string | null {
  const g = String(got);
  const w = String(want);
  return g === w ? null : "got " + g + " want " + w;
}

export function runCases(cases: Case[], print: (line: string) => void): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const c of cases) {
    let err: string | null;
    try {
      err = c.run();
    } catch (e: any) {
      err = "threw " + (e && e.message ? e.message : String(e));
    }
    if (err === null) passed++;
    else {
      failed++;
      print("FAIL " + c.name + ": " + err);
    }
  }
  print(passed + " passed, " + failed + " failed");
  return { passed: passed, failed: failed };
}
