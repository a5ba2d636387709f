/**
 * npm start: the simulator in real time, with a page on localhost showing the terminal as a merchant sees it
 * (the panel as the emulated ST7789 holds it, a clickable keypad and the computer's keyboard, the paper roll).
 * The device's flash and secure element persist in .sim-state/ between runs.
 *
 *   PORT=8080 BOARD=devkit npm start
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Flash } from "./espruino/flash.ts";
import { readBoard, SimHost } from "./host.ts";
import { Atecc608Emulator } from "./peripherals/atecc608.ts";
import { paperPng } from "./render/paper.ts";
import { PAGE } from "./ui/page.ts";

const boardName = process.env.BOARD || "devkit";
const port = Number(process.env.PORT || 8080);
const stateDir = join(process.cwd(), ".sim-state", boardName);
mkdirSync(stateDir, { recursive: true });
const flashFile = join(stateDir, "flash.bin");
const seFile = join(stateDir, "secure-element.json");
const journalFile = join(stateDir, "journal.bin");

const { board, bundle } = readBoard(boardName);
const flash = existsSync(flashFile) ? Flash.load(flashFile, { pageSize: board.platform.storage.pageSize }) : undefined;
const journalFlash = existsSync(journalFile) ? Flash.load(journalFile, { pageSize: board.platform.journal.pageSize }) : undefined;
let hostClock = 0;
const secure = new Atecc608Emulator({ now: () => hostClock, address: board.wiring.secure.address });
if (existsSync(seFile)) secure.importState(JSON.parse(readFileSync(seFile, "utf8")));
const host = new SimHost({
  board,
  bundle,
  flash,
  journalFlash,
  secure,
  wallClockMs: Date.now(),
  onPrint: (l) => console.log("[device] " + l),
});

function persist(): void {
  host.flash.save(flashFile);
  host.journalFlash.save(journalFile);
  writeFileSync(seFile, JSON.stringify(host.secure.exportState()));
}

host.boot();
let last = Date.now();
setInterval(() => {
  const now = Date.now();
  host.advance(now - last);
  hostClock = host.sched.now;
  last = now;
}, 10);
setInterval(persist, 5000);
process.on("SIGINT", () => {
  persist();
  process.exit(0);
});

const server = createServer((req, res) => {
  const url = new URL(req.url || "/", "http://localhost");
  const send = (status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  if (req.method === "GET" && url.pathname === "/") return send(200, "text/html; charset=utf-8", PAGE);
  if (req.method === "GET" && url.pathname === "/display.png") return send(200, "image/png", host.display.toPng());
  if (req.method === "GET" && url.pathname === "/paper.png") return send(200, "image/png", paperPng(host.printer));
  if (req.method === "GET" && url.pathname === "/state") {
    return send(
      200,
      "application/json",
      JSON.stringify({
        board: board.name,
        version: board.version,
        poweredOn: host.poweredOn,
        screen: host.screenText(),
        paper: host.printer.text(),
        log: host.output.slice(-30),
        consoles: host.consoles,
      }),
    );
  }
  if (req.method === "POST" && (url.pathname === "/key/down" || url.pathname === "/key/up")) {
    const key = url.searchParams.get("k") || "";
    if (board.wiring.keypad.keys.indexOf(key) < 0 || key.length !== 1) return send(400, "text/plain", "no such key");
    if (url.pathname === "/key/down") host.keyDown(key);
    else host.keyUp(key);
    return send(204, "text/plain", "");
  }
  if (req.method === "POST" && url.pathname === "/power/cycle") {
    persist();
    host.reboot();
    return send(204, "text/plain", "");
  }
  send(404, "text/plain", "not found");
});
server.listen(port, "127.0.0.1", () => {
  console.log(`Simulator (${board.name}, firmware ${board.version}) running at http://127.0.0.1:${port}/`);
});
