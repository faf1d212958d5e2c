// The playground: the gateway's WebSocket API (chat, points, error analysis) and GET /v1/status, in plain
// JavaScript. Frames follow docs/websocket.md: each request has an id, and every frame the gateway sends back
// carries it, so several requests can be in flight at once.
"use strict";

const $ = (id) => document.getElementById(id);
const pending = new Map(); // request id -> {chunk, done, error}
let socket = null;
let sequence = 0;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function notice(message) {
  const box = $("notice");
  box.hidden = !message;
  box.textContent = message || "";
}

function setConnection(state, text) {
  $("connection").dataset.state = state;
  $("connection").textContent = text;
}

function settings() {
  return { http: $("http-url").value.replace(/\/+$/, ""), ws: $("ws-url").value.trim(), key: $("api-key").value };
}

function connect() {
  if (socket) socket.close();
  pending.clear();
  const { ws, key } = settings();
  const url = new URL(ws);
  if (key) url.searchParams.set("api_key", key); // browsers cannot set headers on a WebSocket
  setConnection("connecting", "connecting");
  const current = new WebSocket(url);
  socket = current;
  current.onopen = () => { setConnection("open", "connected"); notice(""); };
  current.onclose = (event) => {
    if (socket !== current) return;
    setConnection(event.code === 1000 ? "closed" : "error", `closed (${event.code})`);
    for (const handlers of pending.values()) handlers.error({ code: "closed", message: "the connection closed" });
    pending.clear();
  };
  current.onerror = () => notice("the WebSocket API refused the connection or could not be reached (check the URL and key)");
  current.onmessage = (message) => receive(JSON.parse(message.data));
}

function receive(frame) {
  if (frame.type === "pong") return;
  const handlers = pending.get(frame.id);
  if (!handlers) {
    if (frame.type === "error") notice(`${frame.error.code}: ${frame.error.message}`);
    return;
  }
  if (frame.type === "chunk") handlers.chunk(frame.text);
  else if (frame.type === "done") { pending.delete(frame.id); handlers.done(frame); }
  else if (frame.type === "error") { pending.delete(frame.id); handlers.error(frame.error); }
}

function request(action, fields, handlers) {
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    handlers.error({ code: "not_connected", message: "connect first" });
    return;
  }
  const id = `${action}-${++sequence}`;
  pending.set(id, { chunk: () => {}, ...handlers });
  socket.send(JSON.stringify({ action, id, ...fields }));
}

function usageText(frame) {
  const usage = frame.usage || {};
  const cost = usage.cost_usd === null || usage.cost_usd === undefined ? "unpriced" : `$${usage.cost_usd}`;
  return `${frame.provider} · ${frame.model} · ${usage.input_tokens} in / ${usage.output_tokens} out · ${cost}`;
}

function showError(panel, target, error) {
  $(panel).dataset.state = "error";
  target.replaceChildren(el("p", `${error.code}: ${error.message}`, "error"));
}

// -- chat

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const answer = $("chat-answer");
  answer.textContent = "";
  $("chat-meta").textContent = "";
  $("chat-timeline").replaceChildren();
  $("chat").dataset.state = "streaming";
  request("chat", { prompt: $("chat-prompt").value }, {
    chunk: (text) => { answer.append(text); },
    done: (frame) => {
      $("chat").dataset.state = "done";
      const fallback = frame.fallback_used ? " · fallback used" : "";
      $("chat-meta").textContent = `${usageText(frame)}${fallback}${frame.cached ? " · cached" : ""}`;
      for (const attempt of frame.attempts || []) {
        const item = el("li", `${attempt.provider}: ${attempt.outcome}, ${Math.round(attempt.latency_ms)} ms`);
        item.className = attempt.outcome === "ok" ? "ok" : "failed";
        if (attempt.error) item.title = attempt.error;
        $("chat-timeline").append(item);
      }
    },
    error: (error) => showError("chat", $("chat-meta"), error),
  });
});

// -- points

function project(point) {
  const [x, y, z = 0] = point; // a 3D point seen from the front, z receding at 45 degrees (cabinet projection)
  return [x + 0.5 * z * Math.SQRT1_2, y + 0.5 * z * Math.SQRT1_2];
}

function drawPoints(points) {
  const svg = $("points-plot");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const flat = points.map(project);
  const xs = flat.map((p) => p[0]);
  const ys = flat.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const [width, height, margin] = [400, 300, 20];
  const scale = Math.min((width - 2 * margin) / (maxX - minX || 1), (height - 2 * margin) / (maxY - minY || 1));
  const sx = (x) => margin + (x - minX) * scale + ((width - 2 * margin) - (maxX - minX) * scale) / 2;
  const sy = (y) => height - margin - (y - minY) * scale - ((height - 2 * margin) - (maxY - minY) * scale) / 2;
  const axis = (x1, y1, x2, y2) => {
    const line = document.createElementNS(ns, "line");
    Object.entries({ x1, y1, x2, y2, class: "axis" }).forEach(([k, v]) => line.setAttribute(k, v));
    svg.append(line);
  };
  if (minX <= 0 && maxX >= 0) axis(sx(0), 0, sx(0), height);
  if (minY <= 0 && maxY >= 0) axis(0, sy(0), width, sy(0));
  flat.forEach(([x, y], index) => {
    const mark = document.createElementNS(ns, "circle");
    Object.entries({ cx: sx(x), cy: sy(y), r: 3, class: "point" }).forEach(([k, v]) => mark.setAttribute(k, v));
    const title = document.createElementNS(ns, "title");
    title.textContent = `#${index + 1}: (${points[index].join(", ")})`;
    mark.append(title);
    svg.append(mark);
  });
}

$("points-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("points").dataset.state = "waiting";
  $("points-meta").textContent = "";
  request("generate_points", { prompt: $("points-prompt").value }, {
    done: (frame) => {
      drawPoints(frame.points);
      $("points").dataset.state = "done";
      const exact = frame.exact ? "exact" : "a model's own points";
      $("points-meta").textContent = `${frame.count} points, ${frame.dimensions}D, ${exact} · ${usageText(frame)}`;
    },
    error: (error) => showError("points", $("points-meta"), error),
  });
});

// -- error analysis

$("error-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const out = $("error-analysis");
  out.replaceChildren();
  $("error").dataset.state = "waiting";
  const error = { message: $("error-message").value };
  for (const [field, id] of [["type", "error-type"], ["language", "error-language"], ["stack", "error-stack"]]) {
    if ($(id).value.trim()) error[field] = $(id).value;
  }
  request("handle_error", { error }, {
    done: (frame) => {
      $("error").dataset.state = "done";
      const list = el("dl");
      const add = (term, node) => list.append(el("dt", term), node);
      add("summary", el("dd", frame.summary));
      add("likely cause", el("dd", frame.likely_cause));
      const steps = el("ol");
      frame.fix_steps.forEach((step) => steps.append(el("li", step)));
      add("fix", steps);
      if (frame.corrected_code) add("corrected code", el("pre", frame.corrected_code));
      const parsed = frame.parsed || {};
      const where = parsed.frame ? ` at ${parsed.frame.file}:${parsed.frame.line ?? "?"}` : "";
      add("understood", el("dd", `${parsed.exception_type || "?"} (${parsed.language || "unknown language"})${where}`));
      add("confidence", el("dd", `${Math.round(frame.confidence * 100)}% · ${usageText(frame)}${frame.cached ? " · cached" : ""}`));
      out.append(list);
    },
    error: (failure) => showError("error", out, failure),
  });
});

// -- status

async function refreshStatus() {
  const { http, key } = settings();
  const body = $("status-table").tBodies[0];
  $("status").dataset.state = "waiting";
  try {
    const response = await fetch(`${http}/v1/status`, { headers: key ? { "x-api-key": key } : {} });
    const status = await response.json();
    if (!response.ok) throw new Error(status.error ? status.error.message : response.statusText);
    body.replaceChildren();
    for (const provider of status.providers) {
      const probe = provider.last_probe;
      const row = el("tr");
      row.append(
        el("td", provider.name),
        el("td", provider.configured ? "yes" : "no"),
        el("td", provider.model),
        el("td", provider.circuit ? `${provider.circuit.state} (${provider.circuit.failures} failures)` : "closed"),
        el("td", probe ? `${probe.outcome}, ${Math.round(probe.latency_ms)} ms` : "not yet"),
        el("td", provider.spent_today_usd === null ? "-" : `$${provider.spent_today_usd}`),
      );
      body.append(row);
    }
    const spend = status.spend;
    $("status-spend").textContent = spend
      ? `today: $${spend.spent_today_usd} spent, $${spend.committed_usd} committed, cap ${spend.daily_limit_usd === null ? "none" : "$" + spend.daily_limit_usd}`
      : "no spend recorded today";
    $("status").dataset.state = "done";
  } catch (failure) {
    showError("status", $("status-spend"), { code: "status", message: failure.message });
  }
}

$("status-refresh").addEventListener("click", refreshStatus);
$("settings").addEventListener("submit", (event) => { event.preventDefault(); connect(); refreshStatus(); });

(async () => {
  try {
    const defaults = await (await fetch("/playground/config.json")).json();
    $("http-url").value = defaults.http_url;
    $("ws-url").value = defaults.ws_url;
    $("api-key").value = defaults.api_key;
    connect();
    refreshStatus();
  } catch (failure) {
    notice("type the API's URLs and key, then Connect");
  }
})();
