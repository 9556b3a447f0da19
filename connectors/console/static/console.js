// The 12345 operators' console: tabs, start-up and live events. Each part lives in its own module:
// conversations.js (queue, takeover, notes, transfer), desk.js (common replies, knowledge base),
// cases.js (phone intake, cases, review, overdue), supervision.js (督办), stats.js (数据), staff.js (staff and Open311 keys,
// admins only); common.js and labels.js below them.
import { $, api, backend, el, failed, state } from "./common.js";
import { loadAlerts, loadOverdue, loadReview, searchCases, watchesAlerts } from "./cases.js";
import { loadQueue, onConversationFrame } from "./conversations.js";
import { loadReplies } from "./desk.js";
import { APPEAL, ROLE, STATUS, label } from "./labels.js";
import { loadStaff } from "./staff.js";
import { loadStats } from "./stats.js";
import { loadSupervision } from "./supervision.js";

function show(tab) {
  const link = document.querySelector(`#nav a[data-tab="${tab}"]`);
  if (!link || link.hidden) tab = state.me && state.me.handles_conversations ? "queue" : "cases";
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `tab-${tab}`;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.tab === tab);
  const load = { queue: loadQueue, review: loadReview, cases: searchCases, stats: loadStats, staff: loadStaff,
    overdue: () => Promise.all([loadOverdue(), loadSupervision()]) }[tab];
  if (load) load().catch(failed);
}
window.addEventListener("hashchange", () => show(location.hash.slice(1)));

function liveEvents() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/console/ws`);
  const ping = setInterval(() => socket.readyState === 1 && socket.send("ping"), 20000);
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "case_alert") loadAlerts().catch(failed);
    else onConversationFrame(frame);
  };
  socket.onclose = () => {  // a login that ended goes back to the login page (api does that on 401)
    clearInterval(ping);
    api("/console/api/me").then(() => setTimeout(liveEvents, 2000), () => setTimeout(liveEvents, 2000));
  };
}

async function start() {
  const me = state.me = await api("/console/api/me");
  $("who").textContent = `${me.display_name}（${label(ROLE, me.role)}${me.unit_name ? " · " + me.unit_name : ""}）`;
  for (const link of document.querySelectorAll("[data-hotline]")) link.hidden = !me.handles_conversations;
  for (const link of document.querySelectorAll("[data-intake]")) link.hidden = !["operator", "admin"].includes(me.role);
  for (const link of document.querySelectorAll("[data-admin]")) link.hidden = me.role !== "admin";
  for (const part of document.querySelectorAll("[data-roles]")) part.hidden = !part.dataset.roles.split(" ").includes(me.role);
  $("alerts-toggle").hidden = !me.handles_conversations;
  const appeal = Object.entries(APPEAL).map(([k, v]) => el("option", { value: k }, v));
  for (const select of document.querySelectorAll("select[name=appeal_type]")) select.replaceChildren(...appeal.map((o) => o.cloneNode(true)));
  $("search-status").append(...Object.entries(STATUS).map(([k, v]) => el("option", { value: k }, v)));
  const categories = await backend("categories");
  $("phone-category").append(...categories.map((c) => el("option", { value: c.code }, `${c.group} · ${c.name}`)));
  show(location.hash.slice(1));
  $("alerts-card").hidden = !watchesAlerts();
  loadAlerts().catch(failed);
  if (me.handles_conversations) loadReplies().catch(failed);
  if (["operator", "admin"].includes(me.role)) loadReview().catch(failed);
  if (me.handles_conversations || watchesAlerts()) liveEvents();
  if (me.handles_conversations) setInterval(() => !$("tab-queue").hidden && loadQueue().catch(failed), 5000);
}
$("logout").addEventListener("click", async () => {
  try { await api("/console/api/logout", { method: "POST" }); location.href = "/console/login"; } catch (error) { failed(error); }
});
start().catch(failed);
