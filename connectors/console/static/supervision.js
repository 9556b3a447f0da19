// 督办 beside the overdue list (cases.js): open cases due soon and overdue by unit, summonses (吹哨) nobody has
// checked in to, 报到率 per department, and 主动治理: clusters of similar appeals, one marked as this month's topic.
import { draw, RED } from "./charts.js";
import { $, backend, beijingToday, el, failed, opens, refill, toast, when } from "./common.js";
import { openCase } from "./cases.js";
import { STATUS, label } from "./labels.js";

const shown = (id) => !$(id).closest("[hidden]");
const rate = (v) => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;

export async function loadSupervision() {
  await Promise.all([loadDeadlines(), loadCheckIns(), shown("summons-rows") ? loadSummonses() : null,
    shown("cluster-list") ? loadClusters() : null, shown("topic-list") ? loadTopics() : null]);
}

async function loadDeadlines() {
  const { rows } = await backend("stats/deadlines");
  const top = rows.filter((r) => r.overdue || r.due_soon).slice(0, 12);
  $("deadline-box").style.height = `${90 + 30 * Math.max(top.length, 1)}px`;
  draw($("deadline-chart"), {
    type: "bar", labels: top.map((r) => (r.name.length > 12 ? `${r.name.slice(0, 11)}…` : r.name)),
    datasets: [{ label: "超期", data: top.map((r) => r.overdue), backgroundColor: RED },
      { label: "临期", data: top.map((r) => r.due_soon), backgroundColor: "#d4a72c" }],
    summary: `临期和超期工单最多的${top.length}个承办单位`,
    options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
  });
  $("deadline-empty").hidden = top.length > 0;
}

async function loadSummonses() {
  const summonses = await backend("supervision/summonses");
  refill($("summons-rows"), summonses.map((s) => el("tr", { class: "clickable", "data-number": s.number, ...opens(() => openCase(s.number)) },
    el("td", {}, s.number), el("td", {}, s.department_name), el("td", {}, s.unit_name), el("td", {}, s.place),
    el("td", { class: "text" }, s.reason), el("td", { class: s.overdue ? "overdue" : "" }, `${when(s.due_at)}${s.overdue ? " 超时未报到" : ""}`))));
  if (!summonses.length) $("summons-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "没有未报到的吹哨")));
}

async function loadCheckIns() {
  const { rows } = await backend("stats/check-ins");
  $("checkin-rows").replaceChildren(...rows.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.summoned),
    el("td", {}, r.on_time), el("td", {}, r.late), el("td", { class: r.missed ? "overdue" : "" }, r.missed), el("td", {}, r.waiting),
    el("td", {}, rate(r.check_in_rate)))));
  if (!rows.length) $("checkin-rows").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "近30天没有吹哨")));
}

// 主动治理: the newest scan's clusters, each with its (masked) cases; a supervisor marks one as this month's topic.
async function loadClusters() {
  let found;
  try { found = await backend("stats/clusters"); } catch (error) {
    if (error.status !== 404) throw error;
    $("cluster-list").replaceChildren(el("p", { class: "muted" }, "热点扫描还没有运行过。"));
    return;
  }
  $("cluster-scan").textContent = `扫描时间：${when(found.scan.ran_at)}，共${found.clusters.length}组相似诉求`;
  $("cluster-list").replaceChildren(...found.clusters.map(cluster));
  if (!found.clusters.length) $("cluster-list").append(el("p", { class: "muted" }, "没有发现相似诉求集中的街道。"));
}

function cluster(c) {
  const month = $("topic-month").value;
  const chosen = c.topics.some((t) => t.month === month);
  const note = el("input", { maxlength: "1000", "aria-label": `${c.district}${c.street}选题说明`, placeholder: "选题说明（可不填）" });
  const mark = el("button", { type: "button", class: "mark-topic", disabled: chosen, onclick: () => markTopic(c, note, mark) },
    chosen ? "已选为本月一题" : "选为本月一题");
  return el("article", { class: "cluster", "data-id": c.id },
    el("h3", {}, `${c.district}${c.street} · ${c.category_name || "多类"} · ${c.size}件`),
    el("p", { class: "muted" }, `关键词：${c.terms.join("、") || "—"}；${when(c.first_at)} 至 ${when(c.last_at)}`),
    el("ul", { class: "list cases" }, c.cases.map((k) => el("li", { "data-number": k.number, ...opens(() => openCase(k.number)) },
      el("span", { class: "tag" }, label(STATUS, k.status)), `${k.number} · ${k.description}`))),
    el("div", { class: "row" }, note, mark));
}

async function markTopic(c, note, button) {
  button.disabled = true;
  try {
    await backend(`stats/clusters/${c.id}/topic`, { method: "POST",
      body: { month: $("topic-month").value, note: note.value.trim() || null } });
    toast(`已将${c.district}${c.street}的${c.size}件相似诉求选为${$("topic-month").value}的一题`, "ok");
    button.textContent = "已选为本月一题";
    await loadTopics();
  } catch (error) { button.disabled = false; failed(error); }
}

async function loadTopics() {
  if (!$("topic-month").value) $("topic-month").value = beijingToday().slice(0, 7);
  const { topics } = await backend(`stats/topics?month=${$("topic-month").value}`);
  refill($("topic-list"), topics.map((t) => el("li", { "data-cluster": t.cluster.id, ...opens(() => openCase(t.cluster.cases[0].number)) },
    el("strong", {}, `${t.cluster.district}${t.cluster.street} · ${t.cluster.category_name || "多类"} · ${t.cluster.size}件`),
    el("div", { class: "muted" }, `${t.note || "无说明"}（${t.marked_by}，${when(t.marked_at)}）`))));
  if (!topics.length) $("topic-list").append(el("li", { class: "muted" }, "本月还没有选题"));
}
$("topic-form").addEventListener("submit", (event) => { event.preventDefault(); loadSupervision().catch(failed); });
