// Charts of the staff page, drawn by Chart.js from our own host; every figure is also in the tables below them.
(function () {
  "use strict";
  const source = document.getElementById("staff-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.animation = reduced ? false : Chart.defaults.animation;
  Chart.defaults.color = "#1a1a1a";

  const days = document.getElementById("chart-days");
  if (days) {
    new Chart(days, {
      data: {
        labels: data.days,
        datasets: [
          { type: "bar", label: data.labels.questions, data: data.questions, backgroundColor: "#b0001e", yAxisID: "count", order: 3 },
          { type: "line", label: data.labels.refused_share + " (%)", data: data.refused_share, borderColor: "#0b4fa8",
            backgroundColor: "#0b4fa8", yAxisID: "share", pointStyle: "rect", order: 1 },
          { type: "line", label: data.labels.unhelpful_share + " (%)", data: data.unhelpful_share, borderColor: "#1a1a1a",
            backgroundColor: "#1a1a1a", borderDash: [6, 4], yAxisID: "share", pointStyle: "triangle", order: 2 },
        ],
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          count: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
          share: { position: "right", beginAtZero: true, max: 100, grid: { drawOnChartArea: false } },
        },
      },
    });
  }
  const clusters = document.getElementById("chart-clusters");
  if (clusters) {
    new Chart(clusters, {
      type: "bar",
      data: { labels: data.clusters, datasets: [{ label: data.labels.questions, data: data.cluster_counts, backgroundColor: "#b0001e" }] },
      options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
})();
