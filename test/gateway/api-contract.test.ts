/**
 * The check that keeps docs/gateway-api.yaml true (test/helpers/api-contract.ts): it must refuse what the
 * description does not say, or it proves nothing about the suite's responses.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { json } from "../../gateway/gateway.ts";
import type { GatewayRequest, GatewayResponse } from "../../gateway/gateway.ts";
import { API_DESCRIPTION, apiContract, contractProblems, installApiContractHook, loadApiContract } from "../helpers/api-contract.ts";
import { makeRig } from "./helpers.ts";

const ok = (status: number, v: unknown) => json(status, v);

describe("gateway API description: the response check", () => {
  const c = apiContract();

  it("passes a described response", () => {
    assert.deepEqual(c.check("GET", "/v1/health", ok(200, { ok: true, time: 5 })), []);
    assert.deepEqual(c.check("GET", "/v1/merchants/7/ledger", ok(200, { ledger: [] })), []);
  });

  it("fails a body that does not match the schema", () => {
    const p = c.check("GET", "/v1/health", ok(200, { ok: "yes", time: 5 }));
    assert.equal(p.length, 1, p.join("\n"));
    assert.match(p[0], /\/ok must be boolean/);
  });

  it("fails a status the route does not list", () => {
    assert.match(c.check("GET", "/v1/health", ok(418, { error: "TEAPOT", message: "short and stout" })).join(), /status not described/);
  });

  it("fails a route the description does not have, unless it is a 404", () => {
    assert.match(c.check("GET", "/v1/secret-door", ok(200, { ok: true })).join(), /no such path/);
    assert.deepEqual(c.check("GET", "/v1/secret-door", ok(404, { error: "NOT_FOUND", message: "no such path" })), []);
    assert.match(c.check("GET", "/v1/secret-door", { status: 404, body: "nope" }).join(), /not JSON/);
  });

  it("fails a method the path does not describe, unless it is 405 METHOD", () => {
    assert.match(c.check("DELETE", "/v1/health", ok(200, { ok: true, time: 1 })).join(), /method not described/);
    assert.deepEqual(c.check("DELETE", "/v1/health", ok(405, { error: "METHOD", message: "takes GET" })), []);
  });

  it("fails a media type the response does not list", () => {
    const r: GatewayResponse = { status: 200, headers: { "content-type": "text/html" }, body: "<p>" };
    assert.match(c.check("GET", "/v1/health", r).join(), /media type text\/html/);
  });

  it("matches path parameters against their schemas, and literal paths before templated ones", () => {
    assert.equal(c.route("POST", "/v1/t/12/hello"), "/v1/t/{terminalId}/{op}");
    assert.equal(c.route("POST", "/v1/t/twelve/hello"), undefined, "terminalId is an integer");
    assert.equal(c.route("GET", "/v1/merchants/7/ledger"), "/v1/merchants/{merchantId}/ledger");
    assert.equal(c.route("POST", "/v1/invoices/pay/3ds"), "/v1/invoices/pay/3ds");
    assert.match(c.check("GET", "/v1/merchants/7/passwords", ok(200, { passwords: [] })).join(), /no such path/);
  });

  it("is checked against a description edited to drop a status: the same response then fails", () => {
    const yamlText = readFileSync(API_DESCRIPTION, "utf8");
    const edited = loadApiContract(yamlText.replace(/(\/v1\/health:\n(?:.*\n)*?\s+)"200":/, '$1"299":'));
    assert.match(edited.check("GET", "/v1/health", ok(200, { ok: true, time: 5 })).join(), /status not described/);
  });

  it("the hook notes an undescribed answer of a real gateway and fails the test that got it", async () => {
    installApiContractHook();
    const rig = makeRig();
    const gw = rig.gw as unknown as { route(req: GatewayRequest): GatewayResponse };
    // a gateway whose health check answers a field the description does not allow
    gw.route = () => ok(200, { ok: 1, time: 5 });
    const res = await rig.gw.handle({ method: "GET", path: "/v1/health", headers: {}, body: "" });
    assert.equal(res.status, 200);
    const seen = contractProblems.splice(0);
    assert.equal(seen.length, 1, seen.join("\n"));
    assert.match(seen[0], /GET \/v1\/health -> 200: body\/ok must be boolean/);
    // and a described answer notes nothing
    const fine = await makeRig().gw.handle({ method: "GET", path: "/v1/health", headers: {}, body: "" });
    assert.equal(fine.status, 200);
    assert.deepEqual(contractProblems, []);
  });

  it("fails a mocha run whose test got an undescribed answer, naming it (the root afterEach hook)", async function () {
    this.timeout(60000);
    const { execFile } = await import("node:child_process");
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [join(root, "node_modules/mocha/bin/mocha.js"), "--no-config", "--node-option", "import=tsx", "--timeout", "20000", "test/gateway/fixtures/contract-drift.ts"], { cwd: root, env: { ...process.env, API_CONTRACT: "" } }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
    });
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /responses not in docs\/gateway-api\.yaml/);
    assert.match(r.out, /GET \/v1\/health -> 200: body must NOT have additional properties \(build\)/);
  });
});
