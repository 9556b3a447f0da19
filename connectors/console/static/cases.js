// Cases: phone intake with live routing, search and detail with its moves, the review queue, supervision.
import { $, backend, el, failed, lasting, opens, refill, state, when } from "./common.js";
import { caseBody } from "./conversations.js";
import { CHANNEL, MOVE, STATUS, URGENCY, label } from "./labels.js";

// --- phone intake -------------------------------------------------------------------------------
let suggestTimer = null;
for (const id of ["phone-description", "phone-address"]) {
  $(id).addEventListener("input", () => { clearTimeout(suggestTimer); suggestTimer = setTimeout(suggest, 400); });
}
async function suggest() {
  const text = $("phone-description").value.trim();
  const box = $("suggestion");
  if (text.length < 2) return;
  try {
    const s = await backend("routing", { method: "POST", body: { text, address: $("phone-address").value.trim() || null } });
    box.replaceChildren(el("h2", {}, "智能派单建议"),
      el("div", { class: "big", id: "suggested-category" }, s.category.name),
      el("dl", { class: "kv" },
        el("dt", {}, "职能部门"), el("dd", {}, s.department.name),
        el("dt", {}, "派单对象"), el("dd", { id: "suggested-target" }, s.dispatch_to.name),
        el("dt", {}, "地点"), el("dd", {}, [s.district && s.district.name, s.street && s.street.name].filter(Boolean).join(" ") || "未识别"),
        el("dt", {}, "时限"), el("dd", { class: s.urgency === "emergency" ? "overdue" : "" }, `${s.response_hours}小时（${label(URGENCY, s.urgency)}）`),
        el("dt", {}, "置信度"), el("dd", {}, `${Math.round(s.confidence * 100)}%`)),
      s.emergency ? el("p", { class: "overdue" }, `紧急：${s.emergency.label}，请提示市民拨打 ${s.emergency.call}`) : null,
      s.needs_review ? el("p", { class: "muted", id: "suggested-review" }, "职能部门不确定：受理后派至属地（或待派单），并进入“待定派单”由人工选定；也可直接选择事项分类") : null,
      el("p", { class: "muted" }, "其他可能：", s.alternatives.map((a) => `${a.category.name}（${Math.round(a.confidence * 100)}%）`).join("、")));
  } catch (error) { box.replaceChildren(el("h2", {}, "智能派单建议"), el("p", { class: "error" }, error.message)); }
}
$("phone-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  form.dataset.key = form.dataset.key || crypto.randomUUID();
  const body = { ...caseBody(form), channel: "phone" };
  try {
    const made = await backend("cases", { method: "POST", body, headers: { "Idempotency-Key": form.dataset.key } });
    $("phone-result").textContent = `已受理：工单号 ${made.case.number}，${made.case.lead_unit ? "已派至" + made.case.lead_unit.name : "待人工派单"}，时限：${made.case.time_limit_label}`;
    form.reset();
    delete form.dataset.key;
  } catch (error) { $("phone-result").textContent = `未能受理：${error.message}`; }
});

// --- cases ----------------------------------------------------------------------------------------
$("search-form").addEventListener("submit", (event) => { event.preventDefault(); searchCases().catch(failed); });
export async function searchCases() {
  const params = new URLSearchParams();
  if ($("search-q").value.trim()) params.set("q", $("search-q").value.trim());
  if ($("search-status").value) params.set("status", $("search-status").value);
  if ($("search-overdue").checked) params.set("overdue", "true");
  const cases = await backend(`cases?${params}`);
  refill($("case-rows"), cases.map(caseRow));
}
function caseRow(c) {
  return el("tr", { class: "clickable", "data-number": c.number, ...opens(() => openCase(c.number)) },
    el("td", {}, c.number), el("td", {}, c.category_name || "未分类"), el("td", {}, [c.district, c.street].filter(Boolean).join("")),
    el("td", {}, c.lead_unit ? c.lead_unit.name : "—"), el("td", {}, c.status_label),
    el("td", { class: c.overdue ? "overdue" : "" }, `${when(c.due_at)}${c.overdue ? " 超期" : ""}`));
}

export async function openCase(number) {
  if (location.hash !== "#cases") location.hash = "#cases";
  let c;
  try { c = await backend(`cases/${number}`); } catch (error) { failed(error); return; }
  const box = $("case-detail");
  box.replaceChildren(el("h2", { tabindex: "-1", id: "case-title" }, `工单 ${c.number}`),
    el("dl", { class: "kv" },
      ...kv("状态", `${c.status_label}${c.overdue ? "（超期）" : ""}`), ...kv("类型", c.appeal_type_label),
      ...kv("分类", c.category_name || "未分类"), ...kv("描述", c.description),
      ...kv("地点", `${c.address || ""} ${[c.district, c.street].filter(Boolean).join("")}`),
      ...kv("联系人", c.anonymous ? "匿名" : `${c.contact_name || ""} ${c.contact_phone || ""}`),
      ...kv("渠道", label(CHANNEL, c.channel)), ...kv("承办单位", (c.lead_unit ? c.lead_unit.name : "待派单") + (c.needs_review ? "（待人工确认）" : "")),
      ...kv("协办", c.co_units.map((u) => u.name).join("、") || "无"), ...kv("时限", `${c.time_limit_label}，${when(c.due_at)}前`),
      ...kv("答复", c.reply || "—"), ...kv("关联工单", c.related.join("、") || "无"),
      ...kv("图片", (c.attachments || []).length ? `${c.attachments.length}张` : "无")),
    el("h2", {}, "办理过程"),
    el("ul", { class: "timeline" }, c.timeline.map((u) => el("li", {},
      el("div", {}, `${when(u.created_at)} · ${u.actor || ""} · ${label(MOVE, u.kind)}${u.to_status ? " → " + label(STATUS, u.to_status) : ""}`),
      u.note ? el("div", { class: "muted" }, u.note) : null))),
    summonses(c), actions(c));
  $("case-title").focus();  // who opened it by keyboard goes on from the case
}
const kv = (k, v) => [el("dt", {}, k), el("dd", {}, v)];
const OPEN = ["dispatched", "acknowledged", "in_progress"];

// 吹哨报到: the street leading an open case summons functional departments with a reason; a summoned
// department checks in (报到) with what it will do. The backend decides who may; the page offers each
// form only to the unit it is for.
function summonses(c) {
  const me = state.me;
  const box = el("section", { id: "summonses", "aria-label": "吹哨报到" });
  if (!c.summonses.length && !(me.unit_code && c.lead_unit && me.unit_code === c.lead_unit.key && OPEN.includes(c.status))) return box;
  box.append(el("h2", {}, "吹哨报到"));
  if (c.summonses.length) {
    box.append(el("ul", { class: "timeline" }, c.summonses.map((s) => el("li", { "data-summons": s.id },
      el("div", {}, `${when(s.summoned_at)} · ${s.unit_name}吹哨 → ${s.department_name} · `,
        el("span", { class: s.overdue ? "overdue" : "" }, s.checked_in_at ? `已报到（${when(s.checked_in_at)}${s.late ? "，超时" : ""}）`
          : s.open ? `待报到，${when(s.due_at)}前${s.overdue ? "（已超时）" : ""}` : "已结束")),
      el("div", { class: "muted" }, `事由：${s.reason}`),
      s.check_in ? el("div", {}, `报到：${s.check_in}`) : null,
      s.open && !s.checked_in_at && me.unit_code === s.department_code ? checkInForm(c, s) : null))));
  }
  if (me.unit_code && c.lead_unit && me.unit_code === c.lead_unit.key && OPEN.includes(c.status)) box.append(summonForm(c));
  return box;
}

function checkInForm(c, s) {
  const text = el("input", { id: `check-in-${s.id}`, placeholder: "报到：本部门将如何处置", "aria-label": "报到内容" });
  const send = el("button", { type: "button", onclick: () => text.value.trim().length >= 2
    ? post(`cases/${c.number}/summonses/${s.id}/check-in`, { text: text.value.trim() }, c.number)
    : failed(new Error("请写明本部门将如何处置")) }, "报到");
  return el("div", { class: "row" }, text, send);
}

function summonForm(c) {
  const reason = el("input", { id: "summon-reason", placeholder: "吹哨事由：需要哪些部门到场、做什么", "aria-label": "吹哨事由" });
  const picks = el("fieldset", { class: "row picks" }, el("legend", {}, "召集职能部门"));
  backend("departments").then((all) => picks.append(...all.map((d) =>
    el("label", {}, el("input", { type: "checkbox", value: d.code, name: "summon-department" }), d.name)))).catch(failed);
  const send = el("button", { type: "button", id: "summon-send", onclick: () => {
    const codes = [...picks.querySelectorAll("input:checked")].map((i) => i.value);
    if (!codes.length || reason.value.trim().length < 2) { failed(new Error("请选择要召集的部门并写明事由")); return; }
    post(`cases/${c.number}/summonses`, { department_codes: codes, reason: reason.value.trim() }, c.number);
  } }, "吹哨");
  return el("div", {}, picks, el("div", { class: "row" }, reason, send));
}

async function post(path, body, number) {
  try { await backend(path, { method: "POST", body }); openCase(number); } catch (error) { failed(error); }
}

function actions(c) {
  const role = state.me.role;
  const box = el("div", {});
  const note = el("input", { placeholder: "原因 / 答复 / 备注", "aria-label": "原因、答复或备注" });
  const unit = el("input", { placeholder: "派单对象代码，如 housing 或 street_office:110105026", "aria-label": "派单对象代码" });
  const move = (m, extra) => el("button", { type: "button", class: "secondary",
    onclick: () => post(`cases/${c.number}/transitions`, { move: m, ...extra() }, c.number) }, MOVE[m]);
  const withNote = (field) => () => (note.value.trim() ? { [field]: note.value.trim() } : {});
  const buttons = [];
  if (["operator", "admin"].includes(role) && c.needs_review) {
    box.append(el("h2", {}, "智能派单不确定，请选择承办单位"), pickButtons(c, openCase));
  }
  if (["operator", "admin"].includes(role) && ["accepted", "returned"].includes(c.status)) {
    buttons.push(unit, move("dispatch", () => ({ lead_unit_code: unit.value.trim() || null })));
  }
  if (["unit_staff", "admin"].includes(role)) {
    if (c.status === "dispatched") buttons.push(move("acknowledge", () => ({})));
    if (["dispatched", "acknowledged"].includes(c.status)) buttons.push(move("return", withNote("reason")));
    if (c.status === "acknowledged") buttons.push(move("start", () => ({})));
    if (["acknowledged", "in_progress"].includes(c.status)) buttons.push(move("resolve", withNote("reply")));
  }
  if (["operator", "supervisor", "admin"].includes(role) && ["resolved", "rated"].includes(c.status)) buttons.push(move("close", () => ({})));
  const noteButton = el("button", { type: "button", class: "secondary", onclick: () => note.value.trim()
    && post(`cases/${c.number}/notes`, { text: note.value.trim(), public: true }, c.number) }, "答复市民");
  const supervise = el("button", { type: "button", class: "secondary",
    onclick: () => post(`cases/${c.number}/supervise`, { text: note.value.trim() || "请加快办理" }, c.number) }, "督办");
  if (role !== "supervisor") buttons.push(noteButton);
  if (["supervisor", "admin"].includes(role) && ["accepted", "dispatched", "returned", "acknowledged", "in_progress"].includes(c.status)) buttons.push(supervise);
  box.append(el("h2", {}, "操作"), note, el("div", { class: "row" }, buttons));
  return box;
}

// --- review: cases smart dispatch was unsure of; one click picks the unit and re-dispatches -------
export async function loadReview() {
  const cases = await backend("cases?needs_review=true&limit=100");
  $("review-count").textContent = cases.length ? String(cases.length) : "";
  $("review-count").hidden = !cases.length;
  $("review-rows").replaceChildren(...cases.map((c) => el("tr", { "data-number": c.number },
    el("td", { class: "clickable", ...opens(() => openCase(c.number)) }, c.number),
    el("td", { class: "text" }, c.description.length > 60 ? `${c.description.slice(0, 60)}…` : c.description),
    el("td", {}, [c.district, c.street].filter(Boolean).join("") || "未识别"),
    el("td", {}, c.lead_unit ? c.lead_unit.name : "待派单"),
    el("td", { class: "muted" }, `${c.category_name || "未分类"}（部门置信度 ${Math.round((c.department_confidence || 0) * 100)}%）`),
    el("td", {}, pickButtons(c, loadReview)))));
  if (!cases.length) $("review-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有待定派单的工单")));
}

function pickButtons(c, after) {
  return el("div", { class: "row picks" }, c.review_choices.map((unit) => el("button", {
    type: "button", class: "secondary pick", "data-unit": unit.key, onclick: async () => {
      try {
        await backend(`cases/${c.number}/transitions`, { method: "POST", body: { move: "dispatch", lead_unit_code: unit.key } });
        $("review-result").textContent = `工单 ${c.number} 已派至${unit.name}`;
        after(c.number);
      } catch (error) { failed(error); }
    } }, unit.name)));
}

// Overdue alerts (临期, 超期) for the lead unit and the supervisors: a count on the 督办 tab, the list in it.
export const watchesAlerts = () => ["unit_staff", "supervisor", "admin"].includes(state.me.role);
export async function loadAlerts() {
  if (!watchesAlerts()) return;
  const alerts = await backend("supervision/alerts");
  $("alert-count").textContent = alerts.length ? String(alerts.length) : "";
  $("alert-count").hidden = !alerts.length;
  refill($("alert-rows"), alerts.map((a) => el("tr", { class: "clickable", "data-number": a.number, ...opens(() => openCase(a.number)) },
    el("td", {}, el("span", { class: a.kind === "overdue" ? "tag red" : "tag" }, a.kind_label)), el("td", {}, a.number),
    el("td", {}, a.category_name || "未分类"), el("td", {}, a.place), el("td", {}, a.unit_name || "待派单"), el("td", {}, when(a.due_at)))));
  if (!alerts.length) $("alert-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有督办提醒")));
}

export async function loadOverdue() {
  loadAlerts().catch(failed);
  const cases = await backend("supervision/overdue");
  refill($("overdue-rows"), cases.map((c) => el("tr", { class: "clickable", "data-number": c.number, ...opens(() => openCase(c.number)) },
    el("td", {}, c.number), el("td", {}, c.category_name || "未分类"), el("td", {}, c.lead_unit ? c.lead_unit.name : "待派单"),
    el("td", {}, when(c.due_at)), el("td", { class: "overdue" }, lasting(Math.floor((Date.now() - new Date(c.due_at)) / 1000))), el("td", {}, c.status_label))));
  if (!cases.length) $("overdue-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有超期工单")));
}
