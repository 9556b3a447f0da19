// The 12345 web chat: a WebSocket conversation whose sender id the server issues and the page keeps;
// photos and location pins go by HTTP. Every notice the citizen sees is in Chinese.
import { messageItem, noticeItem, retireButtons } from "./render.js";

const KEY = "jiesu.sender";
const CLOSE_UNKNOWN_SENDER = 4404;
const CLOSE_TOO_MANY_PAGES = 4429;
const OFFLINE = "网络连接失败，请检查网络后重试。";
const NO_PLACE = "无法获取您的位置，请直接输入地址";
const START_OVER = "开始新会话后，本页不再显示之前的对话。确定吗？";
const REFUSED = {
  404: "这个对话已经失效了，请刷新页面重新开始。",
  413: "发送的内容太大了。",
  415: "只能发送照片，请换一张图片再试。",
  422: "发送的内容不对，请重新发送。",
  429: "您操作得太快了，请稍等一会儿再试。",
};
const FAILED = "抱歉，服务暂时出了问题，请稍后再试。如遇紧急情况，请直接拨打110、119或120。";

const log = document.getElementById("log");
const form = document.getElementById("form");
const input = document.getElementById("input");
const typing = document.getElementById("typing");
const status = document.getElementById("status");
const photo = document.getElementById("photo");
const shown = new Set();
let sender = null;
let socket = null;
let retry = 0;
let outbox = [];

function show(item) {
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

// Show a message once; a citizen's message or a new bot message retires the buttons before it.
function render(message) {
  if (message.id != null) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
  }
  const author = message.author || "bot";
  if (author === "citizen" || author === "bot") retireButtons(log);
  show(messageItem(message, choose));
}

function notice(text) {
  show(noticeItem(text));
}

const inChinese = (detail) => typeof detail === "string" && /[\u4e00-\u9fff]/.test(detail) && !/[A-Za-z]/.test(detail);

function refusal(status, detail) {
  const text = inChinese(detail) ? detail : REFUSED[status] || FAILED;
  return Object.assign(new Error("refused"), { status, notice: text });
}

// Fetch JSON; any failure becomes an error whose `notice` is a Chinese sentence for the citizen.
async function api(path, options = {}) {
  let answer;
  try {
    answer = await fetch(path, options);
  } catch {
    throw refusal(0, OFFLINE);
  }
  const body = await answer.json().catch(() => null);
  if (!answer.ok) throw refusal(answer.status, body && body.detail);
  return body;
}

const historyOf = (id) => api(`/chat/api/history?sender=${encodeURIComponent(id)}`);

// The kept conversation (its history shown), or a new one (its greeting shown).
async function open() {
  const kept = localStorage.getItem(KEY);
  if (kept) {
    try {
      (await historyOf(kept)).forEach(render);
      return kept;
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }
  const issued = (await api("/chat/api/session", { method: "POST" })).sender;
  localStorage.setItem(KEY, issued);
  (await historyOf(issued)).forEach(render);
  return issued;
}

function connect(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const page = new WebSocket(`${scheme}://${location.host}/chat/ws?sender=${encodeURIComponent(id)}`);
  socket = page;
  page.onopen = () => {
    retry = 0;
    status.textContent = "在线";
    const pending = outbox;
    outbox = [];
    pending.forEach((m) => page.send(JSON.stringify(m)));
  };
  page.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "typing") typing.hidden = false;
    else if (data.type === "idle") typing.hidden = true;
    else if (data.type === "message") { typing.hidden = true; render(data); }
    else if (data.type === "error") { typing.hidden = true; notice(refusal(data.status, data.detail).notice); }
  };
  page.onclose = (event) => {
    if (page !== socket) return;  // a new conversation replaced this one
    typing.hidden = true;
    if (event.code === CLOSE_TOO_MANY_PAGES || event.code === CLOSE_UNKNOWN_SENDER) {
      status.textContent = "未连接";  // the server said why (a notice); refreshing tries again
      return;
    }
    status.textContent = "连接已断开，正在重连…";
    const delay = Math.min(30000, 1000 * 2 ** retry++);
    setTimeout(() => { if (id === sender) connect(id); }, delay);
  };
}

function transmit(message, shownText) {
  render({ author: "citizen", text: shownText });
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  else outbox.push(message);
}

function choose(reference, title) {
  transmit({ button: reference }, title);
}

// Post to the chat API and show the replies, with the typing dots while the bot thinks.
async function post(path, options) {
  typing.hidden = false;
  try {
    (await api(path, options)).forEach(render);
  } catch (error) {
    notice(error.notice);
  } finally {
    typing.hidden = true;
  }
}

async function sendPhoto(file) {
  const item = messageItem({ author: "citizen", image: URL.createObjectURL(file) }, choose);
  retireButtons(log);
  show(item);
  await post("/chat/api/photo", {
    method: "POST",
    headers: { "X-Chat-Sender": sender, "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
}

function sendPlace() {
  if (!navigator.geolocation) {
    notice(NO_PLACE);
    return;
  }
  navigator.geolocation.getCurrentPosition(
    ({ coords }) => {
      const { latitude, longitude } = coords;
      render({ author: "citizen", text: `[位置] ${latitude.toFixed(5)},${longitude.toFixed(5)}` });
      post("/chat/api/location", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, latitude, longitude }),
      });
    },
    () => notice(NO_PLACE),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

async function start() {
  status.textContent = "连接中…";
  try {
    sender = await open();
    connect(sender);
  } catch (error) {
    status.textContent = "暂时无法连接，请稍后刷新重试";
    notice(error.notice || FAILED);
  }
}

// A shared device: forget this conversation on this page and start another (greeted again).
function startOver() {
  if (!window.confirm(START_OVER)) return;
  localStorage.removeItem(KEY);
  const old = socket;
  socket = null;
  sender = null;
  outbox = [];
  if (old) old.close();
  shown.clear();
  log.replaceChildren();
  typing.hidden = true;
  start();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  transmit({ text }, text);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
document.getElementById("photo-button").addEventListener("click", () => photo.click());
photo.addEventListener("change", () => {
  const [file] = photo.files;
  photo.value = "";
  if (file && sender) sendPhoto(file);
});
document.getElementById("place").addEventListener("click", () => { if (sender) sendPlace(); });
document.getElementById("new").addEventListener("click", startOver);

start();
