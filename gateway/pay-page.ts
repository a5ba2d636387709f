/**
 * The hosted pay page: what a phone camera opens from a terminal's invoice QR (`<gateway>/pay#<invoice, base64url>`,
 * docs/protocol.md). Plain HTML and script, no build step, served by the gateway at GET /pay. The invoice stays in
 * the URL's fragment, which browsers never send to a server: the page posts it to the API itself.
 *
 * The customer pays by card or debit card (POST /v1/invoices/pay; a 3-D Secure challenge is answered on the page,
 * POST /v1/invoices/pay/3ds) or with a wallet whose key this browser holds (localStorage `offlinepay.wallet`:
 * {walletId, jwk}, a P-256 private key; the request is signed with WebCrypto as docs/gateway.md, wallet API, says).
 * When paid, the page shows the issuer's paid confirmation as a QR code for an offline terminal's scanner.
 */

export const PAY_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#111}
main{max-width:420px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:12px;padding:16px;margin:12px 0;box-shadow:0 1px 3px #0002}
h1{font-size:20px;margin:0 0 4px} .amount{font-size:32px;font-weight:700;margin:8px 0}
label{display:block;font-size:13px;margin:10px 0 4px;color:#444}
input{width:100%;box-sizing:border-box;font-size:17px;padding:10px;border:1px solid #bbb;border-radius:8px}
.row{display:flex;gap:8px} .row>div{flex:1}
button{width:100%;font-size:17px;padding:12px;margin-top:12px;border:0;border-radius:8px;background:#1a5fd0;color:#fff}
button.alt{background:#e4e7ec;color:#111}
.tabs{display:flex;gap:6px} .tabs button{margin:0;padding:8px;font-size:14px;background:#e4e7ec;color:#111}
.tabs button.on{background:#1a5fd0;color:#fff}
#msg{min-height:1.4em;font-size:15px} .err{color:#b00020} .ok{color:#0a7d2c}
#qr{display:flex;justify-content:center;margin-top:8px}
[hidden]{display:none!important}
</style></head>
<body><main>
<div class="card"><h1 id="merchant">Invoice</h1><div id="what" style="color:#555"></div><div class="amount" id="amount">…</div></div>
<div class="card" id="payform" hidden>
  <div class="tabs"><button id="t-card" class="on">Card</button><button id="t-debit">Debit card</button><button id="t-wallet">Wallet</button></div>
  <div id="cardform">
    <label for="number">Card number</label><input id="number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242">
    <div class="row"><div><label for="expiry">Expiry (MM/YY)</label><input id="expiry" autocomplete="cc-exp" placeholder="12/30"></div>
    <div><label for="cvc">CVC</label><input id="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123"></div></div>
    <button id="paycard">Pay</button>
  </div>
  <div id="walletform" hidden><div id="walletinfo"></div><button id="paywallet">Pay with my wallet</button></div>
</div>
<div class="card" id="challenge" hidden>
  <h1>Your bank</h1><div>Confirm this payment with the code your bank sent you.<br><small>(Sandbox: the code is 1234.)</small></div>
  <label for="code">Code</label><input id="code" inputmode="numeric" autocomplete="one-time-code">
  <button id="confirm">Confirm</button><button id="abandon" class="alt">Cancel payment</button>
</div>
<div class="card" id="done" hidden><h1 class="ok">Paid</h1>
  <div>If the shop's terminal is offline, show it this code:</div><div id="qr"></div><div id="ref" style="color:#555;font-size:13px"></div></div>
<div id="msg" role="status"></div>
</main>
<script src="/pay/qrcode.js"></script>
<script>
const $ = (id) => document.getElementById(id);
const CUR = {978:"EUR",840:"USD",826:"GBP",756:"CHF",752:"SEK",985:"PLN"};
const money = (m, c) => (m/100).toFixed(2) + " " + (CUR[c] || c);
const invoice = decodeURIComponent(location.hash.slice(1));
let method = "card";
const say = (t, cls) => { $("msg").textContent = t; $("msg").className = cls || ""; };
async function api(path, body, headers) {
  const r = await fetch(path, { method: "POST", headers: Object.assign({ "content-type": "application/json" }, headers || {}), body: JSON.stringify(body) });
  let j = {}; try { j = await r.json(); } catch (e) {}
  return { status: r.status, json: j };
}
const REASONS = { CARD_DECLINED: "The card was declined.", INSUFFICIENT_FUNDS: "Insufficient funds on the card's account.", CARD_EXPIRED: "The card has expired.",
  AUTHENTICATION_FAILED: "Your bank did not confirm the payment.", CARD_INVALID: "Check the card number, expiry and CVC.", INVOICE_PAID: "This invoice is paid already.",
  INVOICE_EXPIRED: "This invoice has expired: ask for a new one.", INSUFFICIENT_FUNDS_WALLET: "Your wallet's balance is too low." };
function failed(j) { say((REASONS[j.error] || j.message || "The payment failed.") + (j.error ? " (" + j.error + ")" : ""), "err"); }
function paid(j) {
  $("payform").hidden = true; $("challenge").hidden = true; $("done").hidden = false; say("Payment confirmed.", "ok");
  const q = qrcode(0, "M"); q.addData(j.qr, /^[0-9A-Z $%*+\\-./:]*$/.test(j.qr) ? "Alphanumeric" : "Byte"); q.make();
  $("qr").innerHTML = q.createImgTag(6, 12); $("qr").firstChild.id = "qrimg"; $("qr").firstChild.alt = j.qr;
  $("ref").textContent = "Payment reference " + j.paymentRef;
}
async function answer(j) {
  if (j.status === 200) return paid(j.json);
  if (j.status === 202) { $("payform").hidden = true; $("challenge").hidden = false; $("challenge").dataset.id = j.json.challengeId; say("Waiting for your bank…"); return; }
  $("challenge").hidden = true; $("payform").hidden = false; failed(j.json);
}
function tab(m) { method = m; for (const t of ["card","debit","wallet"]) $("t-" + t).className = t === m ? "on" : ""; $("cardform").hidden = m === "wallet"; $("walletform").hidden = m !== "wallet"; say(""); }
$("t-card").onclick = () => tab("card"); $("t-debit").onclick = () => tab("debit"); $("t-wallet").onclick = () => tab("wallet");
$("paycard").onclick = async () => { say("Paying…"); answer(await api("/v1/invoices/pay", { invoice, method, card: { number: $("number").value, expiry: $("expiry").value, cvc: $("cvc").value } })); };
$("confirm").onclick = async () => answer(await api("/v1/invoices/pay/3ds", { challengeId: $("challenge").dataset.id, code: $("code").value }));
$("abandon").onclick = async () => { const r = await api("/v1/invoices/pay/3ds", { challengeId: $("challenge").dataset.id, abandon: true }); $("challenge").hidden = true; $("payform").hidden = false; failed(r.json); };
function wallet() { try { return JSON.parse(localStorage.getItem("offlinepay.wallet") || "null"); } catch (e) { return null; } }
$("paywallet").onclick = async () => {
  const w = wallet(); if (!w) return say("No wallet in this browser: pay by card, or open the invoice in your wallet app.", "err");
  const key = await crypto.subtle.importKey("jwk", w.jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const body = JSON.stringify({ invoice, method: "wallet", walletId: w.walletId, time: Date.now() });
  const text = "offline-pay wallet-api v1\\nPOST\\n/v1/invoices/pay\\n" + body;
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(text)));
  const hex = Array.from(sig, (b) => b.toString(16).padStart(2, "0")).join("");
  const r = await fetch("/v1/invoices/pay", { method: "POST", headers: { "content-type": "application/json", "x-wallet-signature": hex }, body });
  let j = {}; try { j = await r.json(); } catch (e) {}
  if (r.status === 402) j.error = "INSUFFICIENT_FUNDS_WALLET";
  answer({ status: r.status, json: j });
};
(async () => {
  if (!invoice) return say("This link holds no invoice.", "err");
  const r = await api("/v1/invoices", { invoice });
  if (r.status !== 200) return failed(r.json);
  const i = r.json;
  $("merchant").textContent = i.merchantName || "Invoice";
  $("what").textContent = "Invoice " + i.invoiceNo + " · terminal " + i.terminalId;
  $("amount").textContent = money(i.amountMinor, i.currency);
  const w = wallet(); $("walletinfo").textContent = w ? "Wallet " + w.walletId.slice(0, 8) + "… in this browser" : "No wallet in this browser.";
  if (i.status === "paid") { $("done").hidden = false; say("This invoice is paid already.", "ok"); if (i.paid) paid({ qr: i.qr, paymentRef: i.paymentRef }); return; }
  $("payform").hidden = false;
})();
</script>
</body></html>
`;
