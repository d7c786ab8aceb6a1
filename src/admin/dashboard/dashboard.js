// hubsync dashboard: reads the admin API with the token kept in sessionStorage.
"use strict";

const TOKEN_KEY = "hubsync-token";
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  }
  return node;
}

function say(text, bad) {
  const box = $("#message");
  box.textContent = text;
  box.className = bad ? "bad" : "ok";
}

async function api(path, body) {
  const headers = { Authorization: "Bearer " + (sessionStorage.getItem(TOKEN_KEY) || "") };
  const options = { headers };
  if (body !== undefined) {
    options.method = "POST";
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (data.error && data.error.message) || response.statusText;
    throw new Error(response.status + ": " + message);
  }
  return data;
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
}

function age(seconds) {
  if (seconds < 120) return Math.round(seconds) + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  return Math.round(seconds / 3600) + " h";
}

function chart(points) {
  const width = 360, height = 60;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "chart");
  const now = Date.now();
  const top = Math.max(1, ...points.map((p) => p.max_lag_seconds));
  const xy = points.map((p) => {
    const x = width - ((now - Date.parse(p.minute)) / 3600000) * width;
    const y = height - 4 - (p.max_lag_seconds / top) * (height - 8);
    return Math.max(0, x).toFixed(1) + "," + y.toFixed(1);
  });
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", xy.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#2f6fdf");
  line.setAttribute("stroke-width", "2");
  svg.append(line);
  for (const point of xy) {
    const [cx, cy] = point.split(",");
    const dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
    dot.setAttribute("cx", cx);
    dot.setAttribute("cy", cy);
    dot.setAttribute("r", "2.5");
    dot.setAttribute("fill", "#2f6fdf");
    svg.append(dot);
  }
  const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
  title.textContent = "max lag per minute, last hour (peak " + age(top) + ")";
  svg.append(title);
  return svg;
}

async function loadStatus() {
  const report = await api("/api/status");
  const rows = [];
  for (const sync of report.syncs) {
    const history = await api("/api/status/history?sync=" + encodeURIComponent(sync.name));
    const lag = sync.lag ? age(sync.lag.age_seconds) + " (" + sync.lag.side + ")" : "none";
    const pollers = sync.sides.map((s) => s.connector + "/" + s.object + ": " +
      (s.poller_live ? "live" : "not running")).join("; ");
    const failures = Object.entries(sync.failures.journal)
      .concat(Object.entries(sync.failures.outbox))
      .map(([kind, n]) => kind + " " + n).join(", ") || "none";
    const paused = sync.paused
      ? el("span", { class: "bad" }, "paused: " + sync.paused.reason + " — ",
          el("code", {}, sync.paused.resume_command))
      : "running";
    rows.push([sync.name, paused, lag, sync.journal_depth, sync.outbox_depth,
      sync.rates_5m.changes_received + " in / " + sync.rates_5m.writes_done + " done / " +
      sync.rates_5m.writes_failed + " failed", failures, pollers, chart(history.points)]);
  }
  const budgets = report.connectors.map((c) => [c.connector,
    !c.budget ? "not published" : c.budget.requests_per_second === null ? "unlimited"
      : c.budget.requests_per_second.toFixed(1) + " req/s",
    c.budget && c.budget.daily_remaining !== null ? c.budget.daily_remaining : "—"]);
  $("#status").replaceChildren(
    table(["Sync", "State", "Lag", "Journal", "Outbox", "Last 5 min", "Failures", "Pollers",
      "Lag, last hour"], rows),
    el("h2", {}, "Rate budget"),
    table(["Connector", "Burst", "Daily left"], budgets));
}

async function act(verb, id) {
  try {
    const result = await api("/api/journal/" + verb, { ids: [id] });
    say(verb + " " + result.ids.length + " row(s): " + result.ids.join(", "));
  } catch (err) {
    say(verb + " failed: " + err.message, true);
  }
  await refresh();
}

async function loadFailures() {
  const data = await api("/api/journal?status=failed,dead&limit=200");
  const groups = new Map();
  for (const row of data.rows) {
    const kind = row.error_kind || "unknown";
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(row);
  }
  const parts = [];
  for (const [kind, rows] of groups) {
    parts.push(el("div", { class: "kind" }, el("strong", {}, kind + " (" + rows.length + ")"),
      table(["ID", "Side", "Object", "Record", "Status", "API's message", ""], rows.map((row) => [
        row.id, row.side, row.object_type, row.record_id, row.status, row.last_error || "",
        el("span", {},
          el("button", { class: "retry", "data-id": row.id, onclick: () => act("retry", row.id) },
            "Retry"), " ",
          el("button", { class: "skip", "data-id": row.id, onclick: () => act("skip", row.id) },
            "Skip")),
      ]))));
  }
  $("#failures").replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" },
    "No failed or dead changes.")]));
}

async function showRecord(event) {
  event.preventDefault();
  const key = $("#record-key").value.trim();
  if (!key) return;
  try {
    const timeline = await api("/api/records/" + encodeURIComponent(key));
    $("#timeline").replaceChildren(table(["At", "What", "Side", "Summary"],
      timeline.entries.map((e) => [e.at, e.what, e.side || "", e.summary])));
  } catch (err) {
    $("#timeline").replaceChildren(el("p", { class: "bad" }, err.message));
  }
}

async function resolve(id, take) {
  try {
    await api("/api/conflicts/" + id + "/resolve", { take });
    say("conflict " + id + " resolved: " + take);
  } catch (err) {
    say("resolve failed: " + err.message, true);
  }
  await refresh();
}

async function loadConflicts() {
  const data = await api("/api/conflicts?status=open&limit=100");
  const rows = data.rows.map((c) => [c.id, c.sync_name,
    c.hubspot_field + " = " + (c.hubspot_value ?? ""),
    c.external_field + " = " + (c.external_value ?? ""),
    el("span", {},
      el("button", { class: "take-hubspot", onclick: () => resolve(c.id, "hubspot") }, "Take HubSpot"),
      " ",
      el("button", { class: "take-external", onclick: () => resolve(c.id, "external") },
        "Take external"))]);
  $("#conflicts").replaceChildren(rows.length
    ? table(["ID", "Sync", "HubSpot", "External", ""], rows)
    : el("p", { class: "muted" }, "No open conflicts."));
}

async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  try {
    await Promise.all([loadStatus(), loadFailures(), loadConflicts()]);
    document.body.dataset.loaded = "true";
  } catch (err) {
    say(err.message, true);
  }
}

$("#save-token").addEventListener("click", () => {
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  say("token kept for this tab");
  refresh();
});
$("#refresh").addEventListener("click", refresh);
$("#record-form").addEventListener("submit", showRecord);
refresh();
setInterval(refresh, 30000);
