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
