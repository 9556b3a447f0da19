// Conversations: the queue with unread counts, one transcript, takeover, notes, transfer, a case.
import { $, api, clock, el, failed, minutes, opens, refill, state, toast } from "./common.js";
import { APPEAL, AUTHOR, CHANNEL, HANDLING, REASONS, SLOT, label } from "./labels.js";

let current = null;   // the conversation on screen
let chosen = null;    // the conversation the operator chose last (may still be loading)
const HIDDEN_SLOTS = ["attachments", "location", "routing", "category_code"];

export async function loadQueue() {
  const queue = await api("/console/api/queue");
  $("wait-count").textContent = `（${queue.waiting.length}）`;
  fill("waiting", queue.waiting, (c) => [
    el("span", { class: c.too_long ? "tag red" : "tag" }, `等待 ${minutes(c.waited_s || 0)}`),
    el("span", { class: "tag" }, label(REASONS, c.reason)), channelTag(c), preview(c)]);
  fill("held", queue.held, (c) => [el("span", { class: "tag" }, c.operator), channelTag(c), preview(c)]);
  fill("live", queue.live, (c) => [channelTag(c), preview(c)]);
  document.title = queue.unread_total ? `(${queue.unread_total}) 12345 坐席` : "12345 坐席工作台";
}
const channelTag = (c) => el("span", { class: "tag" }, `${label(CHANNEL, c.channel)} …${c.identity}`);
const preview = (c) => el("div", { class: "muted" }, c.last_text);

function fill(id, items, render) {
  const list = $(id);
  refill(list, items.map((c) => el("li", {
    class: [c.too_long ? "late" : "", current && current.id === c.id ? "active" : ""].join(" "),
    "data-id": c.id, ...opens(() => openConversation(c.id).catch(failed)),
  }, c.unread ? el("span", { class: "unread", title: "未读消息" }, c.unread) : null,
  el("span", { class: "time muted" }, clock(c.last_at)), render(c))));  // the 5 s refresh keeps the focus
  if (!items.length) list.append(el("li", { class: "muted" }, "暂无"));
}

// While a conversation loads, its action buttons are off, so a quick click on "claim" never acts on the
// one that was on screen before; answers for a conversation that is no longer the chosen one are dropped.
export async function openConversation(id) {
  if (!current || current.id !== id) {
    for (const b of ["claim", "handback", "close", "say", "say-send", "make-case", "note", "note-add", "transfer"]) $(b).disabled = true;
  }
  chosen = id;
  const c = await api(`/console/api/conversations/${id}`);
  if (chosen !== id) return;
  current = c;
  renderConversation();
  loadQueue().catch(failed);
}

function renderConversation() {
  const c = current;
  const mine = c.handling === "operator" && c.operator === state.me.username;
  $("conv-title").textContent = `会话 #${c.id}（${label(CHANNEL, c.channel)}）· ${label(HANDLING, c.handling)}`
    + (c.reason ? ` · ${label(REASONS, c.reason)}` : "") + (c.operator ? ` · ${c.operator} 服务中` : "");
  $("transcript").replaceChildren(...c.transcript.map(line));
  $("transcript").scrollTop = $("transcript").scrollHeight;
  $("claim").disabled = c.handling === "operator";
  for (const id of ["handback", "close", "say", "say-send"]) $(id).disabled = !mine;
  for (const id of ["make-case", "note", "note-add"]) $(id).disabled = false;
  const info = Object.entries(c.collected || {}).filter(([k]) => !HIDDEN_SLOTS.includes(k));
  $("collected").replaceChildren(el("div", {}, "已收集：", info.length
    ? info.map(([k, v]) => `${SLOT[k] || "其他"}：${k === "appeal_type" ? label(APPEAL, v) : v}`).join("；") : "无"));
  loadTransferTargets(c, mine || (state.me.role === "admin" && c.handling === "operator")).catch(failed);
}

function line(m) {
  const photos = (m.attachments || []).map((a) => a.ref.startsWith("upload:")
    ? el("a", { href: `/console/uploads/${a.ref.slice(7)}`, target: "_blank" }, " [查看图片]") : null);
  const place = m.location ? ` [位置 ${m.location.latitude},${m.location.longitude}]` : "";
  const time = el("time", { datetime: m.created_at }, clock(m.created_at));
  if (m.note) {
    return el("div", { class: "line note" }, el("div", { class: "who" }, `备注 · ${m.by_name || "工作人员"} · `, time),
      el("span", { class: "text" }, m.text));
  }
  return el("div", { class: `line ${m.author}${m.internal ? " internal" : ""}` },
    el("div", { class: "who" }, `${label(AUTHOR, m.author)}${m.internal ? "（内部记录）" : ""} · `, time),
    el("span", { class: "text" }, m.text + place), photos);
}

async function act(path, body) {
  try {
    await api(`/console/api/conversations/${current.id}/${path}`, { method: "POST", body: body || {} });
    await openConversation(current.id);
    return true;
  } catch (error) { failed(error); return false; }
}
$("claim").addEventListener("click", () => act("claim"));
$("handback").addEventListener("click", () => act("release", { close: false }));
$("close").addEventListener("click", () => act("release", { close: true }));
// A box is emptied as its text is sent, so the next one can be typed at once, even while the send and
// the reload after it are under way; if the send fails, the text comes back in front of anything new.
async function sendFrom(box, path) {
  const text = box.value.trim();
  if (!text) return false;
  box.value = "";
  if (await act(path, { text })) return true;
  box.value = box.value ? `${text} ${box.value}` : text;
  return false;
}
$("say-form").addEventListener("submit", (event) => { event.preventDefault(); sendFrom($("say"), "messages"); });
$("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await sendFrom($("note"), "notes")) toast("备注已添加，仅工作人员可见", "ok");
});

// --- transfer: the holder (or an admin) gives the conversation to an operator with a console open ----
async function loadTransferTargets(c, allowed) {
  $("transfer-box").hidden = !allowed;
  if (!allowed) return;
  const people = (await api("/console/api/operators")).filter((o) => o.username !== c.operator);
  $("transfer-to").replaceChildren(...people.map((o) => el("option", { value: o.username }, `${o.display_name}（${o.username}）`)));
  if (!people.length) $("transfer-to").append(el("option", { value: "" }, "没有其他在线客服"));
  $("transfer").disabled = !people.length;
}
$("transfer").addEventListener("click", async () => {
  const to = $("transfer-to").value;
  if (to && await act("transfer", { to })) toast(`会话已转给 ${to}`, "ok");
});

// --- a case from the conversation ------------------------------------------------------------------
$("make-case").addEventListener("click", () => {
  const form = $("case-form");
  form.hidden = false;
  const got = current.collected || {};
  form.description.value = got.description || "";
  form.address.value = got.address || "";
  form.contact_name.value = got.contact_name && got.contact_name !== "不愿透露" ? got.contact_name : "";
  form.contact_phone.value = got.contact_phone && got.contact_phone !== "不愿透露" ? got.contact_phone : "";
  form.appeal_type.value = got.appeal_type || "complaint";
  form.dataset.key = crypto.randomUUID();
});
$("case-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = caseBody(form);
  // The case carries the conversation's routing unless the operator changed what it was routed from.
  const got = current.collected || {};
  if (got.routing && body.description === (got.description || "").trim() && (body.address || "") === (got.address || "").trim()) {
    body.routing = got.routing;
  }
  try {
    const made = await api(`/console/api/conversations/${current.id}/case`, { method: "POST", body,
      headers: { "Idempotency-Key": form.dataset.key } });
    $("case-result").textContent = `已创建工单 ${made.case.number}（${made.case.lead_unit ? made.case.lead_unit.name : "待派单"}）`;
  } catch (error) { $("case-result").textContent = error.message; }
});

export function caseBody(form) {
  const body = { appeal_type: form.appeal_type.value, description: form.description.value.trim() };
  for (const name of ["address", "contact_name", "contact_phone"]) {
    if (form[name] && form[name].value.trim()) body[name] = form[name].value.trim();
  }
  if (form.anonymous && form.anonymous.checked) { body.anonymous = true; delete body.contact_name; delete body.contact_phone; }
  if (form.confidential && form.confidential.checked) body.confidential = true;
  if (form.sms_updates) body.sms_updates = form.sms_updates.checked && !body.anonymous;
  if (form.category_code && form.category_code.value) body.category_code = form.category_code.value;
  return body;
}

// --- live: a frame from the hub ---------------------------------------------------------------------
export function onConversationFrame(frame) {
  if (frame.type === "handoff" || (frame.type === "handling" && frame.handling === "waiting")) ring();
  if (frame.type === "transferred" && frame.event.to === state.me.username) toast("有一个会话转给了您", "ok");
  if (current && chosen === current.id && frame.conversation_id === current.id) openConversation(current.id).catch(failed);
  else if (!$("tab-queue").hidden) loadQueue().catch(failed);
}

// A citizen starts waiting: a short tone (Web Audio, no file) and a desktop notification when allowed.
const ALERTS_KEY = "jiesu.console.alerts";
let audio = null;
const alertsOn = () => localStorage.getItem(ALERTS_KEY) !== "off";
function showAlertsToggle() {
  $("alerts-toggle").textContent = alertsOn() ? "提醒：开" : "提醒：关";
  $("alerts-toggle").setAttribute("aria-pressed", String(alertsOn()));
}
$("alerts-toggle").addEventListener("click", () => {
  localStorage.setItem(ALERTS_KEY, alertsOn() ? "off" : "on");
  showAlertsToggle();
  if (alertsOn()) {
    audio = audio || new AudioContext();  // made in a click, so the browser lets it play later
    audio.resume();
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  }
});
showAlertsToggle();

function ring() {
  if (!alertsOn()) return;
  try {
    audio = audio || new AudioContext();
    for (const [start, pitch] of [[0, 880], [0.18, 660]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.15, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.16);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.17);
    }
  } catch { /* no sound on this machine: the notification and the list still tell */ }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("12345 坐席", { body: "有市民在等待人工服务", tag: "jiesu-waiting" });
  }
}

export const insertable = () => !$("say").disabled;
