// Beside the conversation: common replies (one click, or "/" in the reply box) and the knowledge base.
import { $, api, backend, el, failed, opens, toast } from "./common.js";

let replies = [];
let picked = 0;  // the highlighted entry of the "/" list

// Put text in the reply box at the cursor (a "/word" being typed is replaced), ready to edit and send.
export function insertReply(text) {
  const box = $("say");
  if (box.disabled) { toast("请先接管会话，再插入回复", "info"); return; }
  const typed = box.value.startsWith("/") ? "" : box.value;
  const at = box.value.startsWith("/") ? 0 : box.selectionStart ?? typed.length;
  box.value = typed.slice(0, at) + text + typed.slice(at);
  closeSlash();
  box.focus();
  box.setSelectionRange(at + text.length, at + text.length);
}

export async function loadReplies() {
  replies = await api("/console/api/replies");
  $("replies").replaceChildren(...replies.map((r) => el("li", { "data-key": r.key, title: r.text, ...opens(() => insertReply(r.text)) },
    el("b", {}, r.title), el("span", { class: "muted" }, ` /${r.key}`), el("div", {}, r.text))));
}

function matching(query) {
  const q = query.toLowerCase();
  return replies.filter((r) => r.key.startsWith(q) || r.title.includes(query) || r.text.includes(query));
}
function showSlash() {
  const box = $("say");
  if (!box.value.startsWith("/")) { closeSlash(); return; }
  const found = matching(box.value.slice(1).trim());
  picked = Math.min(picked, Math.max(found.length - 1, 0));
  $("slash").replaceChildren(...found.map((r, i) => el("li", { class: i === picked ? "active" : "", "data-key": r.key,
    onmousedown: (event) => { event.preventDefault(); insertReply(r.text); } }, el("b", {}, r.title), ` ${r.text}`)));
  if (!found.length) $("slash").append(el("li", { class: "muted" }, "没有匹配的常用语"));
  $("slash").hidden = false;
}
function closeSlash() { $("slash").hidden = true; picked = 0; }

$("say").addEventListener("input", () => { picked = 0; showSlash(); });
$("say").addEventListener("blur", closeSlash);
$("say").addEventListener("keydown", (event) => {
  if ($("slash").hidden) return;
  const found = matching($("say").value.slice(1).trim());
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    picked = (picked + (event.key === "ArrowDown" ? 1 : found.length - 1)) % Math.max(found.length, 1);
    showSlash();
  } else if (event.key === "Enter" || event.key === "Tab") {
    if (found[picked]) insertReply(found[picked].text);
  } else if (event.key === "Escape") {
    closeSlash();
  } else return;
  event.preventDefault();
});

// --- the knowledge base, through the gateway's backend passage ---------------------------------------
$("kb-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = $("kb-q").value.trim();
  if (!q) return;
  const results = $("kb-results");
  results.replaceChildren(el("p", { class: "muted" }, "搜索中…"));
  try {
    const found = await backend(`knowledge/search?${new URLSearchParams({ q, limit: 5 })}`);
    results.replaceChildren(...found.hits.map((h) => el("div", { class: "kb-hit" },
      el("div", {}, el("span", { class: "tag" }, h.topic), el("b", {}, h.question)),
      el("p", { class: "kb-answer" }, h.answer),
      el("button", { type: "button", class: "secondary kb-insert", onclick: () => insertReply(h.answer) }, "插入回复"))));
    if (!found.hits.length) results.append(el("p", { class: "muted" }, "知识库中没有相关内容"));
  } catch (error) { results.replaceChildren(); failed(error); }
});
