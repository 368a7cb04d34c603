// Chart.js (vendored UMD build, window.Chart) with the product's look; one chart per canvas.
const Chart = window.Chart;

export const COLORS = {
  primary: "#2453d4",
  brand: "#f25c05",
  ok: "#138a4b",
  warn: "#b7791f",
  muted: "#98a2b3",
  violet: "#7a5af8",
  teal: "#0e9384",
};

export const PLATFORM_COLORS = {
  whatsapp: "#25d366",
  facebook: "#1877f2",
  instagram: "#e1306c",
  telegram: "#229ed9",
  sandbox: "#98a2b3",
};

const charts = new Map();

function applyDefaults() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#667085";
  Chart.defaults.borderColor = "#eef0f3";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.tooltip.padding = 10;
  Chart.defaults.animation.duration = 300;
  Chart.defaults.datasets.bar.maxBarThickness = 36;
  Chart.defaults.datasets.line.cubicInterpolationMode = "monotone";
}
if (Chart) applyDefaults();

export const available = () => Boolean(Chart);

// Draw (or redraw) the chart on `canvas`; with no data the canvas hides and the section's
// ".empty" note shows instead.
export function draw(canvas, config, { hasData = true } = {}) {
  const box = canvas.closest(".chart-box");
  const empty = box?.parentElement.querySelector(".empty");
  charts.get(canvas)?.destroy();
  charts.delete(canvas);
  if (box) box.hidden = !hasData;
  if (empty) empty.hidden = hasData;
  canvas.dataset.rendered = hasData ? "true" : "false";
  if (!hasData || !Chart) return null;
  const chart = new Chart(canvas, config);
  charts.set(canvas, chart);
  return chart;
}

export function clear(canvas) {
  draw(canvas, null, { hasData: false });
}
