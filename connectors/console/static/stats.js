// The three rates (三率) by unit, district or category, and the hotspots that grew since the last period.
import { $, backend, el, failed } from "./common.js";

$("stats-form").addEventListener("submit", (event) => { event.preventDefault(); loadStats().catch(failed); });
const pct = (v) => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;

export async function loadStats() {
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
