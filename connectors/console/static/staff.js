// Staff administration (admins only; the backend refuses everyone else): accounts created, deactivated,
// given a new password; Open311 keys issued, listed by fingerprint, revoked. A new password or key is
// shown once in the page, never in a dialog.
import { $, backend, el, failed, state, toast, when } from "./common.js";
import { ROLE, label } from "./labels.js";

const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;
const TERRITORIAL = { street_office: "街乡镇", district_government: "区" };
let units = null;  // departments and places, for the unit of handling-unit staff

export async function loadStaff() {
  if (!units) await loadUnits();
  const [staff, keys] = await Promise.all([backend("staff"), backend("open311/keys")]);
  $("staff-rows").replaceChildren(...staff.map(staffRow));
  $("key-rows").replaceChildren(...keys.map(keyRow));
  if (!keys.length) $("key-rows").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "尚未签发密钥")));
}

function staffRow(s) {
  const self = state.me && s.username === state.me.username;
  const toggle = el("button", { type: "button", class: "secondary", "data-action": s.active ? "deactivate" : "activate",
    "aria-label": `${s.active ? "停用" : "启用"} ${s.display_name}`, disabled: self,
    onclick: () => setActive(s, !s.active) }, s.active ? "停用" : "启用");
  const reset = el("button", { type: "button", class: "secondary", "data-action": "reset",
    "aria-label": `重设 ${s.display_name} 的密码`, onclick: () => resetPassword(s) }, "重设密码");
  return el("tr", { "data-username": s.username, class: s.active ? "" : "inactive" },
    el("td", {}, s.username), el("td", {}, s.display_name), el("td", {}, label(ROLE, s.role)),
    el("td", {}, s.unit_name || "—"),
    el("td", {}, el("span", { class: s.active ? "tag ok" : "tag" }, s.active ? "在用" : "已停用")),
    el("td", {}, el("div", { class: "row picks" }, toggle, reset)));
}

function keyRow(k) {
  const revoke = k.active ? el("button", { type: "button", class: "secondary", "data-action": "revoke",
    "aria-label": `吊销 ${k.name} 的密钥`, onclick: () => revokeKey(k) }, "吊销") : null;
  return el("tr", { "data-key-id": k.id, class: k.active ? "" : "inactive" },
    el("td", {}, k.id), el("td", {}, k.name), el("td", {}, el("code", {}, `••••${k.fingerprint}`)),
    el("td", {}, when(k.created_at)),
    el("td", {}, el("span", { class: k.active ? "tag ok" : "tag" }, k.active ? "有效" : "已吊销")), el("td", {}, revoke));
}

async function setActive(s, active) {
  try {
    await backend(`staff/${s.id}`, { method: "PATCH", body: { active } });
    toast(active ? `已启用 ${s.display_name}` : `已停用 ${s.display_name}，其登录已全部退出`, "ok");
  } catch (error) {
    toast(error.status === 409 ? "不能停用最后一位在用的管理员" : error.status === 422 ? "不能停用自己的账号" : error.message);
  }
  await loadStaff().catch(failed);
}

async function resetPassword(s) {
  try {
    const answer = await backend(`staff/${s.id}/password-reset`, { method: "POST" });
    secret("staff-secret", `${s.display_name}（${s.username}）的新密码`, answer.password, "原密码和已登录的会话都已失效。");
  } catch (error) { failed(error); }
}

async function revokeKey(k) {
  try {
    await backend(`open311/keys/${k.id}/revoke`, { method: "POST" });
    toast(`已吊销 ${k.name} 的密钥，使用它的请求将被拒绝`, "ok");
  } catch (error) { failed(error); }
  await loadStaff().catch(failed);
}

// A password or key shown this once: selectable text, a copy button, and a button to put it away.
function secret(id, title, value, note) {
  const box = $(id);
  const text = el("code", { class: "secret__value", tabindex: "0" }, value);
  const copy = el("button", { type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(value); toast("已复制", "ok"); }
    catch { getSelection().selectAllChildren(text); toast("请按 Ctrl+C（Mac 上 ⌘C）复制已选中的内容", "info"); }
  } }, "复制");
  const done = el("button", { type: "button", class: "secondary", onclick: () => { box.hidden = true; box.replaceChildren(); } }, "已记下，关闭");
  box.replaceChildren(el("strong", {}, title), el("div", { class: "row wrap" }, text, copy, done),
    el("p", { class: "muted" }, `只显示这一次，请立即复制并妥善转交本人；关闭后无法再次查看。${note}`));
  box.hidden = false;
  copy.focus();
}

// --- create an account ---------------------------------------------------------------------------
async function loadUnits() {
  const [departments, places] = await Promise.all([backend("departments"), backend("places")]);
  units = { departments, places };
  $("staff-role").replaceChildren(...Object.entries(ROLE).map(([code, name]) => el("option", { value: code }, name)));
  $("staff-unit").replaceChildren(el("option", { value: "" }, "请选择"),
    ...departments.map((d) => el("option", { value: d.code }, d.name)));
  showUnit();
}

function showUnit() {
  const unitStaff = $("staff-role").value === "unit_staff";
  const kind = TERRITORIAL[$("staff-unit").value];
  $("staff-unit-box").hidden = !unitStaff;
  $("staff-area-box").hidden = !unitStaff || !kind;
  if (!unitStaff || !kind) return;
  $("staff-area-label").textContent = kind;
  const options = $("staff-unit").value === "street_office"
    ? units.places.map((d) => el("optgroup", { label: d.name }, d.streets.map((s) => el("option", { value: s.code }, s.name))))
    : units.places.map((d) => el("option", { value: d.code }, d.name));
  $("staff-area").replaceChildren(el("option", { value: "" }, "请选择"), ...options);
}
$("staff-role").addEventListener("change", showUnit);
$("staff-unit").addEventListener("change", showUnit);

function staffBody() {
  const role = $("staff-role").value;
  const body = { username: $("staff-username").value.trim(), display_name: $("staff-name").value.trim(),
    password: $("staff-password").value, role, unit_code: null };
  if (role === "unit_staff") {
    const code = $("staff-unit").value;
    body.unit_code = TERRITORIAL[code] ? (($("staff-area").value && `${code}:${$("staff-area").value}`) || "") : code;
  }
  return body;
}

function invalid(body) {
  if (!USERNAME.test(body.username)) return ["staff-username", "用户名须为3到64位字母、数字或 . _ -"];
  if (!body.display_name) return ["staff-name", "请填写姓名"];
  if (body.role === "unit_staff" && !$("staff-unit").value) return ["staff-unit", "承办单位人员须选择所属单位"];
  if (body.role === "unit_staff" && !body.unit_code) return ["staff-area", `请选择${TERRITORIAL[$("staff-unit").value]}`];
  if (body.password.length < 10) return ["staff-password", "初始密码至少10位"];
  return null;
}

$("staff-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  for (const field of $("staff-form").querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  const body = staffBody();
  const problem = invalid(body);
  if (problem) {
    $(problem[0]).setAttribute("aria-invalid", "true");
    $(problem[0]).focus();
    toast(problem[1]);
    return;
  }
  try {
    await backend("staff", { method: "POST", body });
  } catch (error) {
    toast(error.status === 409 ? `用户名 ${body.username} 已被使用` : error.message);
    return;
  }
  toast(`已创建账号 ${body.username}（${label(ROLE, body.role)}），请将初始密码当面告知本人`, "ok");
  for (const id of ["staff-username", "staff-name", "staff-password"]) $(id).value = "";
  await loadStaff().catch(failed);
});

// --- Open311 keys --------------------------------------------------------------------------------
$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("key-name").value.trim();
  if (!name) { $("key-name").focus(); toast("请填写客户端名称"); return; }
  try {
    const issued = await backend(`open311/keys?${new URLSearchParams({ name })}`, { method: "POST" });
    $("key-name").value = "";
    secret("key-secret", `${issued.name} 的 Open311 密钥（api_key）`, issued.api_key, `列表中以指纹 ${issued.fingerprint} 表示。`);
  } catch (error) { failed(error); return; }
  await loadStaff().catch(failed);
});
