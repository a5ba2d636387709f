/**
 * The simulator's page: the terminal (panel, keypad with mouse and keyboard, paper roll), the scanner (text, a QR
 * image, or the computer's camera), the customer's phone (wallet: pay the QR on the terminal's display, show the
 * payment to the scanner, or pay over Bluetooth), switches (Wi-Fi, gateway, power, paper, clock) and the
 * gateway's books. Plain HTML, no build step; every action is a POST to sim/server.ts. The camera's frames are
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
 .paper img{display:block;max-width:384px}
 pre{white-space:pre-wrap;font-size:12px;color:#9ab;max-height:220px;overflow:auto}
 h2{font-size:14px;color:#9ab;margin:0 0 8px}
 button.act{margin:3px 2px;padding:6px 10px;border-radius:6px;border:0;background:#46607e;color:#fff;cursor:pointer}
 input[type=text]{width:220px}
 #phoneqr{width:200px;image-rendering:pixelated;background:#fff;display:block;margin-top:6px}
 .msg{font-size:12px;color:#fc6;min-height:16px}
 table{font-size:12px;border-collapse:collapse} td,th{padding:2px 6px;border-bottom:1px solid #333;text-align:left}
</style></head><body>
<div class="device"><img id="screen" alt="terminal display" src="/display.png">
<div class="keys" id="keys"></div>
<p style="font-size:12px;color:#9ab">Keyboard: digits, Enter = #, Esc = *, Backspace = B, Delete = C, a/d = A/D</p>
<div id="status" style="font-size:12px;color:#9ab"></div></div>

<div class="panel"><h2>Printer</h2><div class="paper"><img id="paper" alt="paper roll" src="/paper.png"></div>
<div style="font-size:12px;margin-top:6px"><span id="receipts">0 receipts</span> · <a id="lastreceipt" href="/receipt/last.png" target="_blank" style="color:#9cf">last receipt</a> · <a href="/paper.png" target="_blank" style="color:#9cf">whole roll</a></div></div>

<div class="panel">
 <h2>Scanner</h2>
 <input type="text" id="scantext" placeholder="text the scanner reads"> <button class="act" id="scanbtn">Scan text</button><br>
 <label style="font-size:12px">QR image: <input type="file" id="scanfile" accept="image/png"></label><br>
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
 <button class="act" data-days="3" id="ff3">+3 days</button>
 <div class="msg" id="swmsg"></div>
</div>

<div class="panel"><h2>Gateway</h2><div id="gw" style="font-size:12px">no gateway attached</div>
<h2 style="margin-top:14px">Device log</h2><pre id="log"></pre></div>
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
$("scanfile").onchange = async () => { const f = $("scanfile").files[0]; if (f) say("scanmsg", post("/scan/image", await f.arrayBuffer()), "read: "); };
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
const money = (m) => (m/100).toFixed(2);
function showWallet(w){ if (w && w.name) $("winfo").textContent = w.name + ": balance " + (w.balanceMinor === null || w.balanceMinor === undefined ? "(no gateway)" : money(w.balanceMinor)) + " · offline allowance " + money(w.capMinor) + ", spent " + money(w.spentMinor) + ", left " + money(w.remainingMinor) + " (" + w.payments + " payments)"; }
function showPhoneQr(path){ const i = $("phoneqr"); i.dataset.ready = "0"; i.onload = () => { i.dataset.ready = "1"; }; i.src = path + (path.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now(); i.style.display = "block"; }
$("wcreate").onclick = () => say("phonemsg", post("/wallet/create?name=" + wname()).then(w => { showWallet(w); return w; }));
$("paycam").onclick = () => say("phonemsg", post("/wallet/pay-qr?name=" + wname()).then(j => { showWallet(j.wallet); loadPayments(); showPhoneQr("/phone.png"); return { text: "paid: show the QR to the scanner" }; }));
$("payshow").onclick = () => say("phonemsg", post("/wallet/show"));
$("payble").onclick = () => say("phonemsg", post("/wallet/pay-ble?name=" + wname()).then(j => ({ text: "paid " + (j.amountMinor/100).toFixed(2) + " UTR " + j.utr + (j.receiptVerified ? " (receipt verified)" : "") })));
const touched = {};
for (const id of ["swwifi", "swgw", "swpaper"]) $(id).addEventListener("input", () => { touched[id] = Date.now(); });
$("swwifi").onchange = () => say("swmsg", post("/switch/wifi?on=" + ($("swwifi").checked ? 1 : 0)));
$("swgw").onchange = () => say("swmsg", post("/switch/gateway?up=" + ($("swgw").checked ? 1 : 0)));
$("swpaper").onchange = () => say("swmsg", post("/switch/paper?out=" + ($("swpaper").checked ? 1 : 0)));
$("pcut").onclick = () => say("swmsg", post("/power/cut"));
$("pnext").onclick = () => say("swmsg", post("/power/cut-next-write"));
$("pon").onclick = () => say("swmsg", post("/power/on"));
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
function balances(m){
  if (!m) return "<i>none</i>";
  if (m.error) return "<i>" + esc(m.error) + "</i>";
  const mr = (m.merchants || []).map(x => "<tr><td>" + esc(x.name) + "</td><td>" + money(x.pending) + "</td><td>" + money(x.available) + "</td><td>" + money(x.paidOut) + "</td></tr>").join("");
  const wr = (m.wallets || []).map(x => "<tr><td>" + esc(x.walletId.slice(0,8)) + "…</td><td>" + money(x.available) + "</td><td>" + money(x.purse) + "</td><td>" + money(x.debt) + "</td></tr>").join("");
  const even = (m.trial || []).every(t => t.debits === t.credits) && !(m.unbalanced || []).length;
  return "<table><tr><th>merchant</th><th>pending</th><th>available</th><th>paid out</th></tr>" + (mr || "<tr><td colspan=4><i>none</i></td></tr>") + "</table>" +
    "<table><tr><th>wallet</th><th>available</th><th>offline purse</th><th>debt</th></tr>" + (wr || "<tr><td colspan=4><i>none</i></td></tr>") + "</table>" +
    "<div>books " + (even ? "balanced" : "<b>NOT BALANCED</b>") + "</div>"; }
// The server pushes what changed (Server-Sent Events): a new frame on the panel, paper out of the printer, state.
function refresh(img, path){ const n = new Image(); n.onload = () => { img.src = n.src; }; n.src = path + "?t=" + Date.now(); }
function showState(s){
  $("log").textContent = s.log.join("\\n");
  $("status").textContent = "engine " + (s.engine === "espruino" ? "Espruino interpreter" + (s.jsVars ? " · " + s.jsVars.usage + " of " + s.jsVars.total + " JsVars in use" : "") : "V8") + " · " + (s.poweredOn ? "powered" : "POWER OFF") + " · " + new Date(s.nowMs).toISOString().slice(0,16).replace("T"," ") + (s.wifi ? "" : " · Wi-Fi off") + (s.gatewayUp ? "" : " · gateway unreachable") + (s.paperOut ? " · paper out" : "") + (s.advertising ? " · advertising" : "") + (s.provisioned ? " · terminal " + s.provisioned.terminalId : " · not provisioned");
  $("receipts").textContent = s.receipts + (s.receipts === 1 ? " receipt" : " receipts");
  // Switches follow the world (a CLI or test may move them), except one the user has just flipped.
  if (Date.now() - (touched.swwifi || 0) > 3000) $("swwifi").checked = s.wifi;
  if (Date.now() - (touched.swpaper || 0) > 3000) $("swpaper").checked = s.paperOut;
  if (Date.now() - (touched.swgw || 0) > 3000) $("swgw").checked = s.gatewayUp;
  const w = s.wallets.find(x => x.name === ($("wname").value || "customer")); if (w) showWallet(w);
  if (s.gateway) $("gw").innerHTML = "<b>Balances</b>" + balances(s.gateway.money) + "<b>Ledger</b>" + rows(s.gateway.ledger) + "<b>Holds</b>" + rows(s.gateway.holds) + "<b>SMS outbox</b>" + rows(s.gateway.sms) + "<b>Flags</b>" + rows(s.gateway.flags);
  document.body.dataset.display = s.versions.display; document.body.dataset.paper = s.versions.paper;
}
const events = new EventSource("/events");
events.addEventListener("display", e => { refresh($("screen"), "/display.png"); document.body.dataset.display = JSON.parse(e.data).v; });
events.addEventListener("paper", e => { refresh($("paper"), "/paper.png"); document.body.dataset.paper = JSON.parse(e.data).v; });
events.addEventListener("state", e => showState(JSON.parse(e.data)));
</script></body></html>`;
