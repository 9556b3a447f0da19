// What every part of the console shares: DOM helpers, the API with errors in Chinese, the toast, times.
export const state = { me: null };
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
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

// A row or list item that opens something, by mouse or by keyboard: it takes the focus (Tab) and Enter or
// Space opens it, like a button.
export function opens(action) {
  return { tabindex: "0", onclick: action,
    onkeydown: (event) => { if (event.target === event.currentTarget && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); action(); } } };
}

// A list refreshed while a keyboard user stands on one of its items keeps their place: the same item (by
// its data-number, data-id, data-key or data-cluster) takes the focus again in the new rows, so an Enter
// pressed after a refresh still opens what the user was on.
const KEYS = ["number", "id", "key", "cluster"];
export function refill(box, items) {
  const held = box.contains(document.activeElement) ? document.activeElement : null;
  const key = held ? KEYS.find((k) => held.dataset[k] !== undefined) : undefined;
  box.replaceChildren(...items);
  if (!key) return;
  const again = [...box.querySelectorAll("[tabindex]")].find((n) => n.dataset[key] === held.dataset[key]);
  if (again) again.focus();
}

// The backend answers in English; the gateway's own refusals are Chinese and say more ("该会话已由…接管").
const FAILED = {
  400: "请求有误，请检查后再试", 403: "您没有权限进行这个操作", 404: "没有找到，可能已被删除",
  409: "操作冲突，请刷新后再试", 413: "内容太长", 422: "填写的内容不完整或格式不对", 429: "操作太频繁，请稍后再试",
  500: "系统出错，请稍后再试", 502: "后台服务暂时不可用，请稍后再试", 503: "服务暂时不可用，请稍后再试",
};
const HAN = /[\u4e00-\u9fff]/;
export function failure(status, data) {
  const detail = data && typeof data.detail === "string" ? data.detail : "";
  if (HAN.test(detail)) return detail;
  return FAILED[status] || (status >= 500 ? FAILED[500] : `操作未成功（错误 ${status}）`);
}

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.body && typeof options.body !== "string") {
    options.body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  let answer;
  try { answer = await fetch(path, { ...options, headers }); }
  catch { throw new Error("网络连接中断，请检查网络后再试"); }
  if (answer.status === 401) { location.href = "/console/login"; throw new Error("登录已过期，请重新登录"); }
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!answer.ok) throw Object.assign(new Error(failure(answer.status, data)), { status: answer.status });
  return data;
}
export const backend = (path, options) => api(`/console/api/backend/api/v1/${path}`, options);

// Errors and short confirmations in the page, never alert(): they fade after a few seconds.
export function toast(text, kind = "error") {
  const box = $("toasts");
  const note = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  box.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 4000);
}
export const failed = (error) => toast(error && error.message ? error.message : "操作未成功，请稍后再试");
window.addEventListener("unhandledrejection", (event) => { event.preventDefault(); failed(event.reason); });

const pad = (n) => String(n).padStart(2, "0");
// Times are Beijing's whatever this computer's time zone: the hotline, its time limits and its staff are there.
const BEIJING = { timeZone: "Asia/Shanghai" };
const beijingParts = new Intl.DateTimeFormat("en-CA", {
  ...BEIJING, year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
function inBeijing(t) {
  const p = Object.fromEntries(beijingParts.formatToParts(t).map((part) => [part.type, part.value]));
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hm: `${p.hour}:${p.minute}` };
}
export const when = (iso) => iso ? new Date(iso).toLocaleString("zh-CN", { ...BEIJING, hour12: false }) : "";
// A message's time: HH:MM today, with the date before it on other days (and the year in other years).
export function clock(iso, now = new Date()) {
  if (!iso) return "";
  const t = inBeijing(new Date(iso));
  const today = inBeijing(now);
  if (t.year === today.year && t.month === today.month && t.day === today.day) return t.hm;
  const day = `${t.month}月${t.day}日`;
  return t.year === today.year ? `${day} ${t.hm}` : `${t.year}年${day} ${t.hm}`;
}
// Today in Beijing as YYYY-MM-DD, whatever the time zone of this computer.
export const beijingToday = () => new Intl.DateTimeFormat("en-CA", BEIJING).format(new Date());
export const minutes = (s) => s < 60 ? `${s}秒` : `${Math.floor(s / 60)}分${s % 60}秒`;
// How long past a time limit: days and hours, hours and minutes, or minutes and seconds.
export function lasting(s) {
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  return d ? `${d}天${h}小时` : h ? `${h}小时${m}分` : minutes(s);
}
