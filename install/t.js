/*! Tandem referral tracking. Configured by its own <script> tag:
 *  data-program  the campaign id (cmp_…)
 *  data-params   the referral URL parameters to read, in priority order
 *  data-pixel    the pixel public key (pk_…), needed to record sales and leads
 * API: window.tandem.conversion({amountCents, currency, orderId, email, name})
 *      window.tandem.lead({email, name})
 *      window.tandem.referral()  the remembered affiliate slug, or null
 * Calls made before this script loads are queued in window.tandem.q.
 */
(function () {
  "use strict";
  var w = window, d = document;
  if (w.tandem && w.tandem.loaded) return;
  var el = d.currentScript || d.querySelector("script[data-program]");
  if (!el) return;
  var program = el.getAttribute("data-program") || "";
  var pixel = el.getAttribute("data-pixel") || "";
  var params = (el.getAttribute("data-params") || "via,ref").split(",");
  var base = new URL(el.src, location.href).origin;
  var REF = "tandem_ref", VID = "tandem_vid";

  function readCookie(name) {
    var parts = d.cookie ? d.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var j = parts[i].indexOf("=");
      if (parts[i].slice(0, j) === name) {
        try { return decodeURIComponent(parts[i].slice(j + 1)); } catch (e) { return ""; }
      }
    }
    return "";
  }

  function writeCookie(name, value, days) {
    d.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + Math.round(days * 86400) +
      "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }

  function randomID() {
    var b = new Uint8Array(16), s = "";
    (w.crypto || w.msCrypto).getRandomValues(b);
    for (var i = 0; i < b.length; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  function visitorID() {
    var v = readCookie(VID);
    if (!/^[0-9a-f]{32}$/.test(v)) v = randomID();
    writeCookie(VID, v, 365);
    return v;
  }

  function referral() {
    try {
      var r = JSON.parse(readCookie(REF) || "null");
      return r && typeof r.slug === "string" && r.slug ? r : null;
    } catch (e) {
      return null;
    }
  }

  function post(path, body) {
    return fetch(base + path, {
      method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (j) {
        if (!res.ok) {
          var err = new Error("tandem: " + (j.message || j.error || res.status));
          err.response = j;
          throw err;
        }
        return j;
      });
    });
  }

  function track() {
    var q = new URLSearchParams(location.search), param = "", slug = "";
    for (var i = 0; i < params.length && !slug; i++) {
      var v = q.get(params[i]);
      if (v && v.trim()) { param = params[i]; slug = v.trim().toLowerCase(); }
    }
    if (!slug || !program) return;
    var held = referral();
    post("/api/track/click", {
      program: program, slug: slug, param: param, landingURL: location.href,
      referrer: d.referrer, visitorID: visitorID()
    }).then(function (r) {
      if (held && held.slug !== r.slug && r.attributionModel === "FirstClick") return;
      writeCookie(REF, JSON.stringify({ program: program, slug: r.slug, clickID: r.clickId }), r.cookieDays);
    }, function () { /* not an affiliate link: nothing to remember */ });
  }

  function needPixel() {
    return pixel ? null : Promise.reject(new Error("tandem: add data-pixel=\"pk_…\" to the script tag to record sales and leads"));
  }

  function conversion(o) {
    o = o || {};
    var r = referral();
    if (!pixel) return needPixel();
    if (!r && !o.email) return Promise.resolve({ credited: false });
    return post("/api/track/conversion", {
      program: program, pixelKey: pixel, slug: r ? r.slug : "",
      amountCents: o.amountCents, currency: o.currency || "",
      orderId: o.orderId == null ? "" : String(o.orderId),
      email: o.email || "", name: o.name || ""
    });
  }

  function lead(o) {
    o = o || {};
    var r = referral();
    if (!pixel) return needPixel();
    if (!r) return Promise.resolve({ credited: false });
    return post("/api/track/lead", {
      program: program, pixelKey: pixel, slug: r.slug, email: o.email || "", name: o.name || ""
    });
  }

  var queued = (w.tandem && w.tandem.q) || [];
  w.tandem = {
    loaded: true,
    conversion: conversion,
    lead: lead,
    referral: function () { var r = referral(); return r ? r.slug : null; }
  };
  for (var i = 0; i < queued.length; i++) {
    var call = queued[i], fn = call && w.tandem[call[0]];
    if (typeof fn === "function") {
      fn(call[1])["catch"](function (e) { if (w.console) w.console.warn(e && e.message); });
    }
  }
  try { track(); } catch (e) { /* tracking never breaks the page */ }
})();
