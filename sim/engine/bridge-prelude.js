// The simulator's bridge on the real Espruino interpreter, stored in its Storage as `.boot0` (Espruino runs the
// `.boot0`..`.boot3` files before `.bootcde` at every start: src/jsflash.c, jsfLoadBootCodeFromFlash). It stands in
// for what only an ESP32 with the board's parts has, by carrying every bus transfer to the simulator's wire-level
// emulators (sim/engine/espruino-host.ts) and back:
//
// - out: every transfer the bundle starts (UART and SPI writes, I2C, pin levels a part reads, NRF, Wifi, http, what
//   is drawn) is one record appended to a named pipe, in order, synchronously (`require("fs").appendFileSync`, so
//   nothing waits in the interpreter's RAM as a socket's send buffer would: a frame to the panel is 115 KB);
// - reply: I2C is synchronous on Espruino (writeTo throws on a NACK, readFrom returns the bytes), so an I2C record is
//   answered on a second pipe that `readFileSync` blocks on, as the bus blocks for the transfer on the chip;
// - in, UART: the bytes the scanner and the printer send are written by the simulator into a named pipe per port
//   that the interpreter's own serial port reads (`Serial2.setup(baud, { path })`, Espruino's Linux UART: its input
//   thread pushes what it reads as IO events, targets/linux/jshardware.c). So they take the device's path: jsiIdle
//   (src/jsinteractive.c) hands queued IO events to `on("data")` before it runs the timers that expired meanwhile.
//   Over the socket they came after those timers (a socket is read in jswIdle, after the timers): a printer's
//   status reply that arrived while an event kept the bundle busy lost to the driver's 300 ms timeout, and the
//   receipt was refused as "offline" (test/engine/bridge-uart-order.test.ts);
// - in, the rest: what else arrives by itself (key contacts, a phone's Bluetooth writes, Wi-Fi and HTTP answers)
//   comes over a loopback socket and is delivered from the event loop.
//
// Records: [type, arg, len0, len1, len2] + len bytes. Frames in: [type, arg, len0, len1] + len bytes. UART bytes in: raw.
// The at-sign placeholders are filled in by espruino-host.ts. Never flashed.
(function () {
  var OUT = "@OUT@", REPLY = "@REPLY@", PORT = @PORT@, UART_IN = "@UART_IN@";
  var fs = require("fs");
  // The peak at bridged transfers, two ways: JsVars in use as they are (`peak`, garbage not yet collected included),
  // and in use after a garbage collection (`live`): what the bundle holds. Espruino frees a JsVar when its last
  // reference goes, and collects the rest (cycles: a closure and its scope) when idle or when a new JsVar finds none
  // free (src/jsvar.c, jsvNewWithFlags), so `live` is what a flow needs. The collection runs only when usage passes
  // the live peak by more than LIVE_STEP (so `live` is at most LIVE_STEP under the truth), its time taken off the
  // device's clock as an I2C wait is, and only once a memory request asked for it (`liveOn`: the bench's flows): the
  // firmware's own timers run on the host's time, which the collections would stretch in every other test.
  var peak = 0, live = 0, LIVE_STEP = 16, liveOn = false;
  function sample() {
    var u = process.memory(false).usage;
    if (u > peak) peak = u;
    if (liveOn && u > live + LIVE_STEP) {
      var b = RT(), l = process.memory(true).usage;
      waited += RT() - b;
      if (l > live) live = l;
    }
  }
  function send(t, a, d) {
    sample();
    var n = d === undefined ? 0 : d.length;
    fs.appendFileSync(OUT, String.fromCharCode(t, a & 255, n & 255, (n >> 8) & 255, (n >> 16) & 255));
    if (n) fs.appendFileSync(OUT, d);
  }
  // A synchronous transfer (I2C): the reply is waited for, and the wait is taken off the device's clock, as the
  // transfer takes no time worth counting on the chip while here it waits for the simulator, which on a loaded
  // machine may not run for tens of ms. The transfer is stamped with that clock, by which the simulator's part
  // runs (espruino-host.ts, busNow): so the part and a driver's timeouts see the same time, without the waits
  // (the secure element's 1.3 s watchdog ran out between a wake and its read; a driver gave up polling a part
  // that had not had its execution time yet).
  function call(t, a, d) {
    var b0 = RT(), w0 = waited;
    send(0x71, 0, String(Math.round((b0 - waited - BT0) * 1000)));
    send(t, a, d);
    var r = fs.readFileSync(REPLY);
    waited = w0 + RT() - b0;
    return r;
  }
  function bytesOf(d) {
    if (typeof d === "string" || d instanceof Uint8Array) return d;
    return E.toUint8Array(d);
  }
  function num(p) {
    return p && p.name !== undefined ? parseInt(String(p.name).slice(1), 10) : 255;
  }
  global.__bridge = { send: send, peak: function () { return peak; } };

  // The RTC: the ESP32 keeps the time setTime() gave it; the Linux build's setTime does nothing (its clock is the
  // host's). So the clock is the host's plus an offset, which starts at the simulated world's wall clock and which
  // setTime moves (and reports, so the simulator's clock follows the device's, as with the V8 engine).
  // BT0: the bridge's start, from which I2C transfers are stamped in whole ms (a float of epoch seconds prints
  // with too few digits for milliseconds on Espruino); `waited`: what I2C transfers waited for the simulator (call).
  var RT = getTime, off = @SKEW@, waited = 0, BT0 = RT();
  global.getTime = function () { return RT() - waited + off; };
  global.setTime = function (t) { off = t - RT() + waited; send(0x74, 0, String(t)); };

  // Console: the firmware detaches it at boot (E.setConsole(null)); the simulator still reads what is printed, so
  // the call is recorded (detaching costs no memory).
  E.setConsole = function (device) { send(0x63, 0, device === null ? "" : String(device)); };
  // E.reboot() on the Linux build prints "Not implemented" and exits; the simulator restarts the interpreter instead
  E.reboot = function () { send(0x62, 0, ""); };

  // ------------------------------------------------------------------ pins, watches, key contacts
  global.Pin = function (n) { this.name = String(n); };
  var level = {}, mode = {}, report = {@REPORT@}, contacts = [], watches = [], wid = 1;
  function read(n) {
    if (mode[n] === "output") return level[n] | 0;
    // a closed key contact ties this input to the pin at its other end while that one is driven
    for (var i = 0; i < contacts.length; i += 2) {
      var o = contacts[i] === n ? contacts[i + 1] : contacts[i + 1] === n ? contacts[i] : -1;
      if (o >= 0 && mode[o] === "output") return level[o] | 0;
    }
    return mode[n] === "input_pullup" ? 1 : 0;
  }
  // Espruino debounces each pin's own edges: a write to another pin (the panel's DC line during a redraw) must not
  // restart a debounce that is running for this one.
  function changed() {
    watches.forEach(function (w) {
      var v = read(w.pin);
      if (w.timer && v === w.want) return;
      if (w.timer) clearTimeout(w.timer);
      w.timer = 0;
      if (v === w.last) return;
      w.want = v;
      var fire = function () {
        w.timer = 0;
        var now = read(w.pin);
        if (now === w.last) return;
        w.last = now;
        if (w.edge !== "both" && w.edge !== (now ? "rising" : "falling")) return;
        var t = getTime(), lt = w.lastTime;
        w.lastTime = t;
        if (!w.repeat) watches.splice(watches.indexOf(w), 1);
        w.fn({ state: !!now, time: t, lastTime: lt });
      };
      w.timer = setTimeout(fire, w.debounce);
    });
  }
  global.pinMode = function (p, m) {
    var n = num(p);
    mode[n] = m;
    if (report[n]) send(0x4d, n, m);
    changed();
  };
  global.digitalWrite = function (p, v) {
    var n = num(p);
    if (mode[n] === undefined) mode[n] = "output";
    level[n] = v ? 1 : 0;
    if (report[n]) send(0x50, n, v ? "1" : "0");
    if (watches.length) changed();
  };
  global.digitalRead = function (p) { return read(num(p)); };
  global.setWatch = function (fn, p, o) {
    var n = num(p);
    o = o || {};
    var w = { id: wid++, pin: n, fn: fn, repeat: !!o.repeat, edge: o.edge || "both", debounce: o.debounce || 0, last: read(n), lastTime: 0, timer: 0 };
    watches.push(w);
    return w.id;
  };
  global.clearWatch = function (id) {
    watches = id === undefined ? [] : watches.filter(function (w) { return w.id !== id; });
  };

  // A typed key ("hold,gap;row,col;seq"): held for `hold` ms of this interpreter's own time, then released, the next
  // typed key `gap` ms later, so a key is never shortened by the time a frame takes to get here.
  var keyq = [], typing = false;
  function typeNext() {
    if (typing || !keyq.length) return;
    typing = true;
    var k = keyq.shift().split(";"), hg = k[0].split(",");
    contacts = k[1].split(",").map(function (x) { return parseInt(x, 10); });
    changed();
    setTimeout(function () {
      contacts = [];
      changed();
      // the next key once the release has been seen (no watch still debouncing) and `gap` ms have passed: keys
      // typed faster than a busy interpreter scans them would merge (see the engine's notes)
      var next = function () {
        if (watches.some(function (w) { return w.timer; })) return setTimeout(next, 5);
        send(0x79, 0, k[2]);
        typing = false;
        typeNext();
      };
      setTimeout(next, parseInt(hg[1], 10));
    }, parseInt(hg[0], 10));
  }

  // what the bridge holds of the pins, for a look from the simulator's console (__bridge.pins())
  global.__bridge.pins = function () {
    return { contacts: contacts, typing: typing, queued: keyq.length, watches: watches.map(function (w) { return [w.pin, w.last, w.timer ? 1 : 0, w.debounce]; }), modes: mode, levels: level };
  };

  // ------------------------------------------------------------------ UART, SPI, I2C
  [Serial2, Serial3].forEach(function (u, i) {
    var port = i + 2, setup = u.setup;
    u.setup = function (baud, o) {
      o = o || {};
      // the port's receive side is its pipe (see the top); opened before the simulator hears of the setup, so no
      // byte a part sends after it is lost, and none sent before it is seen (as on a UART)
      setup.call(u, baud, { path: UART_IN + port });
      send(0x58, port, baud + "," + num(o.tx) + "," + num(o.rx));
    };
    u.write = function () {
      var a = arguments, d = a[0];
      if (a.length > 1) { d = []; for (var i = 0; i < a.length; i++) d.push(a[i]); }
      send(0x55, port, bytesOf(d));
    };
  });
  SPI1.setup = function (o) { send(0x59, 0, num(o.sck) + "," + num(o.mosi)); };
  SPI1.write = function (d, cs) { send(0x53, num(cs), bytesOf(d)); };
  I2C1.setup = function (o) { send(0x5a, 0, num(o.scl) + "," + num(o.sda) + "," + (o.bitrate || 100000)); };
  I2C1.writeTo = function (addr, d) {
    var data = d;
    if (arguments.length > 2) { data = []; for (var i = 1; i < arguments.length; i++) data.push(arguments[i]); }
    if (call(0x49, addr, bytesOf(data)) !== "A") throw new Error("I2C Error: No ACK");
  };
  I2C1.readFrom = function (addr, n) {
    var r = call(0x52, addr, String.fromCharCode(n & 255, n >> 8));
    if (r === undefined || r.length !== n) throw new Error("I2C Error: No ACK");
    return E.toUint8Array(r);
  };

  // ------------------------------------------------------------------ the journal's flash region (require("Flash"))
  // The Linux build's flash is its Storage only; the board's journal region lives in its own file, NOR semantics
  // (a write clears bits, an erase sets a 4 KB page to 0xFF), opened per operation so nothing waits in a buffer.
  // The chip's first 64 KB (bootloader, the partition table at 0x8000, boot selection) likewise: the firmware checks
  // at boot that the journal's place is free in the partition table.
  // The region runs on past the journal's end (JE) over the kept orders' pages.
  var NF = require("Flash"), JB = @JBASE@, JS = @JSIZE@, JE = @JEND@;
  var R = [{ b: JB, n: JS, f: "@JOURNAL@" }, { b: 0, n: @SYSSIZE@, f: "@SYSTEM@" }];
  function region(a, n) {
    for (var i = 0; i < R.length; i++) if (a >= R[i].b && a + n <= R[i].b + R[i].n) return R[i];
  }
  var Fl = {
    read: function (n, a) {
      var r = region(a, n);
      if (!r) return NF.read(n, a);
      sample();
      var f = E.openFile(r.f, "r");
      f.seek(a - r.b);
      var s = f.read(n);
      f.close();
      return E.toUint8Array(s);
    },
    write: function (d, a) {
      d = E.toUint8Array(d);
      var r = region(a, d.length);
      if (!r) return NF.write(d, a);
      if (r.b === JB && a < JE) send(0x4a, 0, ""); // a journal write: the bench times flows to it
      var f = E.openFile(r.f, "r+");
      f.seek(a - r.b);
      var old = E.toUint8Array(f.read(d.length));
      for (var i = 0; i < d.length; i++) old[i] &= d[i];
      f.seek(a - r.b);
      f.write(old);
      f.close();
    },
    erasePage: function (a) {
      var r = region(a, 1);
      if (!r) return NF.erasePage(a);
      var f = E.openFile(r.f, "r+");
      f.seek((a - r.b) & ~4095);
      f.write(new Uint8Array(4096).fill(255));
      f.close();
    },
    getPage: function (a) { return region(a, 1) ? { addr: a & ~4095, length: 4096 } : NF.getPage(a); },
    getFree: function () { return NF.getFree(); },
  };
  global.__flash = Fl;
  Modules.addCached("Flash", "module.exports=__flash;");

  // ------------------------------------------------------------------ Bluetooth (NRF): the phone is in the simulator
  function hex(d) {
    d = E.toUint8Array(d);
    var s = "";
    for (var i = 0; i < d.length; i++) s += (d[i] < 16 ? "0" : "") + d[i].toString(16);
    return s;
  }
  function unhex(s) {
    var b = new Uint8Array(s.length >> 1);
    for (var i = 0; i < b.length; i++) b[i] = parseInt(s.substr(i * 2, 2), 16);
    return b;
  }
  var services = {}, nrfOn = {};
  function svcJson(sv) {
    var o = {};
    for (var s in sv) {
      o[s] = {};
      for (var c in sv[s]) {
        var ch = sv[s][c], x = {};
        for (var k in ch) if (k !== "onWrite" && k !== "value") x[k] = ch[k];
        if (ch.value !== undefined) x.value = hex(ch.value);
        if (ch.onWrite) x.onWrite = true;
        o[s][c] = x;
      }
    }
    return JSON.stringify(o);
  }
  global.NRF = {
    setServices: function (sv, o) { services = sv || {}; send(0x42, 0, JSON.stringify({ op: "setServices", services: JSON.parse(svcJson(services)), uart: !o || o.uart !== false })); },
    updateServices: function (u) {
      for (var s in u) for (var c in u[s]) if (services[s] && services[s][c] && u[s][c].value !== undefined) services[s][c].value = u[s][c].value;
      send(0x42, 0, JSON.stringify({ op: "updateServices", services: JSON.parse(svcJson(u)) }));
    },
    setAdvertising: function (d, o) { send(0x42, 0, JSON.stringify({ op: "setAdvertising", data: d, opts: o })); },
    on: function (ev, fn) { (nrfOn[ev] = nrfOn[ev] || []).push(fn); },
    disconnect: function () { send(0x42, 0, '{"op":"disconnect"}'); },
    sleep: function () { send(0x42, 0, '{"op":"sleep"}'); },
    wake: function () { send(0x42, 0, '{"op":"wake"}'); },
  };
  function nrfEvent(m) {
    if (m.ev === "write") {
      var ch = services[m.service] && services[m.service][m.char];
      if (ch && ch.onWrite) ch.onWrite({ data: unhex(m.data).buffer });
      return;
    }
    (nrfOn[m.ev] || []).forEach(function (fn) { fn(m.arg); });
  }

  // ------------------------------------------------------------------ Wi-Fi and http: the network is the simulator's
  var wifiOn = {}, wifiCb = null, httpReq = {}, hid = 1;
  global.__wifi = {
    on: function (ev, fn) { (wifiOn[ev] = wifiOn[ev] || []).push(fn); },
    connect: function (ssid, o, cb) { wifiCb = cb || null; send(0x57, 0, JSON.stringify({ op: "connect", ssid: ssid, password: (o && o.password) || "" })); },
    disconnect: function () { send(0x57, 0, '{"op":"disconnect"}'); },
    getStatus: function () { return {}; },
    getIP: function () { return {}; },
    setHostname: function () {},
    stopAP: function () {},
    save: function () {},
  };
  Modules.addCached("Wifi", "module.exports=__wifi;");
  function wifiEvent(m) {
    if (m.ev === "connect-result") {
      var cb = wifiCb;
      wifiCb = null;
      if (cb) cb(m.err || null);
      return;
    }
    (wifiOn[m.ev] || []).forEach(function (fn) { fn(m.arg || {}); });
  }
  // Espruino's http.request(options, callback): the request is sent at end(); the response emits "data" and
  // "close"; an unreachable host makes the request emit "error".
  global.__http = {
    request: function (opts, cb) {
      var id = hid++, on = {}, body = "";
      var req = {
        on: function (ev, fn) { on[ev] = fn; return req; },
        write: function (d) { body += d; },
        end: function (d) {
          if (d !== undefined) body += d;
          httpReq[id] = { cb: cb, on: on };
          send(0x48, 0, JSON.stringify({ id: id, method: opts.method || "GET", host: opts.host, port: opts.port, path: opts.path, protocol: opts.protocol, headers: opts.headers || {}, body: body }));
        },
      };
      return req;
    },
  };
  Modules.addCached("http", "module.exports=__http;");
  function httpEvent(m) {
    var r = httpReq[m.id];
    if (!r) return;
    if (m.ev === "response") {
      r.res = { statusCode: m.status, headers: {}, on: function (ev, fn) { r.ron[ev] = fn; return r.res; } };
      r.ron = {};
      if (r.cb) r.cb(r.res);
    } else if (m.ev === "data") {
      if (r.ron && r.ron.data) r.ron.data(m.data);
    } else {
      delete httpReq[m.id];
      if (m.ev === "close") { if (r.ron && r.ron.close) r.ron.close(false); }
      else if (r.on.error) r.on.error({ code: -1, message: m.message });
    }
  }

  // ------------------------------------------------------------------ what is drawn (the simulator's screenText)
  var CAB = Graphics.createArrayBuffer;
  Graphics.createArrayBuffer = function (w, h, bpp, o) {
    var g = CAB(w, h, bpp, o);
    var ax = -1, ay = -1;
    var fa = g.setFontAlign, fr = g.fillRect, cr = g.clearRect, cl = g.clear, ds = g.drawString;
    // coordinates on the panel: a band's canvas has its first row's panel row in .top (hal/espruino/graphics.ts)
    function box(a, b, c, d) { var t = g.top | 0; send(0x43, 0, Math.min(a, c) + "," + (Math.min(b, d) + t) + "," + Math.max(a, c) + "," + (Math.max(b, d) + t)); }
    g.setFontAlign = function (x, y, r) { ax = x | 0; ay = y | 0; return fa.call(g, x, y, r); };
    g.fillRect = function (a, b, c, d) { box(a, b, c, d); return fr.call(g, a, b, c, d); };
    g.clearRect = function (a, b, c, d) { box(a, b, c, d); return cr.call(g, a, b, c, d); };
    g.clear = function (r) { send(0x4b, 0, ""); return cl.call(g, r); };
    g.drawString = function (t, x, y, s) {
      t = String(t);
      var wd = g.stringWidth(t), ht = g.getFontHeight();
      var x1 = Math.round(x - (wd * (ax + 1)) / 2), y1 = Math.round(y - (ht * (ay + 1)) / 2) + (g.top | 0);
      send(0x54, 0, x1 + "," + y1 + "," + (x1 + wd - 1) + "," + (y1 + ht - 1) + "," + t);
      return ds.call(g, t, x, y, s);
    };
    return g;
  };

  // ------------------------------------------------------------------ frames from the simulator
  var inb = "";
  function frame(t, a, p) {
    if (t === 0x6b) {
      contacts = p.length ? p.split(",").map(function (x) { return parseInt(x, 10); }) : [];
      changed();
    } else if (t === 0x70) {
      keyq.push(p);
      typeNext();
    } else if (t === 0x6e) nrfEvent(JSON.parse(p));
    else if (t === 0x77) wifiEvent(JSON.parse(p));
    else if (t === 0x68) httpEvent(JSON.parse(p));
    else if (t === 0x6d) {
      var m = process.memory(a === 1);
      send(0x6d, 0, m.usage + "," + m.total + "," + peak + "," + live);
      if (a >= 2) {
        peak = m.usage;
        live = process.memory(true).usage;
        if (a === 3) liveOn = true;
      }
    } else if (t === 0x65) {
      var r;
      try { r = "=" + JSON.stringify(eval(p)); } catch (e) { r = "!" + (e && e.message ? e.message : String(e)); }
      send(0x65, 0, r);
    }
  }
  var sock = require("net").connect({ host: "127.0.0.1", port: PORT }, function () { send(0x4f, 0, ""); });
  sock.on("data", function (d) {
    inb += d;
    while (inb.length >= 4) {
      var n = inb.charCodeAt(2) | (inb.charCodeAt(3) << 8);
      if (inb.length < 4 + n) break;
      var t = inb.charCodeAt(0), a = inb.charCodeAt(1), p = inb.substr(4, n);
      inb = inb.substr(4 + n);
      frame(t, a, p);
    }
  });
  sock.on("close", function () { quit(); });
})();
