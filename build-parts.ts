/**
 * Splitting a board bundle into the code idle needs and parts evaluated when a flow needs them (build.ts PARTS,
 * firmware/update/part-loader.ts). Two steps around terser, so that one terser run names everything:
 *
 *   splitParts(parts)   a Babel plugin run on esbuild's output: each top-level statement of a part's modules moves
 *                       to the end of the program, after a `__PART_BEGIN(k)` call; each use from outside the part
 *                       of a part's function or class goes through a stub left in the core
 *                       (`function _X(a,b){__P(k);return new X(a,b)}`), which loads the part first;
 *   cutParts(code, n)   on terser's output: the core before the first marker, and each part's text with its
 *                       declarations made global assignments, plus the text that deletes them again.
 *
 * What cannot go through a stub fails the build with its name: a part's value (not a function or class) used
 * outside it, a part's binding assigned from outside, `instanceof`/`extends` of a part's class, or a member of it
 * read from outside (statics). A constant with a literal value is kept in the core instead.
 */
import { parse } from "@babel/parser";
import type { NodePath, PluginObj, types as T } from "@babel/core";
import { types as t } from "@babel/core";

export interface PartSpec {
  name: string;
  /** The modules the part holds, as esbuild names them in its output's comments (paths from the project root). */
  files: string[];
}

export const PART_BEGIN = "__PART_BEGIN";

/** The module each top-level statement comes from, from esbuild's `// path/to/module.ts` comments. */
function moduleOf(body: NodePath<T.Statement>[]): string[] {
  const out: string[] = [];
  let mod = "";
  for (const st of body) {
    for (const c of st.node.leadingComments ?? []) {
      const m = /^ ([\w@./-]+\.(?:ts|js|mjs|cjs))$/.exec(c.value);
      if (m) mod = m[1];
    }
    out.push(mod);
  }
  return out;
}

function topStatement(p: NodePath): NodePath | null {
  let q: NodePath | null = p;
  while (q && !(q.parentPath && q.parentPath.isProgram())) q = q.parentPath;
  return q;
}

function isLiteralConst(d: NodePath): boolean {
  if (!d.isVariableDeclarator()) return false;
  const init = d.node.init;
  return !!init && (t.isNumericLiteral(init) || t.isStringLiteral(init) || t.isBooleanLiteral(init) ||
    (t.isUnaryExpression(init) && init.operator === "-" && t.isNumericLiteral(init.argument)));
}

/**
 * The Babel plugin (first step). `found` is filled with each part's modules found, to check the list; `stubbed`
 * with "part: name (module)" for each stub made, for the build's report.
 */
export function splitParts(parts: PartSpec[], found: Set<string>, stubbed: string[] = []): () => PluginObj {
  return () => ({
    visitor: {
      Program: {
        exit(path) {
          if (!parts.length) return;
          path.scope.crawl();
          const body = path.get("body");
          const mods = moduleOf(body);
          const partOf = new Map<T.Node, number>();
          body.forEach((st, i) => {
            const k = parts.findIndex((p) => p.files.includes(mods[i]));
            if (k >= 0) {
              partOf.set(st.node, k);
              found.add(mods[i]);
            }
          });
          const where = (p: NodePath): number => {
            const top = topStatement(p);
            return top ? partOf.get(top.node) ?? -1 : -1;
          };
          const stubs: T.Statement[] = [];
          for (const st of body) {
            const k = partOf.get(st.node);
            if (k === undefined) continue;
            for (const name of Object.keys(t.getBindingIdentifiers(st.node as T.Node, false))) {
              const b = path.scope.getBinding(name);
              if (!b) continue;
              const outside = b.referencePaths.filter((r) => where(r) !== k);
              const bad = (why: string) => new Error(`part ${parts[k].name}: ${name} (${mods[body.indexOf(st)]}) ${why}`);
              if (b.constantViolations.some((v) => where(v) !== k)) throw bad("is assigned outside the part");
              if (!outside.length) continue;
              if (isLiteralConst(b.path)) {
                partOf.delete(st.node); // a literal constant stays in the core, where both see it
                continue;
              }
              // a declaration, or `var X = class {…}` / `var f = function (…) {…}` as esbuild writes some
              const decl = b.path.node;
              const value = t.isVariableDeclarator(decl) ? decl.init : decl;
              const isClass = t.isClass(value);
              const isFn = t.isFunction(value);
              if (!isClass && !isFn) throw bad("is used outside the part but is not a function or a class");
              let arity = 0;
              if (t.isClass(value)) {
                const ctor = value.body.body.find((m) => t.isClassMethod(m) && m.kind === "constructor") as T.ClassMethod | undefined;
                arity = ctor ? ctor.params.length : 0;
              }
              const stub = path.scope.generateUidIdentifier(name);
              stubbed.push(`${parts[k].name}: ${name} (${mods[body.indexOf(st)]})`);
              for (const r of outside) {
                const parent = r.parentPath!;
                if (isClass && !(parent.isNewExpression() && parent.node.callee === r.node)) throw bad("is a class used outside the part other than by `new`");
                if (parent.isMemberExpression() && parent.node.object === r.node) throw bad("has a member read outside the part");
                if (parent.isBinaryExpression({ operator: "instanceof" })) throw bad("is used with instanceof outside the part");
                // a part's function called or passed as a value: the stub stands for it either way
                r.replaceWith(t.identifier(stub.name));
              }
              const load = t.expressionStatement(t.callExpression(t.identifier("__P"), [t.numericLiteral(k)]));
              if (isClass) {
                const ps = Array.from({ length: arity }, (_, i) => t.identifier("p" + i));
                stubs.push(t.functionDeclaration(stub, ps, t.blockStatement([load, t.returnStatement(t.newExpression(t.identifier(name), ps))])));
              } else {
                const apply = t.callExpression(t.memberExpression(t.identifier(name), t.identifier("apply")), [t.thisExpression(), t.identifier("arguments")]);
                stubs.push(t.functionDeclaration(stub, [], t.blockStatement([load, t.returnStatement(apply)])));
              }
            }
          }
          const core = body.filter((st) => !partOf.has(st.node)).map((st) => st.node);
          const tail: T.Statement[] = [];
          parts.forEach((_, k) => {
            tail.push(t.expressionStatement(t.callExpression(t.identifier(PART_BEGIN), [t.numericLiteral(k)])));
            for (const st of body) if (partOf.get(st.node) === k) tail.push(st.node);
          });
          // the stubs first: the interpreter defines a function declared in a block (the boot stub's) only as it
          // reaches it, and the core's start may already call into a part (the deny list's load, at boot)
          path.node.body = [...stubs, ...core, ...tail];
        },
      },
    },
  });
}

export interface CutParts {
  core: string;
  /** Each part's code (global assignments, functions first) and the text that deletes its globals. */
  parts: { code: string; drop: string }[];
}

/** The second step, on terser's output: cut it at the markers and make each part's declarations global. */
export function cutParts(code: string, count: number): CutParts {
  const ast = parse(code, { sourceType: "script" });
  const text = (n: T.Node) => code.slice(n.start!, n.end!);
  const isMarker = (e: T.Node): number => {
    if (t.isCallExpression(e) && t.isIdentifier(e.callee, { name: PART_BEGIN }) && t.isNumericLiteral(e.arguments[0])) return e.arguments[0].value;
    return -1;
  };
  // each part's functions (first, as hoisting would have them) and its other statements (or pieces of a terser
  // sequence), in order
  const rest: string[][] = [];
  const fns: string[][] = [];
  const names: string[][] = [];
  let cur = -1;
  let coreEnd = code.length;
  const put = (s: string, fn = false) => (fn ? fns[cur] : rest[cur]).push(s);
  for (const st of ast.program.body) {
    const pieces: T.Node[] = t.isExpressionStatement(st) && t.isSequenceExpression(st.expression) ? st.expression.expressions : [st];
    for (const piece of pieces) {
      const m = isMarker(t.isExpressionStatement(piece) ? piece.expression : piece);
      if (m >= 0) {
        if (m !== cur + 1) throw new Error(`part markers out of order: ${m} after ${cur}`);
        if (cur < 0) coreEnd = piece.start!;
        cur = m;
        rest.push([]);
        fns.push([]);
        names.push([]);
        continue;
      }
      if (cur < 0) continue; // the core is kept as terser wrote it (up to the first marker)
      if (t.isFunctionDeclaration(piece) && piece.id) {
        names[cur].push(piece.id.name);
        put(piece.id.name + "=function" + code.slice(piece.id.end!, piece.end!), true);
      } else if (t.isClassDeclaration(piece) && piece.id) {
        names[cur].push(piece.id.name);
        put(piece.id.name + "=class" + code.slice(piece.id.end!, piece.end!));
      } else if (t.isVariableDeclaration(piece)) {
        for (const d of piece.declarations) {
          if (!t.isIdentifier(d.id)) throw new Error("part: a top-level declaration that is not a plain name: " + text(d));
          names[cur].push(d.id.name);
          if (d.init) put(d.id.name + "=" + text(d.init));
        }
      } else put(text(piece));
    }
  }
  if (cur !== count - 1) throw new Error(`expected ${count} parts, found ${cur + 1}`);
  const core = code.slice(0, coreEnd).replace(/[,;]\s*$/, ";");
  checkStubs(core, names);
  const parts = fns.map((f, k) => ({
    code: [...f, ...rest[k]].join(";\n") + ";",
    drop: names[k].map((n) => "delete global." + n).join(";") + ";",
  }));
  for (const p of parts) if (p.code.includes("*/")) throw new Error("a part's code contains */, which would end the comment that carries it");
  return { core, parts };
}

/**
 * Each stub in the core loads the part that declares what it stands for, and the core declares nothing a part does:
 * terser moves function declarations ahead of statements it joins into sequences (off in a build with parts), and a
 * function moved across a marker would be defined in another part than its stub loads ("X is not defined" at the
 * first call) or in the core, where a drop would delete it for good.
 */
function checkStubs(core: string, names: string[][]): void {
  const ast = parse(core, { sourceType: "script" });
  const declared = new Set<string>();
  for (const st of ast.program.body) {
    if ((t.isFunctionDeclaration(st) || t.isClassDeclaration(st)) && st.id) declared.add(st.id.name);
    if (t.isVariableDeclaration(st)) for (const d of st.declarations) if (t.isIdentifier(d.id)) declared.add(d.id.name);
  }
  names.forEach((ns, k) => {
    for (const n of ns) if (declared.has(n)) throw new Error(`part ${k}: ${n} is declared in the core too (moved across a part marker)`);
  });
  const walk = (n: unknown, seen: { part: number; uses: string[] }) => {
    if (!n || typeof n !== "object") return;
    if (Array.isArray(n)) return n.forEach((x) => walk(x, seen));
    const node = n as T.Node;
    if (t.isCallExpression(node) && t.isIdentifier(node.callee, { name: "__P" }) && t.isNumericLiteral(node.arguments[0])) seen.part = node.arguments[0].value;
    if (t.isNewExpression(node) && t.isIdentifier(node.callee)) seen.uses.push(node.callee.name);
    if (t.isMemberExpression(node) && t.isIdentifier(node.object) && t.isIdentifier(node.property, { name: "apply" })) seen.uses.push(node.object.name);
    for (const key of Object.keys(node)) if (key !== "loc" && key !== "start" && key !== "end" && key !== "leadingComments" && key !== "trailingComments") walk((node as unknown as Record<string, unknown>)[key], seen);
  };
  for (const st of ast.program.body) {
    if (!t.isFunctionDeclaration(st) || !st.id) continue;
    const seen = { part: -1, uses: [] as string[] };
    walk(st.body, seen);
    if (seen.part < 0) continue;
    for (const u of seen.uses) if (!names[seen.part] || names[seen.part].indexOf(u) < 0) throw new Error(`stub ${st.id.name} loads part ${seen.part}, which does not declare ${u}`);
  }
}
