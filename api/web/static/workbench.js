// The case page's transcript: a click on a segment seeks its recording there and plays it;
// the segment being played is highlighted. Delegated from the document, so the segments that
// htmx swaps in (while a transcription runs) work without re-binding. No inline script: the
// pages' CSP allows scripts from this app only.
(function () {
  "use strict";
  function audioFor(node) {
    var list = node.closest(".transcript");
    return list ? document.getElementById(list.dataset.audio) : null;
  }
  document.addEventListener("click", function (event) {
    var segment = event.target.closest(".segment");
    if (!segment) return;
    var audio = audioFor(segment);
    if (!audio) return;
    audio.currentTime = parseFloat(segment.dataset.start);
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });
  document.addEventListener("timeupdate", function (event) {
    var audio = event.target;
    if (!(audio instanceof HTMLAudioElement)) return;
    var list = document.querySelector('.transcript[data-audio="' + audio.id + '"]');
    if (!list) return;
    list.querySelectorAll(".segment").forEach(function (segment) {
      var start = parseFloat(segment.dataset.start), end = parseFloat(segment.dataset.end);
      var on = audio.currentTime >= start && audio.currentTime < end;
      segment.classList.toggle("playing", on);
      if (on) segment.setAttribute("aria-current", "true"); else segment.removeAttribute("aria-current");
    });
  }, true);
})();

// Recordings: the upload shows the file's progress (sent by XHR, the form's own CSRF field
// with it), then the job's live progress and segments from its event stream; when the job
// ends the recordings section is rendered again with the transcript. Without script the
// form posts as usual and the page follows the job the same way on load.
(function () {
  "use strict";
  function refresh(node) {
    var section = node.closest("#recordings");
    if (section && window.htmx) {
      window.htmx.ajax("GET", section.dataset.fragment, { target: "#recordings", swap: "outerHTML" });
    } else {
      window.location.reload();
    }
  }
  function follow(box) {
    if (box.dataset.following) return;
    box.dataset.following = "1";
    var bar = box.querySelector("progress"), status = box.querySelector(".job-status");
    var live = box.querySelector(".live");
    var source = new EventSource(box.dataset.events);
    source.addEventListener("progress", function (event) {
      var data = JSON.parse(event.data), percent = Math.round((data.progress || 0) * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      status.textContent = "正在转写… " + percent + "%";
    });
    source.addEventListener("segment", function (event) {
      var data = JSON.parse(event.data), item = document.createElement("li");
      item.textContent = (data.speaker ? data.speaker + "：" : "") + data.text;
      live.appendChild(item);
      live.scrollTop = live.scrollHeight;
    });
    ["done", "failed", "cancelled"].forEach(function (name) {
      source.addEventListener(name, function () {
        source.close();
        status.textContent = name === "done" ? "转写完成" : "转写未完成";
        refresh(box);
      });
    });
  }
  function start(root) {
    root.querySelectorAll("[data-events]").forEach(follow);
  }
  document.addEventListener("DOMContentLoaded", function () {
    start(document);
    if (window.htmx) window.htmx.onLoad(start);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("upload") || !window.FormData) return;
    event.preventDefault();
    var box = form.querySelector(".upload-progress"), bar = box.querySelector("progress");
    var status = form.querySelector("#upload-status"), input = form.querySelector("input[type=file]");
    var button = form.querySelector("button[type=submit]");
    var request = new XMLHttpRequest();
    box.hidden = false;
    button.disabled = true;
    input.removeAttribute("aria-invalid");
    status.classList.remove("error");
    status.textContent = "正在上传…";
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      status.textContent = "正在上传… " + percent + "%";
    });
    function refused(message) {
      button.disabled = false;
      box.hidden = true;
      input.setAttribute("aria-invalid", "true");
      status.classList.add("error");
      status.textContent = message;
    }
    request.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status !== 202) {
        refused((body.message || "上传失败") + (body.code ? "（" + body.code + "）" : ""));
        return;
      }
      bar.value = 100;
      status.textContent = "上传完成，开始转写。";
      refresh(form);
    });
    request.addEventListener("error", function () { refused("网络错误，上传未完成，请重试。"); });
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.send(new FormData(form));
  });
})();

// htmx requests that fail. htmx swaps nothing on a 4xx/5xx answer or a network failure, so the
// officer would see nothing happen. A panel loaded after the page ([data-lazy]: the analysis
// panels, the signed timeline) shows the refusal in its place with a button to load it again;
// any other request (a segment's 更正 link, the record verification) shows it beside the
// control that sent it, or in the page's alert region when there is none. The message and
// code are the API's, read from the server's error fragment or JSON envelope. A lapsed
// sign-in is answered 401 with HX-Redirect, which htmx follows itself; an answer that is the
// sign-in page anyway (a redirect the browser followed) is never swapped into the page: the
// page is loaded again, which renews the sign-in or asks for it with next= this page.
(function () {
  "use strict";
  var SIGN_IN = "/workbench/login";
  function refusal(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "", body = xhr.responseText || "";
    if (type.indexOf("json") >= 0) {
      try {
        var data = JSON.parse(body), error = data.error || data;
        if (error.message) return { text: String(error.message), code: String(error.code || "") };
      } catch (e) { /* not the API's JSON: the generic message below */ }
    }
    if (type.indexOf("html") >= 0) {
      var doc = new DOMParser().parseFromString(body, "text/html");
      var message = doc.querySelector(".error p, p.error"), code = doc.querySelector(".hint code");
      if (message) return { text: message.textContent, code: code ? code.textContent : "" };
    }
    return { text: "请求失败（服务器返回 " + xhr.status + "），请稍后重试。", code: "" };
  }
  function show(panel, text, code) {
    var box = document.createElement("div"), line = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    line.textContent = text;
    box.appendChild(line);
    if (code) {
      var hint = document.createElement("p"), tag = document.createElement("code");
      hint.className = "hint";
      hint.appendChild(document.createTextNode("代码："));
      tag.textContent = code;
      hint.appendChild(tag);
      box.appendChild(hint);
    }
    var again = document.createElement("button");
    again.type = "button";
    again.className = "retry";
    again.textContent = "重新加载";
    box.appendChild(again);
    panel.replaceChildren(box);
  }
  function lazyPanel(event) {
    var target = event.detail && event.detail.target;
    return target && target.hasAttribute && target.hasAttribute("data-lazy") ? target : null;
  }
  function control(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt !== document.body && document.body.contains(elt) ? elt : null;
  }
  function clearBeside(elt) {
    var next = elt && elt.nextElementSibling;
    if (next && next.classList.contains("request-error")) next.remove();
  }
  function report(event, text, code) {
    var panel = lazyPanel(event);
    if (panel) return show(panel, text, code);
    var line = document.createElement("span"), elt = control(event);
    line.className = "error request-error";
    line.setAttribute("role", "alert");
    line.textContent = text + (code ? "（代码：" + code + "）" : "");
    if (elt) {
      clearBeside(elt);
      elt.insertAdjacentElement("afterend", line);
      return;
    }
    var region = document.getElementById("page-alert");
    if (!region) return;
    region.replaceChildren(line);
    region.hidden = false;
  }
  function signedOut(xhr) {
    var url = xhr.responseURL ? new URL(xhr.responseURL, window.location.href) : null;
    return xhr.status === 401 || (url !== null && url.pathname === SIGN_IN);
  }
  function signInAgain() {
    if (window.location.pathname === SIGN_IN) return;
    window.location.assign(window.location.pathname + window.location.search);
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!signedOut(event.detail.xhr)) return;
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    signInAgain();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var found = refusal(event.detail.xhr);
    report(event, found.text, found.code);
  });
  document.addEventListener("htmx:sendError", function (event) {
    report(event, "网络错误，请求未完成。请检查网络连接后重试。", "");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) clearBeside(control(event));
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-lazy] button.retry");
    if (!button || !window.htmx) return;
    var panel = button.closest("[data-lazy]"), waiting = document.createElement("p");
    waiting.className = "hint";
    waiting.textContent = "正在加载……";
    panel.replaceChildren(waiting);
    window.htmx.ajax("GET", panel.getAttribute("hx-get"), { target: panel, swap: "innerHTML" });
  });
})();
