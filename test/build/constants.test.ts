/**
 * build.ts writes a top-level constant whose value is a number, a boolean, null or a short string where it is used
 * and drops its declaration (on Espruino every top-level name is a JsVar for as long as the program runs); a longer
 * string, and a variable assigned again, stay declared.
 */
import assert from "node:assert/strict";
import vm from "node:vm";
import { parse } from "@babel/parser";
import { compile } from "../../build.ts";

describe("build: literal constants written where they are used", function () {
  this.timeout(60000);

  it("drops their declarations, keeps strings and variables, and the program prints the same", async () => {
    const code = await compile('import "./test/build/fixtures/constants/main.ts";\n', "constants.entry.ts", []);
    const printed: string[] = [];
    vm.runInNewContext(code, { print: (...a: unknown[]) => printed.push(a.join(" ")) });
    assert.deepEqual(printed, ["3,6,-1,true,,cup,a"]);
    const declared: string[] = [];
    for (const st of parse(code, { sourceType: "script" }).program.body) {
      if (st.type !== "VariableDeclaration") continue;
      for (const d of st.declarations) declared.push(d.init ? d.init.type + (d.init.type === "StringLiteral" ? ":" + d.init.value : "") : "none");
    }
    // the long string and `count` (0, assigned again) are the only top-level variables left
    assert.deepEqual(declared.sort(), ["NumericLiteral", "StringLiteral:0123456789abcdef"]);
  });
});
