/**
 * The simulator's page: the terminal (panel, keypad with mouse and keyboard, paper roll), the scanner (text, a QR
 * image, or the computer's camera), the customer's phone (wallet: pay the QR on the terminal's display, show the
 * payment to the scanner, or pay over Bluetooth), switches (Wi-Fi, gateway, power, paper, clock, speed, factory
 * reset), the gateway's books (transactions, balances, payouts, SMS), the bus log (every wire, as a logic analyser
 * shows it) and the journal (records by page). A banner says so when the page loses the simulator. Plain HTML, no
 * build step; every action is a POST to sim/server.ts. The camera's frames are
 * decoded in the browser by jsQR's browser build (served from node_modules at /vendor/jsQR.js); only the code's
 * bytes go to the server.
 */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Terminal simulator</title>
<style>
 body{font-family:system-ui,sans-serif;background:#2b2f36;color:#eee;margin:0;display:flex;flex-wrap:wrap;gap:24px;padding:24px;align-items:flex-start}
 .device{background:#15171b;border-radius:24px;padding:20px;box-shadow:0 8px 24px #0008}
 #screen{width:360px;height:360px;image-rendering:pixelated;display:block;border:4px solid #000;border-radius:4px}
 .keys{display:grid;grid-template-columns:repeat(4,64px);gap:10px;margin-top:12px}
 .keys button{height:48px;font-size:20px;border-radius:10px;border:0;background:#3b414b;color:#fff;cursor:pointer}
 .keys button:active,.keys button.down{background:#6b7f99}
 .panel{background:#1d2027;border-radius:12px;padding:14px;min-width:260px;max-width:420px}
 .paper{background:#fafaf5;color:#111;padding:8px;border-radius:4px;max-height:640px;overflow:auto}
 #screen.off{filter:brightness(0)}
 #lost{position:fixed;top:0;left:0;right:0;background:#b3261e;color:#fff;padding:10px 24px;font-weight:600;z-index:10;box-shadow:0 2px 8px #0008}
 .drop{border:2px dashed #5a6b80;border-radius:8px;padding:10px;font-size:12px;color:#9ab;text-align:center;margin:6px 0;cursor:pointer}
 .drop.over{border-color:#9cf;background:#24405e;color:#fff}
 .wide{flex:1 1 640px;max-width:none}
 #gw table{width:100%;table-layout:fixed;margin-bottom:8px} #gw td{overflow-wrap:anywhere;vertical-align:top}
 #gw .sms td:last-child{white-space:pre-wrap}
 #gw h3{font-size:12px;color:#cde;margin:10px 0 4px} #gw .none{color:#789;font-style:italic}
 .bus{font:11px ui-monospace,monospace;max-height:360px;overflow:auto;background:#15171b;border-radius:6px}
 .bus table{width:100%;table-layout:fixed} .bus td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
 .bus tr.out td:nth-child(3){color:#fc6} .bus tr.in td:nth-child(3){color:#6cf}
 .busctl label{font-size:12px;margin-right:6px}
 .jr td{font-size:11px} .anom{color:#f88}
 .paper img{display:block;max-width:384px}
 pre{white-space:pre-wrap;font-size:12px;color:#9ab;max-height:220px;overflow:auto}
 h2{font-size:14px;color:#9ab;margin:0 0 8px}
 button.act{margin:3px 2px;padding:6px 10px;border-radius:6px;border:0;background:#46607e;color:#fff;cursor:pointer}
 input[type=text]{width:220px}
 #phoneqr{width:auto;image-rendering:pixelated;background:#fff;display:block;margin-top:6px}
 .msg{font-size:12px;color:#fc6;min-height:16px}
 table{font-size:12px;border-collapse:collapse} td,th{padding:2px 6px;border-bottom:1px solid #333;text-align:left}
</style></head><body>
<div id="lost" hidden>Lost the simulator: the page gets no answer from it (was npm start stopped?). Retrying…</div>
<div class="device"><img id="screen" alt="terminal display" src="/display.png">
<div class="keys" id="keys"></div>
<p style="font-size:12px;color:#9ab">Keyboard: digits, Enter = #, Esc = *, Backspace = B, Delete = C, a/d = A/D</p>
<div id="status" style="font-size:12px;color:#9ab"></div></div>

<div class="panel"><h2>Printer</h2><div class="paper" id="paperbox"><img id="paper" alt="paper roll" src="/paper.png"></div>
<div style="font-size:12px;margin-top:6px"><span id="receipts">0 receipts</span> · <a id="lastreceipt" href="/receipt/last.png" target="_blank" style="color:#9cf">last receipt</a> · <a href="/paper.png" target="_blank" style="color:#9cf">whole roll</a></div></div>

<div class="panel">
 <h2>Scanner</h2>
 <input type="text" id="scantext" placeholder="text the scanner reads"> <button class="act" id="scanbtn">Scan text</button><br>
 <div class="drop" id="drop">Drop a QR image here (PNG, JPEG, …), or click to pick one<input type="file" id="scanfile" accept="image/*" hidden></div>
 <select id="paysel" style="max-width:220px"><option value="">(no wallet payment yet)</option></select> <button class="act" id="payselbtn">Scan this payment</button><br>
 <button class="act" id="cambtn">Use camera</button> <button class="act" id="camstop" style="display:none">Stop camera</button><br>
 <video id="cam" width="240" height="180" style="display:none;background:#000" muted playsinline></video>
 <div class="msg" id="scanmsg"></div>

 <h2 style="margin-top:14px">Customer phone</h2>
 <input type="text" id="wname" value="customer" style="width:120px"> <button class="act" id="wcreate">Open wallet</button>
 <div id="winfo" style="font-size:12px"></div>
 <button class="act" id="paycam">Pay the QR on the terminal</button>
 <button class="act" id="payshow">Show payment to scanner</button>
 <button class="act" id="payble">Pay by Bluetooth</button>
 <button class="act" id="paidconf" title="for an invoice the terminal shows: pay it online through the gateway, show the relayed paid confirmation to the scanner">Pay invoice online, show paid confirmation</button>
 <button class="act" id="scanreceipt">Scan the receipt</button>
 <button class="act" id="claim">Claim fraud on last payment</button>
 <div id="wpays" style="font-size:12px"></div>
 <img id="phoneqr" alt="payment QR on the phone" style="display:none">
 <div class="msg" id="phonemsg"></div>

 <h2 style="margin-top:14px">Switches</h2>
 <label><input type="checkbox" id="swwifi" checked> Wi-Fi</label>
 <label><input type="checkbox" id="swgw" checked> Gateway reachable</label>
 <label><input type="checkbox" id="swpaper"> Paper out</label><br>
 <button class="act" id="pcut">Cut power now</button>
 <button class="act" id="pnext">Cut at next flash write</button>
 <button class="act" id="pon">Power on</button><br>
 <button class="act" id="prov">Provision terminal</button><br>
 <button class="act" data-hours="1" id="ffh">+1 hour</button>
 <button class="act" data-days="1" id="ff1">+1 day</button>
 <button class="act" data-days="3" id="ff3">+3 days</button><br>
 <span style="font-size:12px">Speed:</span>
 <label><input type="radio" name="speed" id="spreal" value="real" checked> real time</label>
 <label title="while the terminal works on its own (a receipt printing), as fast as this machine allows; real time while it waits for you"><input type="radio" name="speed" id="spfast" value="fast"> as fast as possible</label><br>
 <button class="act" id="freset" title="erase Storage and the journal, secure element as shipped">Factory reset</button>
 <div class="msg" id="swmsg"></div>
</div>

<div class="panel wide"><h2>Gateway</h2><div id="gw" style="font-size:12px">no gateway attached</div>
<h2 style="margin-top:14px">Device log</h2><pre id="log"></pre></div>

<div class="panel wide" id="buspanel"><h2>Bus log</h2>
 <div class="busctl" id="busctl">
  <label><input type="checkbox" data-ch="scanner" checked> scanner UART</label>
  <label><input type="checkbox" data-ch="printer" checked> printer UART</label>
  <label><input type="checkbox" data-ch="i2c" checked> I2C (secure element)</label>
  <label><input type="checkbox" data-ch="spi" checked> SPI (panel)</label>
  <label><input type="checkbox" data-ch="ble" checked> Bluetooth</label>
  <label><input type="checkbox" data-ch="http" checked> HTTP</label>
  <input type="text" id="busq" placeholder="filter: text or hex" style="width:160px">
  <label><input type="checkbox" id="buspause"> pause</label>
  <button class="act" id="busclear">clear</button> <span id="buscount" style="font-size:12px;color:#9ab"></span>
 </div>
 <div class="bus"><table><colgroup><col style="width:80px"><col style="width:64px"><col style="width:22px"><col style="width:76px"><col><col style="width:32%"></colgroup><tbody id="busrows"></tbody></table></div>
</div>

<div class="panel wide" id="jpanel"><h2>Journal</h2><div id="journal" style="font-size:12px">…</div></div>
<script>
const KEYS = "123A456B789C*0#D";
const LABEL = {"A":"Menu","B":"Back","C":"Clear","D":"Fn","*":"Cancel","#":"Enter"};
const $ = (id) => document.getElementById(id);
async function post(path, body){ const r = await fetch(path,{method:"POST",body}); let j = {}; try { j = await r.json(); } catch (e) {} if (!r.ok) throw new Error(j.error || r.statusText); return j; }
// Down and up go to the server in order; it keeps a key down long enough in device time for the firmware's
// keypad scan and debounce, however slow the machine.
let keyChain = Promise.resolve();
function keyPost(path){ keyChain = keyChain.then(() => post(path)).catch(() => {}); }
function down(k){ keyPost("/key/down?k="+encodeURIComponent(k)); }
function up(k){ keyPost("/key/up?k="+encodeURIComponent(k)); }
for (const k of KEYS) {
  const b = document.createElement("button");
  b.textContent = k; b.title = LABEL[k] || k; b.dataset.key = k;
  b.onmousedown = () => down(k); b.onmouseup = () => up(k); b.onmouseleave = (e) => { if (e.buttons & 1) up(k); };
  $("keys").appendChild(b);
}
const MAP = {"Enter":"#","Escape":"*","Backspace":"B","Delete":"C","a":"A","d":"D"};
const held = new Set();
function keyOf(e){ if (e.target && e.target.tagName === "INPUT") return undefined; if (e.key.length===1 && e.key>="0" && e.key<="9") return e.key; return MAP[e.key]; }
addEventListener("keydown", e => { const k = keyOf(e); if (!k || held.has(k)) return; held.add(k); e.preventDefault(); down(k); });
addEventListener("keyup", e => { const k = keyOf(e); if (!k) return; held.delete(k); up(k); });
function say(id, p, prefix){ p.then(j => { $(id).textContent = j && j.text ? (prefix || "") + j.text.slice(0,60) : "ok"; return j; }).catch(e => { $(id).textContent = e.message; }); return p; }
$("scanbtn").onclick = () => say("scanmsg", post("/scan/text", $("scantext").value), "read: ");
/** An image for the scanner: PNG as is; any other picture the browser can read, redrawn into a PNG first. */
async function pngOf(f){
  if (f.type === "image/png") return f.arrayBuffer();
  const bmp = await createImageBitmap(f);
  const c = document.createElement("canvas"); c.width = bmp.width; c.height = bmp.height; c.getContext("2d").drawImage(bmp, 0, 0);
  return new Promise((ok, ko) => c.toBlob(b => b ? b.arrayBuffer().then(ok, ko) : ko(new Error("could not read the image")), "image/png"));
}
function scanFile(f){ if (!f) return; pngOf(f).then(png => say("scanmsg", post("/scan/image", png), "read: "), e => { $("scanmsg").textContent = e.message; }); }
$("scanfile").onchange = () => scanFile($("scanfile").files[0]);
$("drop").onclick = () => $("scanfile").click();
$("drop").addEventListener("dragover", e => { e.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", e => { e.preventDefault(); $("drop").classList.remove("over"); scanFile(e.dataTransfer && e.dataTransfer.files[0]); });
// The computer's camera as the scanner's eye: frames are decoded here (jsQR), a code's bytes go to the emulated
// GM65 when it comes into view (again after it has been out of view for a second, or after 3 s in view).
let cam = null;
function loadJsQR(){ return window.jsQR ? Promise.resolve() : new Promise((ok, ko) => { const sc = document.createElement("script"); sc.src = "/vendor/jsQR.js"; sc.onload = ok; sc.onerror = () => ko(new Error("could not load /vendor/jsQR.js")); document.head.appendChild(sc); }); }
function stopCamera(){ if (!cam) return; clearInterval(cam.timer); cam.stream.getTracks().forEach(t => t.stop()); cam = null; $("cam").style.display = "none"; $("camstop").style.display = "none"; $("cambtn").style.display = ""; document.body.dataset.camera = "off"; }
$("cambtn").onclick = async () => {
  try {
    await loadJsQR();
    const v = $("cam");
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 640 }, height: { ideal: 480 } } });
    v.srcObject = stream; v.style.display = "block"; await v.play();
    const c = document.createElement("canvas"); const g = c.getContext("2d", { willReadFrequently: true });
    cam = { stream, key: "", seenAt: 0, sentAt: 0, timer: 0 };
    $("camstop").style.display = ""; $("cambtn").style.display = "none"; document.body.dataset.camera = "on";
    $("scanmsg").textContent = "camera on: hold a QR code up to it";
    cam.timer = setInterval(() => {
      if (!cam || !v.videoWidth) return;
      c.width = v.videoWidth; c.height = v.videoHeight; g.drawImage(v, 0, 0);
      const r = window.jsQR(g.getImageData(0, 0, c.width, c.height).data, c.width, c.height, { inversionAttempts: "attemptBoth" });
      const now = Date.now();
      if (!r) return;
      const key = r.binaryData.join(",");
      const fresh = key !== cam.key || now - cam.seenAt > 1000 || now - cam.sentAt > 3000;
      cam.key = key; cam.seenAt = now;
      if (!fresh) return;
      cam.sentAt = now;
      say("scanmsg", post("/scan/bytes", new Uint8Array(r.binaryData)), "camera read: ").then(() => { document.body.dataset.camreads = String(Number(document.body.dataset.camreads || 0) + 1); }, () => {});
    }, 150);
  } catch (e) { $("scanmsg").textContent = "camera: " + e.message; stopCamera(); }
};
$("camstop").onclick = () => { stopCamera(); $("scanmsg").textContent = "camera off"; };
async function loadPayments(){ const list = await (await fetch("/payments")).json(); const sel = $("paysel"); if (!list.length) return;
  sel.innerHTML = list.map(p => "<option value='" + p.index + "'>" + esc(p.label) + "</option>").join(""); sel.value = String(list.length - 1); }
$("payselbtn").onclick = () => { const v = $("paysel").value; if (v === "") { $("scanmsg").textContent = "no wallet payment to scan"; return; } say("scanmsg", post("/scan/payment?index=" + v), "read: "); };
const wname = () => encodeURIComponent($("wname").value || "customer");
const CUR = {978:"EUR",840:"USD",826:"GBP",756:"CHF",752:"SEK",985:"PLN"};
/** Minor units as money, as the terminal and the gateway write it: "12.50 EUR". */
const money = (m, cur) => (m < 0 ? "-" : "") + (Math.abs(m)/100).toFixed(2) + " " + (CUR[cur] || cur || "");
function showWallet(w){
  if (!w || !w.name) return;
  const m = w.money || {};
  $("winfo").textContent = w.name + ": balance " + (m.balance || "(no gateway)") + " · offline allowance " + m.cap + ", spent " + m.spent + ", left " + m.left + " · " + w.accepted + (w.accepted === 1 ? " payment" : " payments") + " accepted" + (w.awaitingReceipt ? ", " + w.awaitingReceipt + " without the terminal's receipt" : "");
  const list = (w.list || []).map((p, i) => ({ n: i + 1, ...p }));
  $("wpays").innerHTML = list.slice(-6).map(p => "<div data-accepted='" + (p.accepted ? 1 : 0) + "' title='payment counter " + p.counter + "'>" + p.n + ". " + esc(p.amount) + " to terminal " + p.terminalId + (p.method ? " by " + esc(p.method) : "") + ": " + (p.accepted ? "accepted, UTR " + esc(p.utr) : "no receipt yet") + "</div>").join("");
}
function showPhoneQr(path){ const i = $("phoneqr"); i.dataset.ready = "0"; i.onload = () => { i.dataset.ready = "1"; }; i.src = path + (path.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now(); i.style.display = "block"; }
$("wcreate").onclick = () => say("phonemsg", post("/wallet/create?name=" + wname()).then(w => { showWallet(w); return w; }));
$("paycam").onclick = () => say("phonemsg", post("/wallet/pay-qr?name=" + wname()).then(j => { showWallet(j.wallet); loadPayments(); showPhoneQr("/phone.png"); return { text: "paid: show the QR to the scanner" }; }));
$("payshow").onclick = () => say("phonemsg", post("/wallet/show"));
$("payble").onclick = () => say("phonemsg", post("/wallet/pay-ble?name=" + wname()).then(j => ({ text: "paid " + j.amount + ", UTR " + j.utr + (j.receiptVerified ? " (receipt verified)" : "") })));
const touched = {};
for (const id of ["swwifi", "swgw", "swpaper"]) $(id).addEventListener("input", () => { touched[id] = Date.now(); });
$("swwifi").onchange = () => say("swmsg", post("/switch/wifi?on=" + ($("swwifi").checked ? 1 : 0)));
$("swgw").onchange = () => say("swmsg", post("/switch/gateway?up=" + ($("swgw").checked ? 1 : 0)));
$("swpaper").onchange = () => say("swmsg", post("/switch/paper?out=" + ($("swpaper").checked ? 1 : 0)));
$("pcut").onclick = () => say("swmsg", post("/power/cut"));
$("pnext").onclick = () => say("swmsg", post("/power/cut-next-write"));
$("pon").onclick = () => say("swmsg", post("/power/on"));
for (const id of ["spreal", "spfast"]) $(id).onchange = () => { touched.speed = Date.now(); say("swmsg", post("/speed?mode=" + $(id).value).then(j => ({ text: "speed: " + (j.speed === "fast" ? "as fast as possible" : "real time") }))); };
$("freset").onclick = () => { if (confirm("Factory reset: erase the terminal's Storage and journal, and its secure element's keys?")) say("swmsg", post("/factory-reset")); };
for (const id of ["ff1","ff3"]) $(id).onclick = () => say("swmsg", post("/clock/forward?days=" + $(id).dataset.days));
$("ffh").onclick = () => say("swmsg", post("/clock/forward?hours=1"));
$("prov").onclick = () => say("swmsg", post("/provision").then(j => ({ text: "terminal " + j.terminalId + " of merchant " + j.merchantId })));
$("paidconf").onclick = () => say("phonemsg", post("/wallet/paid-confirmation?name=" + wname()).then(j => { showPhoneQr("/phone.png?what=confirmation"); return { text: "paid confirmation shown to the scanner" }; }));
$("scanreceipt").onclick = () => say("phonemsg", post("/wallet/scan-receipt?name=" + wname()));
$("claim").onclick = () => say("phonemsg", post("/wallet/claim?name=" + wname()).then(j => ({ text: "claim sent: " + JSON.stringify(j.answer).slice(0, 60) })));
const esc = (x) => String(x).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"})[c]);
function rows(book){
  let list = book;
  if (book && !Array.isArray(book) && typeof book === "object") { if (book.error) return "<i>" + esc(book.error) + "</i>"; list = Object.values(book).find(Array.isArray) || [book]; }
  if (!Array.isArray(list) || !list.length) return "<i>none</i>";
  const ks = Object.keys(list[0]).slice(0,6);
  const cell = (v) => esc(typeof v === "object" ? JSON.stringify(v) : v).slice(0,24);
  return "<table><tr>" + ks.map(k=>"<th>"+esc(k)+"</th>").join("") + "</tr>" + list.slice(-12).map(r => "<tr>" + ks.map(k=>"<td>"+cell(r[k])+"</td>").join("") + "</tr>").join("") + "</table>"; }
/** A table of the list with the given columns ([heading, value of a row]); the newest n rows. */
function table(list, cols, n, cls){
  if (!Array.isArray(list)) return list && list.error ? "<i>" + esc(list.error) + "</i>" : "<i>none</i>";
  if (!list.length) return "<i>none</i>";
  return "<table" + (cls ? " class='" + cls + "'" : "") + "><tr>" + cols.map(c => "<th>" + esc(c[0]) + "</th>").join("") + "</tr>" + list.slice(-(n || 12)).map(r => "<tr>" + cols.map(c => "<td>" + esc(c[1](r)) + "</td>").join("") + "</tr>").join("") + "</table>"; }
function transactions(t){
  return table(t, [["terminal", r => r.terminalId], ["transaction", r => r.ref], ["method", r => r.kind === "wallet" ? r.method : r.kind + ", " + r.method], ["amount", r => r.amount], ["status", r => r.status], ["hold until", r => r.holdUntil || "–"]], 12, "tx"); }
function payouts(p){
  if (!Array.isArray(p)) return table(p, []);
  const rowsOf = []; for (const run of p) for (const x of run.payouts) rowsOf.push({ period: run.period, ...x });
  return table(rowsOf, [["day", r => r.period], ["merchant", r => r.name], ["amount", r => r.amount], ["IBAN", r => r.iban]], 8); }
function sms(list){ return table(list, [["to", r => r.to], ["why", r => r.kind], ["status", r => r.status], ["text", r => r.text]], 8, "sms"); }
function balances(m){
  if (!m) return "<i>none</i>";
  if (m.error) return "<i>" + esc(m.error) + "</i>";
  const mr = (m.merchants || []).map(x => "<tr><td>" + esc(x.name) + "</td><td>" + money(x.pending, x.currency) + "</td><td>" + money(x.available, x.currency) + "</td><td>" + money(x.paidOut, x.currency) + "</td></tr>").join("");
  const wr = (m.wallets || []).map(x => "<tr><td>" + esc(x.walletId.slice(0,8)) + "…</td><td>" + money(x.available, x.currency) + "</td><td>" + money(x.purse, x.currency) + "</td><td>" + money(x.debt, x.currency) + "</td></tr>").join("");
  const even = (m.trial || []).every(t => t.debits === t.credits) && !(m.unbalanced || []).length;
  return "<table><tr><th>merchant</th><th>pending</th><th>available</th><th>paid out</th></tr>" + (mr || "<tr><td colspan=4><i>none</i></td></tr>") + "</table>" +
    "<table><tr><th>wallet</th><th>available</th><th>offline purse</th><th>debt</th></tr>" + (wr || "<tr><td colspan=4><i>none</i></td></tr>") + "</table>" +
    "<div>books " + (even ? "balanced" : "<b>NOT BALANCED</b>") + "</div>"; }
// The server pushes what changed (Server-Sent Events): a new frame on the panel, paper out of the printer, state.
function refresh(img, path, then){ const n = new Image(); n.onload = () => { img.src = n.src; if (then) img.decode().then(then, then); }; n.src = path + "?t=" + Date.now(); }
/** The roll scrolled to its end: the newest receipt in view. */
function toNewest(){ const b = $("paperbox"); b.scrollTop = b.scrollHeight; document.body.dataset.paperScrolled = String(b.scrollTop); }
function showState(s){
  $("log").textContent = s.log.join("\\n");
  $("status").textContent = "engine " + (s.engine === "espruino" ? "Espruino interpreter" + (s.jsVars ? " · " + s.jsVars.usage + " of " + s.jsVars.total + " JsVars in use" : "") : "V8") + " · " + (s.poweredOn ? "powered" : "POWER OFF") + " · " + new Date(s.nowMs).toISOString().slice(0,16).replace("T"," ") + (s.wifi ? "" : " · Wi-Fi off") + (s.gatewayUp ? "" : " · gateway unreachable") + (s.paperOut ? " · paper out" : "") + (s.advertising ? " · advertising" : "") + (s.provisioned ? " · terminal " + s.provisioned.terminalId : " · not provisioned");
  $("receipts").textContent = s.receipts + (s.receipts === 1 ? " receipt" : " receipts");
  // Switches follow the world (a CLI or test may move them), except one the user has just flipped.
  if (Date.now() - (touched.swwifi || 0) > 3000) $("swwifi").checked = s.wifi;
  if (Date.now() - (touched.swpaper || 0) > 3000) $("swpaper").checked = s.paperOut;
  if (Date.now() - (touched.swgw || 0) > 3000) $("swgw").checked = s.gatewayUp;
  const w = s.wallets.find(x => x.name === ($("wname").value || "customer")); if (w) showWallet(w);
  const h3 = (t) => "<h3>" + t + "</h3>";
  if (s.gateway) $("gw").innerHTML = (h3("Transactions") + (s.gateway.transactions ? transactions(s.gateway.transactions) : rows(s.gateway.ledger)) + h3("Balances") + balances(s.gateway.money) + h3("Payouts") + payouts(s.gateway.payouts) + h3("SMS outbox") + sms(s.gateway.sms) + h3("Flags") + rows(s.gateway.flags)).split("<i>none</i>").join("<div class='none'>none</div>");
  // the panel goes dark with the power, as the real one does
  $("screen").classList.toggle("off", !s.poweredOn); document.body.dataset.power = s.poweredOn ? "on" : "off";
  if (Date.now() - (touched.speed || 0) > 3000) { $("spreal").checked = s.speed !== "fast"; $("spfast").checked = s.speed === "fast"; }
  $("spfast").disabled = s.engine === "espruino";
  busWanted = s.busNext;
  document.body.dataset.display = s.versions.display; document.body.dataset.paper = s.versions.paper;
}
const events = new EventSource("/events");
events.addEventListener("display", e => { refresh($("screen"), "/display.png"); document.body.dataset.display = JSON.parse(e.data).v; });
events.addEventListener("paper", e => { refresh($("paper"), "/paper.png", toNewest); document.body.dataset.paper = JSON.parse(e.data).v; });
events.addEventListener("state", e => showState(JSON.parse(e.data)));
// The page and the simulator: a banner while the event stream is down (EventSource reconnects by itself).
function link(ok){ $("lost").hidden = ok; document.body.dataset.link = ok ? "ok" : "lost"; }
events.onopen = () => link(true);
events.onerror = () => link(false);

// The bus log: entries from the server's ring (the newest may still grow: asked for again), filtered here.
let busWanted = 0, busFrom = 0, busBusy = false;
const busAll = [];
const busOn = () => { const on = {}; for (const c of document.querySelectorAll("#busctl input[data-ch]")) on[c.dataset.ch] = c.checked; return on; };
const ARROW = { out: "→", in: "←" };
function busRender(){
  const on = busOn(); const q = $("busq").value.toLowerCase();
  const shown = busAll.filter(e => on[e.ch] && (!q || (e.text + " " + e.hex).toLowerCase().indexOf(q) >= 0)).slice(-400);
  $("busrows").innerHTML = shown.map(e => "<tr class='" + e.dir + "' data-ch='" + e.ch + "' title='" + esc(e.hex) + "'><td>" + (e.t/1000).toFixed(3) + " s</td><td>" + e.ch + "</td><td>" + ARROW[e.dir] + "</td><td>" + e.bytes + " B</td><td>" + esc(e.text) + (e.repeat > 1 ? " ×" + e.repeat : "") + "</td><td>" + esc(e.hex) + "</td></tr>").join("");
  $("buscount").textContent = shown.length + " of " + busAll.length + " shown";
  const box = $("busrows").closest(".bus"); box.scrollTop = box.scrollHeight;
}
async function busPoll(){
  if (busBusy || $("buspause").checked || busWanted <= busFrom) return;
  busBusy = true;
  try {
    const j = await (await fetch("/bus?max=500&since=" + busFrom)).json();
    for (const e of j.entries) { const i = busAll.length && busAll[busAll.length - 1].id === e.id ? busAll.length - 1 : -1; if (i >= 0) busAll[i] = e; else busAll.push(e); }
    if (busAll.length > 3000) busAll.splice(0, busAll.length - 3000);
    busFrom = j.entries.length ? j.entries[j.entries.length - 1].id : j.next;
    busRender();
  } catch (e) {} finally { busBusy = false; }
}
setInterval(busPoll, 500);
for (const c of document.querySelectorAll("#busctl input")) c.addEventListener("input", busRender);
$("busclear").onclick = () => { busAll.length = 0; busRender(); };

// The journal: records by page, their state, and what the firmware's recovery would say.
async function journalPoll(){
  try {
    const j = await (await fetch("/journal")).json();
    if (j.error) { $("journal").textContent = j.error; return; }
    const c = j.counts;
    let h = "<div>" + c.records + " records: " + c.pending + " pending, " + c.uploaded + " uploaded, " + c.acknowledged + " acknowledged · " + j.pages.length + " pages used, " + j.freePages + " erased (" + j.pageSize + " bytes each)" + (j.readable ? "" : " · <i>" + esc(j.reason) + "</i>") + "</div>";
    h += j.anomalies.length ? "<div class='anom'>anomalies: " + j.anomalies.map(a => esc(a.kind) + " page " + a.page + " @" + a.offset + (a.seq ? " seq " + a.seq : "")).join(", ") + "</div>" : "<div>no anomalies" + (j.tornTail ? " (a torn tail will be dropped)" : "") + "</div>";
    const recs = []; for (const p of j.pages) for (const r of p.records) recs.push({ page: p.page + (p.state !== "used" ? " (" + p.state + ")" : ""), ...r });
    h += table(recs, [["page", r => r.page], ["seq", r => r.seq], ["state", r => r.state + (r.online ? ", approved online" : "")], ["kind", r => r.kind], ["method", r => r.method], ["amount", r => r.amountMinor === null ? "?" : money(r.amountMinor, r.currency)], ["transaction", r => r.txId], ["tag", r => r.authentic ? "ok" : "BAD"]], 40, "jr");
    $("journal").innerHTML = h;
    document.body.dataset.journal = String(c.records);
  } catch (e) {}
}
setInterval(journalPoll, 2000); journalPoll();
</script></body></html>`;
