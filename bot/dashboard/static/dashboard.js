// Draws the charts the pages describe: data comes from a JSON script block next to each canvas, so no inline
// script is needed (the Content-Security-Policy allows scripts from this server only). Colours: Okabe–Ito.
(function () {
  "use strict";
  var BLUE = "#0072B2", ORANGE = "#E69F00";
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function enpsTrend(canvas) {
    var data = JSON.parse(document.getElementById(canvas.id + "-data").textContent);
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: canvas.dataset.enpsLabel, data: data.enps, borderColor: BLUE, backgroundColor: BLUE,
            pointStyle: "circle", pointRadius: 5, borderWidth: 3, yAxisID: "y", spanGaps: false },
          { label: canvas.dataset.rateLabel + " (%)", data: data.rate, borderColor: ORANGE, backgroundColor: ORANGE,
            pointStyle: "rectRot", pointRadius: 5, borderWidth: 2, borderDash: [6, 4], yAxisID: "rate" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        plugins: {
          title: { display: true, text: canvas.dataset.title },
          legend: { position: "bottom", labels: { usePointStyle: true } }
        },
        scales: {
          y: { min: -100, max: 100, title: { display: true, text: canvas.dataset.enpsLabel } },
          rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                  title: { display: true, text: canvas.dataset.rateLabel + " (%)" } }
        }
      }
    });
  }

  var kinds = { "enps-trend": enpsTrend };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var draw = kinds[canvas.dataset.chart];
    if (draw && window.Chart) { draw(canvas); }
  });
})();
