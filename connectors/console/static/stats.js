// 数据: the three rates (三率) as weekly trend lines, the month's ranking of units (月度排名), cases and hotspots
// on a grid of Beijing's 16 districts, and the rates by unit, district or category with the rising hotspots.
import { asPercent, draw, percentAxis, RED } from "./charts.js";
import { $, backend, beijingToday, el, failed } from "./common.js";
import { UNIT_KIND } from "./labels.js";

const pct = (v) => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
const RATES = [["response_rate", "响应率"], ["resolution_rate", "解决率"], ["satisfaction_rate", "满意率"]];
const TREND_WEEKS = 12;
// Where each district's tile stands (row, column) on a 5 × 5 grid: their rough places on the map of Beijing,
// north up; codes as in backend/reference/data/beijing_districts.csv.
const TILES = { 110119: [1, 1], 110116: [1, 3], 110118: [1, 4], 110114: [2, 2], 110113: [2, 4], 110117: [2, 5],
  110109: [3, 1], 110108: [3, 2], 110102: [3, 3], 110101: [3, 4], 110105: [3, 5], 110107: [4, 2], 110106: [4, 3],
  110112: [4, 5], 110111: [5, 2], 110115: [5, 3] };

function mondayWeeksBefore(day, weeks) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7) - 7 * weeks);
  return date.toISOString().slice(0, 10);
}
const shown = (id) => !$(id).closest("[hidden]");

$("ranking-kind").append(...Object.entries(UNIT_KIND).map(([k, v]) => el("option", { value: k }, v)));
$("stats-form").addEventListener("submit", (event) => { event.preventDefault(); loadStats().catch(failed); });
$("ranking-form").addEventListener("submit", (event) => { event.preventDefault(); loadRanking().catch(failed); });

export async function loadStats() {
  const period = new URLSearchParams();
  if ($("stats-start").value) period.set("start", $("stats-start").value);
  if ($("stats-end").value) period.set("end", $("stats-end").value);
  await Promise.all([loadTrend(), loadRates(period), shown("ranking-rows") ? loadRanking() : null,
    shown("district-grid") ? loadPlaces(period) : null]);
}

async function loadTrend() {
  const end = $("stats-end").value || beijingToday();
  const start = $("stats-start").value || mondayWeeksBefore(end, TREND_WEEKS - 1);
  const weeks = await backend(`stats/rates?${new URLSearchParams({ start, end, group_by: "week" })}`);
  $("trend-title").textContent = `三率周趋势（${start} 至 ${end}，按周一起算）`;
  draw($("trend-chart"), {
    type: "line",
    labels: weeks.rows.map((r) => r.name.replace(/起$/, "")),
    datasets: RATES.map(([key, name], i) => ({ label: name, data: weeks.rows.map((r) => asPercent(r.rates[key])),
      borderColor: ["#1f6feb", "#1a7f37", RED][i], backgroundColor: ["#1f6feb", "#1a7f37", RED][i], spanGaps: true })),
    summary: `近${weeks.rows.length}周三率趋势`,
    options: { scales: { y: percentAxis } },
  });
}

async function loadRates(period) {
  const grouped = new URLSearchParams(period);
  grouped.set("group_by", $("stats-group").value);
  const [rows, total, hot] = await Promise.all([backend(`stats/rates?${grouped}`),
    backend(`stats/rates?${period}`), backend(`stats/hotspots?${period}`)]);
  const all = total.rows[0];
  $("rates-total").replaceChildren(all ? el("p", {}, `共受理 ${all.accepted} 件 · 响应率 ${pct(all.rates.response_rate)} · 解决率 ${pct(all.rates.resolution_rate)} · 满意率 ${pct(all.rates.satisfaction_rate)} · 超期 ${all.overdue} 件`) : el("p", { class: "muted" }, "该时段没有工单"));
  $("rates-rows").replaceChildren(...rows.rows.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.accepted),
    ...RATES.map(([key]) => el("td", {}, pct(r.rates[key]))), el("td", { class: r.overdue ? "overdue" : "" }, r.overdue))));
  const top = rows.rows.slice(0, 10);
  $("rates-box").style.height = `${90 + 30 * top.length}px`;
  draw($("rates-chart"), {
    type: "bar", labels: top.map((r) => short(r.name)),
    datasets: RATES.map(([key, name], i) => ({ label: name, data: top.map((r) => asPercent(r.rates[key])),
      backgroundColor: ["#1f6feb", "#1a7f37", RED][i] })),
    summary: "受理最多的十个的三率", options: { indexAxis: "y", scales: { x: percentAxis } },
  });
  $("hotspot-rows").replaceChildren(...hot.hotspots.map((h) => el("tr", {}, el("td", {}, h.category_name),
    el("td", {}, `${h.district}${h.street || ""}`), el("td", {}, h.count), el("td", {}, h.previous))));
  if (!hot.hotspots.length) $("hotspot-rows").append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "没有上升的热点")));
}
const short = (name) => (name.length > 12 ? `${name.slice(0, 11)}…` : name);

// The month's ranking: the score is the mean of the three rates; units with too few ratings follow unranked.
async function loadRanking() {
  if (!$("ranking-month").value) $("ranking-month").value = beijingToday().slice(0, 7);
  const params = new URLSearchParams({ month: $("ranking-month").value, unit_kind: $("ranking-kind").value });
  const ranking = await backend(`stats/ranking?${params}`);
  $("ranking-rows").replaceChildren(...ranking.rows.map((r) => el("tr", { "data-key": r.key },
    el("td", {}, r.rank ?? "—"), el("td", {}, r.name), el("td", {}, r.score ?? "不排名"),
    ...RATES.map(([key]) => el("td", {}, pct(r.rates[key]))), el("td", {}, r.rated))));
  if (!ranking.rows.length) $("ranking-rows").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "本月还没有工单")));
  const ranked = ranking.rows.filter((r) => r.rank !== null).slice(0, 15);
  $("ranking-box").style.height = `${70 + 28 * Math.max(ranked.length, 1)}px`;
  draw($("ranking-chart"), {
    type: "bar", labels: ranked.map((r) => `${r.rank}. ${short(r.name)}`),
    datasets: [{ label: "综合得分（三率平均）", data: ranked.map((r) => r.score), backgroundColor: RED }],
    summary: `${ranking.month} 月度排名`, options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
  });
}

// The 16 districts as tiles, darker the more cases; a tile opens its busiest streets and their hotspots.
async function loadPlaces(period) {
  const places = await backend(`stats/places?${period}`);
  const most = Math.max(1, ...places.districts.map((d) => d.count));
  $("district-grid").replaceChildren(...places.districts.map((d) => tile(d, most)));
  const chosen = places.districts.find((d) => d.district_code === $("district-grid").dataset.chosen);
  if (chosen) showDistrict(chosen); else $("district-detail").replaceChildren(el("p", { class: "muted" }, "点选一个区查看其街道（乡镇）和热点。"));
}

function tile(district, most) {
  const share = district.count / most;
  const button = el("button", { type: "button", class: "district", "data-code": district.district_code,
    "data-count": district.count, "aria-pressed": String($("district-grid").dataset.chosen === district.district_code),
    "aria-label": `${district.district}：${district.count}件${district.hotspots ? `，热点${district.hotspots}个` : ""}`,
    onclick: () => showDistrict(district) },
  el("span", { class: "district__name" }, district.district), el("span", { class: "district__count" }, district.count),
  district.hotspots ? el("span", { class: "district__hot" }, `热点${district.hotspots}`) : null);
  const [row, column] = TILES[district.district_code] || [6, 1];
  Object.assign(button.style, { gridRow: String(row), gridColumn: String(column),
    background: district.count ? `rgba(192, 57, 43, ${(0.12 + 0.88 * share).toFixed(2)})` : "#f6f8fa",
    color: share > 0.5 ? "#fff" : "#1f2328" });
  return button;
}

function showDistrict(district) {
  $("district-grid").dataset.chosen = district.district_code;
  for (const other of $("district-grid").children) other.setAttribute("aria-pressed", String(other.dataset.code === district.district_code));
  $("district-detail").replaceChildren(el("h3", {}, `${district.district}：${district.count}件`),
    district.streets.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "街道（乡镇）"), el("th", {}, "件数"), el("th", {}, "上升的热点"))),
      el("tbody", { id: "district-streets" }, district.streets.map((s) => el("tr", { "data-code": s.street_code },
        el("td", {}, s.street), el("td", {}, s.count), el("td", { class: s.rising.length ? "overdue" : "muted" }, s.rising.join("、") || "无")))))
      : el("p", { class: "muted" }, "该时段没有工单"));
}
