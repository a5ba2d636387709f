/**
 * The gateway's responses checked against its description, docs/gateway-api.yaml (OpenAPI 3.0), so that the
 * description cannot drift from what the gateway answers.
 *
 *   const c = apiContract();
 *   c.check("GET", "/v1/merchants/1/ledger", { status: 200, headers: {...}, body: "{...}" }); // [] or problems
 *   installApiContractHook(); // every Gateway.handle/handleSync answer in this process is checked; a test whose
 *                             // requests got an undescribed answer fails in the root afterEach hook
 *
 * What a response must satisfy:
 * - its path matches a path template (literal templates before templated ones, path parameters valid against
 *   their schemas), else it is 404 with an Error body (the description says so in info.description);
 * - its method is described for that path, else it is 405 METHOD with an Error body;
 * - its status is one of the operation's responses;
 * - its media type (the content-type header, application/json by default as gateway/server.ts sends) is one the
 *   response lists (none: the body is empty), and a JSON body validates against that media type's schema (Ajv,
 *   with the OpenAPI 3.0 keyword `nullable`, formats from ajv-formats).
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { Gateway } from "../../gateway/gateway.ts";
import type { GatewayRequest, GatewayResponse } from "../../gateway/gateway.ts";

import yaml from "js-yaml";
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const API_DESCRIPTION = new URL("../../docs/gateway-api.yaml", import.meta.url);

type Obj = Record<string, unknown>;
interface Template {
  path: string;
  re: RegExp;
  names: string[];
  literal: number;
}

export interface ApiOperation {
  method: string;
  path: string;
  tags: string[];
  /** The security schemes it takes ([]: none at all; "none" among others: they are optional). */
  security: string[];
  /** It takes a request body, and one as application/json. */
  body: boolean;
  json: boolean;
}

export interface ApiContract {
  /** Problems of one response to `method path` (empty: it is described). */
  check(method: string, path: string, res: { status: number; headers?: Record<string, string>; body: string }): string[];
  /** The described path template `path` matches, or undefined. */
  route(method: string, path: string): string | undefined;
  /** Every described operation: method (upper case), path template, tags, security scheme names, whether it takes a JSON body. */
  operations(): ApiOperation[];
  /** "METHOD template status" of every described response a check has seen, and of every one described. */
  seen: Set<string>;
  described(): string[];
}

const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

export function loadApiContract(text = readFileSync(API_DESCRIPTION, "utf8")): ApiContract {
  const doc = yaml.load(text) as Obj;
  const paths = (doc.paths ?? {}) as Record<string, Obj>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc, "api");
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string): ValidateFunction => {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: "api#" + pointer });
      compiled.set(pointer, v);
    }
    return v;
  };
  /** An OpenAPI object that may be a local $ref: the object and its JSON pointer. */
  const deref = (o: Obj, pointer: string): [Obj, string] => {
    for (let i = 0; i < 10 && typeof o.$ref === "string"; i++) {
      pointer = (o.$ref as string).slice(1);
      o = pointer.split("/").slice(1).reduce<Obj>((x, k) => (x as Obj)[k.replace(/~1/g, "/").replace(/~0/g, "~")] as Obj, doc);
    }
    return [o, pointer];
  };
  const templates: Template[] = Object.keys(paths)
    .map((p) => {
      const names: string[] = [];
      const re = new RegExp("^" + p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), "([^/]+)")) + "$");
      return { path: p, re, names, literal: p.replace(/\{[^}]+\}/g, "").length };
    })
    // a literal path before a templated one that also matches it (OpenAPI 3.0, Paths Object)
    .sort((a, b) => a.names.length - b.names.length || b.literal - a.literal);

  const paramValid = (t: Template, method: string, values: string[]): boolean => {
    const item = paths[t.path];
    const op = (item[method] ?? {}) as Obj;
    const params = [...((item.parameters as Obj[]) ?? []), ...((op.parameters as Obj[]) ?? [])];
    return t.names.every((name, i) => {
      const idx = params.findIndex((p) => deref(p, "")[0].name === name && deref(p, "")[0].in === "path");
      if (idx < 0) return false;
      const [param] = deref(params[idx], "");
      const schema = deref((param.schema ?? {}) as Obj, "")[0];
      let value: unknown = decodeURIComponent(values[i]);
      if (schema.type === "integer") {
        if (!/^-?[0-9]{1,15}$/.test(value as string)) return false;
        value = Number(value);
      }
      return ajv.validate(param.schema as Obj, value) as boolean;
    });
  };

  const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const route = (method: string, path: string): string | undefined => {
    const m = method.toLowerCase();
    const p = path.split("?")[0];
    let other: string | undefined;
    for (const t of templates) {
      const x = t.re.exec(p);
      if (!x) continue;
      const values = x.slice(1);
      if (paths[t.path][m] && paramValid(t, m, values)) return t.path;
      // the path is described for another method: a 405 is the answer
      other ??= METHODS.some((o) => paths[t.path][o] && paramValid(t, o, values)) ? t.path : undefined;
    }
    return other;
  };

  const errorShape = (res: { body: string }, status: number, code?: string): string[] => {
    let v: Obj;
    try {
      v = JSON.parse(res.body) as Obj;
    } catch {
      return ["a " + status + " whose body is not JSON"];
    }
    if (!validator("/components/schemas/Error")(v)) return ["a " + status + " whose body is not an Error"];
    if (code && v.error !== code) return ["a " + status + " " + String(v.error) + ", not " + code];
    return [];
  };

  const seen = new Set<string>();
  return {
    route,
    seen,
    described() {
      const out: string[] = [];
      for (const [path, item] of Object.entries(paths)) for (const m of METHODS) if (item[m]) for (const st of Object.keys(((item[m] as Obj).responses ?? {}) as Obj)) out.push(m.toUpperCase() + " " + path + " " + st);
      return out;
    },
    operations() {
      const out: ApiOperation[] = [];
      for (const [path, item] of Object.entries(paths)) {
        for (const m of METHODS) {
          const op = item[m] as Obj | undefined;
          if (!op) continue;
          // an empty requirement {} makes the credentials optional: "none" stands for it
          const security = ((op.security ?? doc.security ?? []) as Obj[]).flatMap((x) => (Object.keys(x).length ? Object.keys(x) : ["none"]));
          const content = ((op.requestBody as Obj | undefined)?.content ?? {}) as Obj;
          out.push({ method: m.toUpperCase(), path, tags: (op.tags as string[]) ?? [], security, body: !!op.requestBody, json: "application/json" in content });
        }
      }
      return out;
    },
    check(method, path, res) {
      const where = method.toUpperCase() + " " + path.split("?")[0] + " -> " + res.status;
      const t = route(method, path);
      if (!t) return res.status === 404 ? errorShape(res, 404).map((e) => where + ": " + e) : [where + ": no such path in the description"];
      const m = method.toLowerCase();
      const item = paths[t];
      if (!item[m]) return res.status === 405 ? errorShape(res, 405, "METHOD").map((e) => where + ": " + e) : [where + ": method not described for " + t];
      const opPtr = "/paths/" + esc(t) + "/" + m;
      const responses = ((item[m] as Obj).responses ?? {}) as Obj;
      if (!responses[String(res.status)]) return [where + ": status not described for " + m.toUpperCase() + " " + t + " (" + res.body.slice(0, 120) + ")"];
      seen.add(m.toUpperCase() + " " + t + " " + res.status);
      const [resp, respPtr] = deref(responses[String(res.status)] as Obj, opPtr + "/responses/" + res.status);
      const content = (resp.content ?? {}) as Obj;
      const type = (res.headers?.["content-type"] ?? "application/json").split(";")[0].trim().toLowerCase();
      if (!Object.keys(content).length) return res.body === "" ? [] : [where + ": a body where the description has none"];
      if (!content[type]) return [where + ": media type " + type + " not described (" + Object.keys(content).join(", ") + ")"];
      if (type !== "application/json") return [];
      let v: unknown;
      try {
        v = JSON.parse(res.body);
      } catch {
        return [where + ": the body is not JSON"];
      }
      const fn = validator(respPtr + "/content/" + esc(type) + "/schema");
      if (fn(v)) return [];
      return (fn.errors ?? []).slice(0, 5).map((e) => where + ": body" + e.instancePath + " " + e.message + (e.params && "additionalProperty" in e.params ? " (" + String(e.params.additionalProperty) + ")" : ""));
    },
  };
}

let shared: ApiContract | undefined;
/** The description as it is on disk, loaded once per process. */
export function apiContract(): ApiContract {
  return (shared ??= loadApiContract());
}

/** Problems found by the hook since the last root afterEach. */
export const contractProblems: string[] = [];
const HOOKED = Symbol.for("offline-pay.api-contract-hook");

/** Notes the problems of one response a test received (for responses that do not pass Gateway.handle). */
export function noteResponse(method: string, path: string, res: { status: number; headers?: Record<string, string>; body: string }): void {
  for (const p of apiContract().check(method, path, res)) if (!contractProblems.includes(p)) contractProblems.push(p);
}

/**
 * Checks every answer of Gateway.handle and Gateway.handleSync in this process (in-process calls and the HTTP
 * server's, which calls them) and fails the running test, in a root afterEach hook, when one is not described.
 * Installing it twice installs it once.
 */
export function installApiContractHook(): void {
  const proto = Gateway.prototype as unknown as Record<PropertyKey, unknown> & {
    handle(req: GatewayRequest): Promise<GatewayResponse>;
    handleSync(req: GatewayRequest): GatewayResponse;
  };
  if (proto[HOOKED]) return;
  proto[HOOKED] = true;
  const note = (req: GatewayRequest, res: GatewayResponse) => noteResponse(req.method || "GET", req.path || "/", res);
  // both entry points are wrapped (the server calls handleSync for most requests, handle for card payments);
  // handle() answering through handleSync() is checked twice, and a problem is noted once
  const handle = proto.handle;
  proto.handle = async function (this: Gateway, req: GatewayRequest) {
    const res = await handle.call(this, req);
    note(req, res);
    return res;
  };
  const handleSync = proto.handleSync as typeof proto.handleSync | undefined;
  if (typeof handleSync === "function") {
    proto.handleSync = function (this: Gateway, req: GatewayRequest) {
      const res = handleSync.call(this, req);
      note(req, res);
      return res;
    };
  }
  // API_CONTRACT=list: run on and print every problem at the end (a failing root hook stops the run at the first)
  const listOnly = process.env.API_CONTRACT === "list";
  const listed = new Set<string>();
  afterEach(function () {
    if (!contractProblems.length) return;
    const found = contractProblems.splice(0);
    if (listOnly) for (const f of found) listed.add(f);
    else throw new Error("responses not in docs/gateway-api.yaml:\n  " + found.join("\n  "));
  });
  after(function () {
    if (listed.size) console.log("responses not in docs/gateway-api.yaml:\n  " + [...listed].sort().join("\n  "));
    if (listOnly) {
      const c = apiContract();
      const all = c.described();
      const missed = all.filter((d) => !c.seen.has(d) && !/ (413|431|500|503)$/.test(d));
      console.log("described responses the run received: " + all.filter((d) => c.seen.has(d)).length + " of " + all.length + "; not received (besides 413/431/500/503):\n  " + missed.join("\n  "));
    }
  });
}
