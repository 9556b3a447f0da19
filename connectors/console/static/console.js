// The 12345 operators' console: conversations and takeover, phone intake, cases, supervision, rates.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const REASONS = { requested: "市民要求人工", repeated_fallback: "多次未能识别", anger: "情绪激动",
    repeat_complaint: "重复投诉未解决", emergency: "紧急情况", operator_left: "客服断线重排",
    bot_error: "智能助手未能回复" };
  const APPEAL = { complaint: "投诉", report: "举报", help: "求助", consultation: "咨询", suggestion: "建议", praise: "表扬" };
  const STATUS = { accepted: "已受理", dispatched: "已派单", returned: "已退单", acknowledged: "已签收",
    in_progress: "办理中", resolved: "已办结", rated: "已回访", closed: "已归档" };
  const AUTHOR = { citizen: "市民", bot: "智能助手", system: "系统", operator: "人工客服" };
  let me = null;
  let current = null;   // the conversation on screen
  let reference = { categories: [], places: [] };

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  async function api(path, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (options.body && typeof options.body !== "string") {
      options.body = JSON.stringify(options.body);
      headers["Content-Type"] = "application/json";
    }
    const answer = await fetch(path, { ...options, headers });
    if (answer.status === 401) { location.href = "/console/login"; throw new Error("请先登录"); }
    const text = await answer.text();
    const data = text ? JSON.parse(text) : null;
    if (!answer.ok) throw new Error((data && data.detail) || `请求失败（${answer.status}）`);
    return data;
  }
  const backend = (path, options) => api(`/console/api/backend/api/v1/${path}`, options);
  const when = (iso) => iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
  const minutes = (s) => s < 60 ? `${s}秒` : `${Math.floor(s / 60)}分${s % 60}秒`;

  // --- tabs ------------------------------------------------------------------------------------
  function show(tab) {
    for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `tab-${tab}`;
    for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.tab === tab);
    ({ queue: loadQueue, review: loadReview, cases: searchCases, overdue: loadOverdue, stats: loadStats, phone: () => {} })[tab]?.();
  }
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));

  // --- conversations ----------------------------------------------------------------------------
  async function loadQueue() {
    const queue = await api("/console/api/queue");
    $("wait-count").textContent = `（${queue.waiting.length}）`;
    fill("waiting", queue.waiting, (c) => [
      el("span", { class: c.too_long ? "tag red" : "tag" }, `等待 ${minutes(c.waited_s || 0)}`),
      el("span", { class: "tag" }, REASONS[c.reason] || c.reason || ""), channelTag(c), el("div", { class: "muted" }, c.last_text)]);
    fill("held", queue.held, (c) => [el("span", { class: "tag" }, c.operator), channelTag(c), el("div", { class: "muted" }, c.last_text)]);
    fill("live", queue.live, (c) => [channelTag(c), el("div", { class: "muted" }, c.last_text)]);
  }
  const channelTag = (c) => el("span", { class: "tag" }, `${c.channel === "telegram" ? "Telegram" : "网页"} …${c.identity}`);

  function fill(id, items, render) {
    const list = $(id);
    list.replaceChildren(...items.map((c) => el("li", {
      class: [c.too_long ? "late" : "", current && current.id === c.id ? "active" : ""].join(" "),
      "data-id": c.id, onclick: () => openConversation(c.id),
    }, render(c))));
    if (!items.length) list.append(el("li", { class: "muted" }, "暂无"));
  }

  // The conversation the operator chose last. While it loads, the action buttons are off, so a quick
  // click on "claim" can never act on the conversation that was on screen before; answers for a
  // conversation that is no longer the chosen one are dropped.
  let chosen = null;
  async function openConversation(id) {
    if (!current || current.id !== id) {
      for (const b of ["claim", "handback", "close", "say", "say-send", "make-case"]) $(b).disabled = true;
    }
    chosen = id;
    const c = await api(`/console/api/conversations/${id}`);
    if (chosen !== id) return;
    current = c;
    renderConversation();
    loadQueue();
  }

  function renderConversation() {
    const c = current;
    const mine = c.handling === "operator" && c.operator === me.username;
    $("conv-title").textContent = `会话 #${c.id}（${c.channel}）` + (c.reason ? ` · ${REASONS[c.reason] || c.reason}` : "")
      + (c.operator ? ` · ${c.operator} 服务中` : "");
    $("transcript").replaceChildren(...c.transcript.map(line));
    $("transcript").scrollTop = $("transcript").scrollHeight;
    $("claim").disabled = c.handling === "operator";
    for (const id of ["handback", "close", "say", "say-send"]) $(id).disabled = !mine;
    $("make-case").disabled = false;
    const info = Object.entries(c.collected || {}).filter(([k]) => !["attachments", "location", "routing"].includes(k));
    $("collected").replaceChildren(el("div", {}, "已收集：", info.length ? info.map(([k, v]) => `${k}=${v}`).join("；") : "无"));
  }

  function line(m) {
    const photos = (m.attachments || []).map((a) => a.ref.startsWith("upload:")
      ? el("a", { href: `/console/uploads/${a.ref.slice(7)}`, target: "_blank" }, " [查看图片]") : null);
    const place = m.location ? ` [位置 ${m.location.latitude},${m.location.longitude}]` : "";
    return el("div", { class: `line ${m.author}${m.internal ? " internal" : ""}` },
      el("div", { class: "who" }, `${AUTHOR[m.author] || m.author} · ${when(m.created_at)}`),
      el("span", { class: "text" }, m.text + place), photos);
  }

  async function act(path, body) {
    try {
      await api(`/console/api/conversations/${current.id}/${path}`, { method: "POST", body: body || {} });
      await openConversation(current.id);
    } catch (error) { alert(error.message); }
  }
  $("claim").addEventListener("click", () => act("claim"));
  $("handback").addEventListener("click", () => act("release", { close: false }));
  $("close").addEventListener("click", () => act("release", { close: true }));
  $("say-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("say").value.trim();
    if (!text) return;
    $("say").value = "";
    await act("messages", { text });
  });

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

  function caseBody(form) {
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

  function liveEvents() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/console/ws`);
    const ping = setInterval(() => socket.readyState === 1 && socket.send("ping"), 20000);
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "case_alert") loadAlerts();
      else if (current && chosen === current.id && frame.conversation_id === current.id) openConversation(current.id);
      else if (!$("tab-queue").hidden) loadQueue();
    };
    socket.onclose = () => {  // a login that ended goes back to the login page (api does that on 401)
      clearInterval(ping);
      api("/console/api/me").then(() => setTimeout(liveEvents, 2000), () => setTimeout(liveEvents, 2000));
    };
  }

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
          el("dt", {}, "时限"), el("dd", { class: s.urgency === "emergency" ? "overdue" : "" }, `${s.response_hours}小时（${s.urgency}）`),
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
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); searchCases(); });
  async function searchCases() {
    const params = new URLSearchParams();
    if ($("search-q").value.trim()) params.set("q", $("search-q").value.trim());
    if ($("search-status").value) params.set("status", $("search-status").value);
    if ($("search-overdue").checked) params.set("overdue", "true");
    const cases = await backend(`cases?${params}`);
    $("case-rows").replaceChildren(...cases.map(caseRow));
  }
  function caseRow(c) {
    return el("tr", { class: "clickable", onclick: () => openCase(c.number) },
      el("td", {}, c.number), el("td", {}, c.category_name || "未分类"), el("td", {}, [c.district, c.street].filter(Boolean).join("")),
      el("td", {}, c.lead_unit ? c.lead_unit.name : "—"), el("td", {}, c.status_label),
      el("td", { class: c.overdue ? "overdue" : "" }, `${when(c.due_at)}${c.overdue ? " 超期" : ""}`));
  }

  async function openCase(number) {
    if (location.hash !== "#cases") location.hash = "#cases";
    const c = await backend(`cases/${number}`);
    const box = $("case-detail");
    box.replaceChildren(el("h2", {}, `工单 ${c.number}`),
      el("dl", { class: "kv" },
        ...kv("状态", `${c.status_label}${c.overdue ? "（超期）" : ""}`), ...kv("类型", c.appeal_type_label),
        ...kv("分类", c.category_name || "未分类"), ...kv("描述", c.description),
        ...kv("地点", `${c.address || ""} ${[c.district, c.street].filter(Boolean).join("")}`),
        ...kv("联系人", c.anonymous ? "匿名" : `${c.contact_name || ""} ${c.contact_phone || ""}`),
        ...kv("渠道", c.channel), ...kv("承办单位", (c.lead_unit ? c.lead_unit.name : "待派单") + (c.needs_review ? "（待人工确认）" : "")),
        ...kv("协办", c.co_units.map((u) => u.name).join("、") || "无"), ...kv("时限", `${c.time_limit_label}，${when(c.due_at)}前`),
        ...kv("答复", c.reply || "—"), ...kv("关联工单", c.related.join("、") || "无"),
        ...kv("图片", (c.attachments || []).length ? c.attachments.map((a) => a.ref).join("、") : "无")),
      el("h2", {}, "办理过程"),
      el("ul", { class: "timeline" }, c.timeline.map((u) => el("li", {},
        el("div", {}, `${when(u.created_at)} · ${u.actor || ""} · ${u.kind}${u.to_status ? " → " + (STATUS[u.to_status] || u.to_status) : ""}`),
        u.note ? el("div", { class: "muted" }, u.note) : null))),
      actions(c));
  }
  const kv = (k, v) => [el("dt", {}, k), el("dd", {}, v)];

  function actions(c) {
    const box = el("div", {});
    const note = el("input", { placeholder: "原因 / 答复 / 备注" });
    const unit = el("input", { placeholder: "派单对象代码，如 housing 或 street_office:110105026" });
    const move = (m, extra = {}) => el("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const body = { move: m, ...extra() };
        await backend(`cases/${c.number}/transitions`, { method: "POST", body });
        openCase(c.number);
      } catch (error) { alert(error.message); }
    } }, { dispatch: "派单", acknowledge: "签收", return: "退单", start: "开始办理", resolve: "办结", close: "归档" }[m]);
    const withNote = (field) => () => (note.value.trim() ? { [field]: note.value.trim() } : {});
    const buttons = [];
    if (["operator", "admin"].includes(me.role) && c.needs_review) {
      box.append(el("h2", {}, "智能派单不确定，请选择承办单位"), pickButtons(c, openCase));
    }
    if (["operator", "admin"].includes(me.role) && ["accepted", "returned"].includes(c.status)) {
      buttons.push(unit, move("dispatch", () => ({ lead_unit: unit.value.trim() || null })));
    }
    if (["unit_staff", "admin"].includes(me.role)) {
      if (c.status === "dispatched") buttons.push(move("acknowledge", () => ({})));
      if (["dispatched", "acknowledged"].includes(c.status)) buttons.push(move("return", withNote("reason")));
      if (c.status === "acknowledged") buttons.push(move("start", () => ({})));
      if (["acknowledged", "in_progress"].includes(c.status)) buttons.push(move("resolve", withNote("reply")));
    }
    if (["operator", "supervisor", "admin"].includes(me.role) && ["resolved", "rated"].includes(c.status)) buttons.push(move("close", () => ({})));
    const noteButton = el("button", { type: "button", class: "secondary", onclick: async () => {
      if (!note.value.trim()) return;
      try { await backend(`cases/${c.number}/notes`, { method: "POST", body: { text: note.value.trim(), public: true } }); openCase(c.number); }
      catch (error) { alert(error.message); }
    } }, "答复市民");
    const supervise = el("button", { type: "button", class: "secondary", onclick: async () => {
      try { await backend(`cases/${c.number}/supervise`, { method: "POST", body: { text: note.value.trim() || "请加快办理" } }); openCase(c.number); }
      catch (error) { alert(error.message); }
    } }, "督办");
    if (me.role !== "supervisor") buttons.push(noteButton);
    if (["supervisor", "admin"].includes(me.role) && STATUS[c.status] && ["accepted", "dispatched", "returned", "acknowledged", "in_progress"].includes(c.status)) buttons.push(supervise);
    box.append(el("h2", {}, "操作"), note, el("div", { class: "row" }, buttons));
    return box;
  }

  // --- review: cases smart dispatch was unsure of; one click picks the unit and re-dispatches -------
  async function loadReview() {
    const cases = await backend("cases?needs_review=true&limit=100");
    $("review-count").textContent = cases.length ? String(cases.length) : "";
    $("review-count").hidden = !cases.length;
    $("review-rows").replaceChildren(...cases.map((c) => el("tr", { "data-number": c.number },
      el("td", { class: "clickable", onclick: () => openCase(c.number) }, c.number),
      el("td", {}, c.description.length > 60 ? `${c.description.slice(0, 60)}…` : c.description),
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
          await backend(`cases/${c.number}/transitions`, { method: "POST", body: { move: "dispatch", lead_unit: unit.key } });
          $("review-result").textContent = `工单 ${c.number} 已派至${unit.name}`;
          after(c.number);
        } catch (error) { alert(error.message); }
      } }, unit.name)));
  }

  // Overdue alerts (临期, 超期) for the lead unit and the supervisors: a count on the 督办 tab, the list in it.
  const watchesAlerts = () => ["unit_staff", "supervisor", "admin"].includes(me.role);
  async function loadAlerts() {
    if (!watchesAlerts()) return;
    const alerts = await backend("supervision/alerts");
    $("alert-count").textContent = alerts.length ? String(alerts.length) : "";
    $("alert-count").hidden = !alerts.length;
    $("alert-rows").replaceChildren(...alerts.map((a) => el("tr", { class: "clickable", onclick: () => openCase(a.number) },
      el("td", {}, el("span", { class: a.kind === "overdue" ? "tag red" : "tag" }, a.kind_label)), el("td", {}, a.number),
      el("td", {}, a.category_name || "未分类"), el("td", {}, a.place), el("td", {}, a.unit_name || "待派单"), el("td", {}, when(a.due_at)))));
    if (!alerts.length) $("alert-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有督办提醒")));
  }

  async function loadOverdue() {
    loadAlerts();
    const cases = await backend("supervision/overdue");
    $("overdue-rows").replaceChildren(...cases.map((c) => el("tr", { class: "clickable", onclick: () => openCase(c.number) },
      el("td", {}, c.number), el("td", {}, c.category_name || "未分类"), el("td", {}, c.lead_unit ? c.lead_unit.name : "待派单"),
      el("td", {}, when(c.due_at)), el("td", { class: "overdue" }, minutes(Math.floor((Date.now() - new Date(c.due_at)) / 1000))), el("td", {}, c.status_label))));
    if (!cases.length) $("overdue-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有超期工单")));
  }

  // --- rates and hotspots -----------------------------------------------------------------------------
  $("stats-form").addEventListener("submit", (event) => { event.preventDefault(); loadStats(); });
  const pct = (v) => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
  async function loadStats() {
    const params = new URLSearchParams({ group_by: $("stats-group").value });
    if ($("stats-start").value) params.set("start", $("stats-start").value);
    if ($("stats-end").value) params.set("end", $("stats-end").value);
    const [grouped, total, hot] = await Promise.all([
      backend(`stats/rates?${params}`), backend(`stats/rates?${new URLSearchParams({ ...Object.fromEntries(params), group_by: "none" })}`),
      backend(`stats/hotspots?${params}`)]);
    const all = total.rows[0];
    $("rates-total").replaceChildren(all ? el("p", {}, `共受理 ${all.accepted} 件 · 响应率 ${pct(all.rates.response_rate)} · 解决率 ${pct(all.rates.resolution_rate)} · 满意率 ${pct(all.rates.satisfaction_rate)} · 超期 ${all.overdue} 件`) : el("p", { class: "muted" }, "该时段没有工单"));
    $("rates-rows").replaceChildren(...grouped.rows.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.accepted),
      el("td", {}, pct(r.rates.response_rate)), el("td", {}, pct(r.rates.resolution_rate)), el("td", {}, pct(r.rates.satisfaction_rate)),
      el("td", { class: r.overdue ? "overdue" : "" }, r.overdue))));
    $("rates-chart").replaceChildren(bars(grouped.rows.slice(0, 10).map((r) => [r.name, r.rates.satisfaction_rate || 0, pct(r.rates.satisfaction_rate)]), "满意率"));
    $("hotspot-rows").replaceChildren(...hot.hotspots.map((h) => el("tr", {}, el("td", {}, h.category_name),
      el("td", {}, `${h.district}${h.street || ""}`), el("td", {}, h.count), el("td", {}, h.previous))));
    const most = Math.max(1, ...hot.hotspots.map((h) => h.count));
    $("hotspots-chart").replaceChildren(bars(hot.hotspots.slice(0, 10).map((h) => [`${h.category_name}·${h.street || h.district}`, h.count / most, `${h.previous}→${h.count}`]), "件数"));
  }

  function bars(rows, title) {
    const ns = "http://www.w3.org/2000/svg";
    const height = 22 * rows.length + 24;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "bars");
    svg.setAttribute("width", "100%");
    svg.setAttribute("viewBox", `0 0 700 ${height}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    rows.forEach(([label, share, text], i) => {
      const y = 20 + i * 22;
      const name = document.createElementNS(ns, "text");
      name.setAttribute("x", 0); name.setAttribute("y", y + 12); name.textContent = label.slice(0, 18);
      const bar = document.createElementNS(ns, "rect");
      bar.setAttribute("x", 240); bar.setAttribute("y", y); bar.setAttribute("height", 14);
      bar.setAttribute("width", Math.max(2, share * 380)); bar.setAttribute("fill", "#c0392b");
      const value = document.createElementNS(ns, "text");
      value.setAttribute("x", 248 + Math.max(2, share * 380)); value.setAttribute("y", y + 12); value.textContent = text;
      svg.append(name, bar, value);
    });
    return svg;
  }

  // --- start -------------------------------------------------------------------------------------------
  async function start() {
    me = await api("/console/api/me");
    $("who").textContent = `${me.display_name}（${{ operator: "接线员", unit_staff: "承办单位", supervisor: "督办", admin: "管理员" }[me.role] || me.role}${me.unit_name ? " · " + me.unit_name : ""}）`;
    for (const link of document.querySelectorAll("[data-hotline]")) link.hidden = !me.handles_conversations;
    for (const link of document.querySelectorAll("[data-intake]")) link.hidden = !["operator", "admin"].includes(me.role);
    const appeal = Object.entries(APPEAL).map(([k, v]) => el("option", { value: k }, v));
    for (const select of document.querySelectorAll("select[name=appeal_type]")) select.replaceChildren(...appeal.map((o) => o.cloneNode(true)));
    $("search-status").append(...Object.entries(STATUS).map(([k, v]) => el("option", { value: k }, v)));
    reference.categories = await backend("categories");
    $("phone-category").append(...reference.categories.map((c) => el("option", { value: c.code }, `${c.group} · ${c.name}`)));
    const first = me.handles_conversations ? "queue" : "cases";
    show(location.hash.slice(1) || first);
    $("alerts-card").hidden = !watchesAlerts();
    loadAlerts();
    if (["operator", "admin"].includes(me.role)) loadReview();
    if (me.handles_conversations || watchesAlerts()) liveEvents();
    if (me.handles_conversations) setInterval(() => !$("tab-queue").hidden && loadQueue(), 5000);
  }
  $("logout").addEventListener("click", async () => { await api("/console/api/logout", { method: "POST" }); location.href = "/console/login"; });
  start();
})();
