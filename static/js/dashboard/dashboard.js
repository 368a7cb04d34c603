// The analytics dashboard: reads /api/analytics/* for the chosen period and draws it.
// The API scopes the figures (agents: their own; admins: the workspace).
import { api } from "../api.js";
import { COLORS, PLATFORM_COLORS, available as chartsAvailable, clear, draw } from "./charts.js";
import * as format from "./format.js";

const root = document.querySelector("[data-testid=dashboard]");
const form = root.querySelector("[data-testid=period-form]");
const statusLine = root.querySelector("[data-testid=dashboard-status]");
const exportLink = root.querySelector("[data-testid=export-csv]");
const STATUSES = ["active", "pending", "resolved", "archived"];
const PLATFORM_NAMES = {
  whatsapp: "WhatsApp",
  facebook: "Messenger",
  instagram: "Instagram",
  telegram: "Telegram",
  sandbox: gettext("Sandbox"),
};
const PURPOSE_NAMES = {
  reply: gettext("Replies"),
  analysis: gettext("Analysis"),
  playground: gettext("Playground"),
};

const $ = (testid) => root.querySelector(`[data-testid="${testid}"]`);
const canvas = (name) => root.querySelector(`canvas[data-chart="${name}"]`);
const setText = (testid, text) => {
  const element = $(testid);
  if (element) element.textContent = text;
};

// --- period ------------------------------------------------------------------------------------

function period() {
  const data = new FormData(form);
  return { from: data.get("from"), to: data.get("to"), granularity: data.get("granularity") };
}

function shiftDays(isoDate, days) {
  const [year, month, date] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

function remember({ from, to, granularity }) {
  const query = new URLSearchParams({ from, to, granularity });
  window.history.replaceState(null, "", `${window.location.pathname}?${query}`);
  const url = new URL(exportLink.href, window.location.origin);
  url.search = new URLSearchParams({ from, to }).toString();
  exportLink.href = url.pathname + url.search;
}

function markQuickRange() {
  const { from, to } = period();
  for (const button of form.querySelectorAll("[data-range]")) {
    const days = Number(button.dataset.range);
    const current = to === root.dataset.today && from === shiftDays(to, -(days - 1));
    button.setAttribute("aria-pressed", String(current));
  }
}

// --- key figures -------------------------------------------------------------------------------

function showDelta(testid, current, previous) {
  const element = $(testid);
  if (!element) return;
  const ratio = format.change(current, previous);
  element.classList.remove("is-up", "is-down", "is-good", "is-bad");
  if (ratio === null) {
    element.textContent = previous === 0 && current > 0 ? gettext("none in the previous period") : "";
    return;
  }
  element.classList.add(ratio > 0 ? "is-up" : ratio < 0 ? "is-down" : "is-flat");
  if (ratio !== 0) element.classList.add(ratio > 0 ? "is-good" : "is-bad");
  element.textContent = interpolate(gettext("%(change)s vs. previous period (%(previous)s)"), {
    change: format.signedPercent(ratio), previous: format.number(previous),
  }, true);
}

function renderDashboard(data) {
  setText("kpi-total", format.number(data.total));
  setText("kpi-unreplied", format.number(data.unreplied));
  showDelta("kpi-total-delta", data.total, data.previous.total);
  const bar = $("status-bar");
  bar.replaceChildren();
  for (const status of STATUSES) {
    const count = data.by_status[status] || 0;
    setText(`kpi-status-${status}`, format.number(count));
    showDelta(`kpi-status-${status}-delta`, count, data.previous.by_status[status] || 0);
    if (count) {
      const part = document.createElement("span");
      part.className = `status-part dot-${status}`;
      part.style.flexGrow = String(count);
      bar.append(part);
    }
  }
  renderChannels(data.by_platform);
}

function renderChannels(byPlatform) {
  const entries = Object.entries(byPlatform).filter(([, count]) => count > 0);
  draw(canvas("channels"), {
    type: "doughnut",
    data: {
      labels: entries.map(([platform]) => PLATFORM_NAMES[platform] || platform),
      datasets: [{
        data: entries.map(([, count]) => count),
        backgroundColor: entries.map(([platform]) => PLATFORM_COLORS[platform] || COLORS.muted),
        borderWidth: 2,
      }],
    },
    options: { cutout: "62%", plugins: { legend: { position: "bottom" } } },
  }, { hasData: entries.length > 0 });
}

function clearDashboard() {
  for (const testid of ["kpi-total", "kpi-unreplied", ...STATUSES.map((s) => `kpi-status-${s}`)]) {
    setText(testid, format.EMPTY);
  }
  for (const element of root.querySelectorAll(".kpi-delta")) element.textContent = "";
  $("status-bar").replaceChildren();
  clear(canvas("channels"));
}

// --- series ------------------------------------------------------------------------------------

function bucketLabel(date, granularity) {
  if (granularity === "week") {
    return interpolate(gettext("Week of %(day)s"), { day: format.day(date) }, true);
  }
  return format.day(date);
}

const numberTicks = { precision: 0, callback: (value) => format.number(value) };

function renderSeries(data) {
  const labels = data.series.map((point) => bucketLabel(point.date, data.granularity));
  const hasConversations = data.series.some((point) => point.new || point.resolved);
  draw(canvas("conversations"), {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: gettext("New"), data: data.series.map((p) => p.new), borderColor: COLORS.primary,
          backgroundColor: "rgba(36, 83, 212, .08)", fill: true, pointRadius: 2 },
        { label: gettext("Resolved"), data: data.series.map((p) => p.resolved), borderColor: COLORS.ok,
          backgroundColor: COLORS.ok, pointRadius: 2 },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: numberTicks }, x: { grid: { display: false } } },
      plugins: { legend: { position: "top", align: "end" } },
    },
  }, { hasData: hasConversations });
  const hasMessages = data.series.some((point) => point.messages_in || point.messages_out);
  draw(canvas("messages"), {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: gettext("Received"), data: data.series.map((p) => p.messages_in),
          backgroundColor: COLORS.primary, borderRadius: 3 },
        { label: gettext("Sent"), data: data.series.map((p) => p.messages_out),
          backgroundColor: COLORS.brand, borderRadius: 3 },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: numberTicks }, x: { grid: { display: false } } },
      plugins: { legend: { position: "top", align: "end" } },
    },
  }, { hasData: hasMessages });
}

// --- response times ----------------------------------------------------------------------------

function durationBars(rows, label) {
  const measured = rows.filter((row) => row.first_response.count > 0);
  return {
    config: {
      type: "bar",
      data: {
        labels: measured.map(label),
        datasets: [
          { label: gettext("Median"), data: measured.map((r) => format.minutes(r.first_response.median)),
            backgroundColor: COLORS.primary, borderRadius: 3 },
          { label: gettext("90th percentile"), data: measured.map((r) => format.minutes(r.first_response.p90)),
            backgroundColor: "#a9bdf3", borderRadius: 3 },
        ],
      },
      options: {
        indexAxis: "y",
        scales: {
          x: { beginAtZero: true, title: { display: true, text: gettext("minutes") },
            ticks: { callback: (value) => format.number(value) } },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { position: "top", align: "end" },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${format.duration(item.raw * 60)}` } },
        },
      },
    },
    hasData: measured.length > 0,
  };
}

function renderResponseTimes(data) {
  const overall = data.overall.first_response;
  setText("kpi-first-response", format.duration(overall.median));
  setText("kpi-first-response-p90", overall.count
    ? interpolate(gettext("90th percentile: %(p90)s"), { p90: format.duration(overall.p90) }, true)
    : gettext("No replies yet"));
  const byChannel = durationBars(data.by_channel, (row) => PLATFORM_NAMES[row.platform] || row.platform);
  draw(canvas("response-channel"), byChannel.config, { hasData: byChannel.hasData });
  const byAgent = durationBars(data.by_agent, (row) => row.agent_name);
  draw(canvas("response-agent"), byAgent.config, { hasData: byAgent.hasData });
}

function clearResponseTimes() {
  setText("kpi-first-response", format.EMPTY);
  setText("kpi-first-response-p90", "");
  clear(canvas("response-channel"));
  clear(canvas("response-agent"));
}

// --- satisfaction ------------------------------------------------------------------------------

function renderSatisfaction(data) {
  const average = data.average === null ? format.EMPTY : format.decimal(data.average, 1);
  setText("kpi-satisfaction", average);
  setText("csat-average", average);
  setText("kpi-satisfaction-ratings", interpolate(
    ngettext("%(count)s rating", "%(count)s ratings", data.ratings), { count: format.number(data.ratings) }, true,
  ));
  setText("csat-response-rate", format.percent(data.response_rate));
  setText("csat-responses", interpolate(
    gettext("Response rate: %(responses)s of %(sent)s surveys answered"),
    { responses: format.number(data.responses), sent: format.number(data.surveys_sent) }, true,
  ));
  const scores = ["1", "2", "3", "4", "5"];
  draw(canvas("satisfaction"), {
    type: "bar",
    data: {
      labels: scores.map((score) => "★".repeat(Number(score))),
      datasets: [{
        label: gettext("Ratings"),
        data: scores.map((score) => data.distribution[score] || 0),
        backgroundColor: ["#d92d20", "#f79009", "#fdb022", "#66c61c", "#12b76a"],
        borderRadius: 4,
      }],
    },
    options: {
      scales: { y: { beginAtZero: true, ticks: numberTicks }, x: { grid: { display: false } } },
      plugins: { legend: { display: false } },
    },
  }, { hasData: data.ratings > 0 });
}

function clearSatisfaction() {
  for (const testid of ["kpi-satisfaction", "csat-average", "csat-response-rate"]) setText(testid, format.EMPTY);
  setText("kpi-satisfaction-ratings", gettext("No data"));
  setText("csat-responses", "");
  clear(canvas("satisfaction"));
}

// --- assistants --------------------------------------------------------------------------------

function cell(text, className = "num") {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  return td;
}

// On phones each row becomes a card; a figure's cell then names its column itself.
function labelCells(row, headings) {
  [...row.children].forEach((td, index) => {
    if (index > 0 && headings[index]) td.dataset.label = headings[index];
  });
  return row;
}

function renderAssistants(data) {
  const section = root.querySelector("[data-section=assistants]");
  const body = section.querySelector("tbody");
  const headings = [...section.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  body.replaceChildren(...data.assistants.map((row) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "assistant-row";
    const name = cell(row.assistant_name, "name");
    const kind = document.createElement("span");
    kind.className = "badge";
    kind.textContent = row.type === "ai" ? gettext("AI") : gettext("Automatic");
    name.append(" ", kind);
    tr.append(
      name,
      cell(format.number(row.conversations_handled)),
      cell(format.number(row.resolved)),
      cell(format.number(row.messages_sent)),
      cell(format.percent(row.automation_rate)),
      cell(format.percent(row.handoff_rate)),
      cell(format.number(row.ai_tokens)),
      cell(format.money(row.ai_cost)),
    );
    return labelCells(tr, headings);
  }));
  section.querySelector("table").hidden = data.assistants.length === 0;
  section.querySelector(".empty").hidden = data.assistants.length > 0;
}

function clearAssistants() {
  renderAssistants({ assistants: [] });
}

// --- AI usage ----------------------------------------------------------------------------------

// The report lists the days with usage; the chart shows every day of the period.
function everyDay(data) {
  const byDate = new Map(data.by_day.map((row) => [row.date, row]));
  const days = [];
  for (let date = data.from; date <= data.to && days.length < 400; date = shiftDays(date, 1)) {
    days.push(byDate.get(date) || { date, prompt_tokens: 0, completion_tokens: 0 });
  }
  return days;
}

function renderUsage(data) {
  const tokens = (row) => row.prompt_tokens + row.completion_tokens;
  setText("usage-requests", format.number(data.totals.requests));
  setText("usage-tokens", format.number(tokens(data.totals)));
  setText("usage-cost", format.money(data.totals.cost));
  const purposes = $("usage-purposes");
  purposes.replaceChildren(...data.by_purpose.map((row) => {
    const item = document.createElement("span");
    item.className = "badge";
    item.textContent = `${PURPOSE_NAMES[row.purpose] || row.purpose}: ${format.number(row.requests)}`;
    return item;
  }));
  const days = everyDay(data);
  draw(canvas("usage"), {
    type: "bar",
    data: {
      labels: days.map((row) => format.day(row.date)),
      datasets: [
        { label: gettext("Prompt tokens"), data: days.map((row) => row.prompt_tokens),
          backgroundColor: COLORS.violet, borderRadius: 2, stack: "tokens" },
        { label: gettext("Completion tokens"), data: days.map((row) => row.completion_tokens),
          backgroundColor: "#c3b5fd", borderRadius: 2, stack: "tokens" },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, stacked: true, ticks: numberTicks },
        x: { stacked: true, grid: { display: false } } },
      plugins: { legend: { position: "top", align: "end" } },
    },
  }, { hasData: data.totals.requests > 0 });
}

function clearUsage() {
  for (const testid of ["usage-requests", "usage-tokens", "usage-cost"]) setText(testid, format.EMPTY);
  $("usage-purposes").replaceChildren();
  clear(canvas("usage"));
}

// --- loading -----------------------------------------------------------------------------------

const REPORTS = [
  { path: "/api/analytics/dashboard", render: renderDashboard, clear: clearDashboard },
  { path: "/api/analytics/conversations", render: renderSeries,
    clear: () => ["conversations", "messages"].forEach((name) => clear(canvas(name))) },
  { path: "/api/analytics/response-time", render: renderResponseTimes, clear: clearResponseTimes },
  { path: "/api/analytics/satisfaction", render: renderSatisfaction, clear: clearSatisfaction },
  { path: "/api/analytics/assistants", render: renderAssistants, clear: clearAssistants, range: true },
  { path: "/api/analytics/usage", render: renderUsage, clear: clearUsage },
];

let generation = 0;

async function load() {
  const current = period();
  const mine = ++generation;
  root.dataset.state = "loading";
  statusLine.textContent = gettext("Loading…");
  const params = ({ range }) => (range ? { from: current.from, to: current.to } : current);
  const results = await Promise.allSettled(REPORTS.map((report) => api(report.path, { params: params(report) })));
  if (mine !== generation) return; // a newer period was asked for meanwhile
  const failed = [];
  results.forEach((result, index) => {
    const report = REPORTS[index];
    if (result.status === "fulfilled") {
      try {
        report.render(result.value);
        return;
      } catch (error) {
        console.warn(report.path, error); // an unexpected shape: that section shows "no data"
      }
    }
    report.clear();
    failed.push(report.path);
  });
  const range = format.dayRange(current.from, current.to);
  statusLine.textContent = failed.length === REPORTS.length
    ? gettext("The figures could not be loaded. Try again in a moment.")
    : range;
  root.dataset.state = failed.length === REPORTS.length ? "error" : "ready";
  root.dataset.period = `${current.from}/${current.to}/${current.granularity}`;
  root.dataset.loads = String(Number(root.dataset.loads) + 1);
}

function validPeriod() {
  const { from, to } = period();
  const to_ = form.elements.to;
  to_.setCustomValidity(from && to && from > to ? gettext("The end must not be before the start.") : "");
  return form.reportValidity();
}

function apply() {
  if (!validPeriod()) return;
  remember(period());
  markQuickRange();
  load();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  apply();
});
form.elements.granularity.addEventListener("change", apply);
form.elements.from.addEventListener("change", () => validPeriod());
form.elements.to.addEventListener("change", () => validPeriod());
for (const button of form.querySelectorAll("[data-range]")) {
  button.addEventListener("click", () => {
    const to = root.dataset.today;
    form.elements.to.value = to;
    form.elements.from.value = shiftDays(to, -(Number(button.dataset.range) - 1));
    apply();
  });
}

if (!chartsAvailable()) console.warn("Chart.js did not load; figures are shown without charts.");
markQuickRange();
load();
