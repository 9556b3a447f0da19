// Charts of the dashboard, drawn with the vendored Chart.js (vendor/chart.umd.min.js, loaded before the modules:
// window.Chart). A chart fills its box (.chart sets the height) and follows it when the page narrows.
const Chart = window.Chart;
const FONT = '-apple-system, "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif';
export const RED = "#c0392b";
export const COLORS = ["#c0392b", "#1f6feb", "#1a7f37", "#9a6700", "#8250df"];

if (Chart) {
  Chart.defaults.font.family = FONT;
  Chart.defaults.color = "#1f2328";
  Chart.defaults.animation = false;  // nothing moves on a supervisor's screen but the data
}

// Draw (or draw again) the chart of a canvas; its points are also on the canvas as data-points for tests and
// for a screen reader's summary in aria-label.
export function draw(canvas, { type, labels, datasets, summary, options = {} }) {
  const old = Chart.getChart(canvas);
  if (old) old.destroy();
  canvas.dataset.points = String(labels.length);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", summary);
  return new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } }, ...options },
  });
}

export const percentAxis = { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } };
export const asPercent = (rate) => (rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10);
