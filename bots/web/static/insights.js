// The insights page: draws each chart of GET /api/insights with Chart.js (served from this
// origin), and beside it a table with the same numbers for screen readers and for checking.
// Small numbers arrive already suppressed ("<5"); the chart leaves a gap there.
"use strict";

const KEY = "peerbot-moderator-token"; // the console's: signing in there signs in here
const COLORS = ["#2a6ebb", "#c0392b", "#9a4a00", "#1e7b4f", "#6c3fa0", "#5d6470"];

const $ = (id) => document.getElementById(id);
const charts = new Map();

function headers() {
  return { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
}

async function fetchInsights(path) {
  const response = await fetch(path, { headers: headers() });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    showSignIn("That token does not open the insights (a moderator's is needed).");
    return null;
  }
  if (!response.ok) throw new Error(`status ${response.status}`);
  return response;
}

function showSignIn(message) {
  $("signin").hidden = false;
  $("report").hidden = true;
  $("signin-error").textContent = message || "";
}

function plotted(value) {
  return typeof value === "number" ? value : null; // "<5" and null: a gap, never a guess
}

function cellText(value, unit) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number" && unit === "percent") return `${value}%`;
  return String(value);
}

function table(chart) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const element = document.createElement("table");
  element.className = "figures";
  element.dataset.chart = chart.id;
  const caption = document.createElement("caption");
  caption.className = "visually-hidden";
  caption.textContent = chart.title;
  element.append(caption);
  const head = element.createTHead().insertRow();
  for (const name of [chart.weekly ? "Week of" : "", ...chart.series.map((s) => s.label)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    head.append(th);
  }
  const body = element.createTBody();
  chart.labels.forEach((label, index) => {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    row.append(th);
    for (const series of chart.series) {
      const cell = row.insertCell();
      cell.className = "number";
      cell.textContent = cellText(series.values[index], chart.unit);
    }
  });
  wrap.append(element);
  return wrap;
}

function draw(chart, canvas) {
  const horizontal = !chart.weekly;
  const line = chart.weekly && chart.unit !== "count";
  return new window.Chart(canvas, {
    type: line ? "line" : "bar",
    data: {
      labels: chart.labels,
      datasets: chart.series.map((series, index) => ({
        label: series.label,
        data: series.values.map(plotted),
        backgroundColor: COLORS[index % COLORS.length],
        borderColor: COLORS[index % COLORS.length],
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      scales: { [horizontal ? "x" : "y"]: { beginAtZero: true } },
      plugins: { legend: { display: chart.series.length > 1 } },
    },
  });
}

function card(chart) {
  const section = document.createElement("section");
  section.className = "chart-card";
  section.id = `chart-${chart.id}`;
  const title = document.createElement("h3");
  title.id = `title-${chart.id}`;
  title.textContent = chart.title;
  section.setAttribute("aria-labelledby", title.id);
  section.append(title);
  if (!chart.labels.length) {
    const none = document.createElement("p");
    none.className = "muted empty";
    none.textContent = "Nothing counted yet.";
    section.append(none);
    return section;
  }
  const box = document.createElement("div");
  box.className = chart.labels.length > 8 && !chart.weekly ? "chart-box tall" : "chart-box";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${chart.title}: the table below has the same numbers.`);
  box.append(canvas);
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "The numbers";
  details.append(summary, table(chart));
  section.append(box, details);
  section.dataset.pending = "draw";
  return section;
}

async function load() {
  const weeks = $("weeks").value;
  let response;
  try {
    response = await fetchInsights(`/api/insights?weeks=${encodeURIComponent(weeks)}`);
  } catch (error) {
    $("report-error").textContent = "The figures could not be loaded. Try again in a moment.";
    return;
  }
  if (!response) return;
  const report = await response.json();
  $("report-error").textContent = "";
  $("signin").hidden = true;
  $("report").hidden = false;
  $("through").textContent = report.through
    ? `Counted through ${report.through} (${report.timezone}); weeks start on Monday.`
    : "Nothing has been rolled up yet: the figures appear after the first hourly run.";
  for (const existing of charts.values()) existing.destroy();
  charts.clear();
  const holder = $("charts");
  holder.replaceChildren(...report.charts.map(card));
  for (const chart of report.charts) {
    const canvas = document.querySelector(`#chart-${chart.id} canvas`);
    if (canvas) charts.set(chart.id, draw(chart, canvas));
  }
  document.body.dataset.loaded = weeks;
}

async function downloadCsv() {
  const response = await fetchInsights(`/api/insights.csv?weeks=${encodeURIComponent($("weeks").value)}`);
  if (!response) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "insights.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    load();
  });
  $("weeks").addEventListener("change", load);
  $("csv").addEventListener("click", downloadCsv);
  if (sessionStorage.getItem(KEY)) load();
  else showSignIn("");
});
