/** The simulator's page: the panel, the keypad (mouse and keyboard), the paper roll. Plain HTML, no build step. */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Terminal simulator</title>
<style>
 body{font-family:system-ui,sans-serif;background:#2b2f36;color:#eee;margin:0;display:flex;gap:32px;padding:24px;align-items:flex-start}
 .device{background:#15171b;border-radius:24px;padding:20px;box-shadow:0 8px 24px #0008}
 #screen{width:240px;height:240px;image-rendering:pixelated;display:block;border:4px solid #000;border-radius:4px;transform:scale(1.5);transform-origin:top left;margin-bottom:128px;margin-right:120px}
 .keys{display:grid;grid-template-columns:repeat(4,64px);gap:10px;margin-top:8px}
 .keys button{height:48px;font-size:20px;border-radius:10px;border:0;background:#3b414b;color:#fff;cursor:pointer}
 .keys button:active,.keys button.down{background:#6b7f99}
 .paper{background:#fafaf5;color:#111;padding:12px;min-width:300px;border-radius:4px}
 .paper img{display:block;max-width:384px}
 pre{white-space:pre-wrap;font-size:12px;color:#9ab}
 h2{font-size:14px;color:#9ab;margin:0 0 8px}
</style></head><body>
<div class="device"><img id="screen" alt="terminal display" src="/display.png">
<div class="keys" id="keys"></div>
<p style="font-size:12px;color:#9ab">Keyboard: digits, Enter = #, Esc = *, Backspace = B, Delete = C, a/d = A/D</p>
<button id="power">Power cycle</button></div>
<div><h2>Printer</h2><div class="paper"><img id="paper" alt="paper roll" src="/paper.png"></div>
<h2 style="margin-top:16px">Device log</h2><pre id="log"></pre></div>
<script>
const KEYS = "123A456B789C*0#D";
const LABEL = {"A":"Menu","B":"Back","C":"Clear","D":"Fn","*":"Cancel","#":"Enter"};
const pad = document.getElementById("keys");
function send(path){ return fetch(path,{method:"POST"}); }
function down(k){ send("/key/down?k="+encodeURIComponent(k)); }
function up(k){ send("/key/up?k="+encodeURIComponent(k)); }
for (const k of KEYS) {
  const b = document.createElement("button");
  b.textContent = k; b.title = LABEL[k] || k; b.dataset.key = k;
  b.onmousedown = () => down(k); b.onmouseup = () => up(k); b.onmouseleave = () => {};
  pad.appendChild(b);
}
const MAP = {"Enter":"#","Escape":"*","Backspace":"B","Delete":"C","a":"A","d":"D"};
const held = new Set();
function keyOf(e){ if (e.key.length===1 && e.key>="0" && e.key<="9") return e.key; return MAP[e.key]; }
addEventListener("keydown", e => { const k = keyOf(e); if (!k || held.has(k)) return; held.add(k); e.preventDefault(); down(k); });
addEventListener("keyup", e => { const k = keyOf(e); if (!k) return; held.delete(k); up(k); });
document.getElementById("power").onclick = () => send("/power/cycle");
async function tick(){
  document.getElementById("screen").src = "/display.png?t=" + Date.now();
  document.getElementById("paper").src = "/paper.png?t=" + Date.now();
  try { const s = await (await fetch("/state")).json(); document.getElementById("log").textContent = s.log.join("\\n"); } catch (e) {}
}
setInterval(tick, 400);
</script></body></html>`;
