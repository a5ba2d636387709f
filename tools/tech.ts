/**
 * Calls the firmware's technician console commands (firmware/tech/console.ts) over a Link: the request goes to
 * the global `tech(json)` the firmware defines once the console is unlocked, the answer is the `TECH {json}` line
 * it prints with the same id.
 */
import type { Link } from "./link.ts";
import { ToolError } from "./link.ts";

let nextId = 1;

export async function techCall(link: Link, req: Record<string, unknown>, timeoutMs = 20000): Promise<Record<string, any>> {
  const id = nextId++;
  const since = link.received().length;
  const body = JSON.stringify({ ...req, id });
  // The request's text travels as a JS string literal (JSON.stringify of the JSON).
  await link.write("\x10tech(" + JSON.stringify(body) + ")\n");
  const deadline = Date.now() + timeoutMs;
  let from = since;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let text: string;
    try {
      text = await link.waitFor("TECH ", left, from);
    } catch {
      break;
    }
    const end = text.indexOf("\n");
    if (end < 0) {
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    from = link.received().length - text.length + end;
    let ans: Record<string, any>;
    try {
      ans = JSON.parse(text.slice(5, end).trim());
    } catch {
      continue;
    }
    if (ans.id !== id) continue;
    if (!ans.ok) throw new ToolError("DEVICE_ERROR", "the terminal refused " + String(req.op) + ": " + ans.error);
    return ans;
  }
  const said = link.received().slice(since);
  if (/ReferenceError.*tech|"tech" is not defined/.test(said)) throw new ToolError("DEVICE_ERROR", "this firmware has no technician commands on its console (tech() not defined)");
  throw new ToolError("NO_ANSWER", "no answer to " + String(req.op) + " from the terminal (console locked? open it from the technician menu)");
}
