// The 12345 web chat: a WebSocket conversation whose sender id the server issues and the page keeps.
(() => {
  const KEY = "jiesu.sender";
  const TOO_MANY_PAGES = 4429;
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("input");
  const send = document.getElementById("send");
  const typing = document.getElementById("typing");
  const status = document.getElementById("status");
  const shown = new Set();
  let socket = null;
  let retry = 0;
  let outbox = [];

  const WHO = { bot: "智能助手", system: "系统消息", operator: "人工客服" };

  function render(message) {
    if (message.id != null) {
      if (shown.has(message.id)) return;
      shown.add(message.id);
    }
    const item = document.createElement("li");
    const author = message.author || "bot";
    item.className = `msg msg--${author}`;
    if (WHO[author]) {
      const who = document.createElement("div");
      who.className = "msg__who";
      who.textContent = WHO[author];
      item.appendChild(who);
    }
    if (message.text) {
      const bubble = document.createElement("div");
      bubble.className = "msg__bubble";
      bubble.textContent = message.text;
      item.appendChild(bubble);
    }
    if (message.image) {
      const img = document.createElement("img");
      img.className = "msg__image";
      img.src = message.image;
      img.alt = "图片";
      item.appendChild(img);
    }
    if (message.buttons && message.buttons.length) {
      const row = document.createElement("div");
      row.className = "msg__buttons";
      for (const b of message.buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => {
          row.querySelectorAll("button").forEach((x) => (x.disabled = true));
          transmit({ button: b.payload }, b.title);
        });
        row.appendChild(button);
      }
      item.appendChild(row);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  async function sender() {
    let id = localStorage.getItem(KEY);
    if (id) {
      const history = await fetch(`/chat/api/history?sender=${encodeURIComponent(id)}`);
      if (history.ok) {
        (await history.json()).forEach(render);
        return id;
      }
    }
    const answer = await fetch("/chat/api/session", { method: "POST" });
    const body = await answer.json();
    if (!answer.ok) throw Object.assign(new Error("refused"), { notice: body.detail });
    id = body.sender;
    localStorage.setItem(KEY, id);
    return id;
  }

  function connect(id) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/chat/ws?sender=${encodeURIComponent(id)}`);
    socket.onopen = () => {
      retry = 0;
      status.textContent = "在线";
      const pending = outbox;
      outbox = [];
      pending.forEach((m) => socket.send(JSON.stringify(m)));
    };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "typing") typing.hidden = false;
      else if (data.type === "idle") typing.hidden = true;
      else if (data.type === "message") { typing.hidden = true; render(data); }
      else if (data.type === "error") { typing.hidden = true; notice(data.detail); }
    };
    socket.onclose = (event) => {
      typing.hidden = true;
      if (event.code === TOO_MANY_PAGES) {  // the server said why (a notice); refreshing tries again
        status.textContent = "未连接";
        return;
      }
      status.textContent = "连接已断开，正在重连…";
      const delay = Math.min(30000, 1000 * 2 ** retry++);
      setTimeout(() => connect(id), delay);
    };
  }

  function transmit(message, shownText) {
    render({ author: "citizen", text: shownText });
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    else outbox.push(message);
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

  sender().then(connect).catch((error) => {
    status.textContent = "暂时无法连接，请稍后刷新重试";
    if (error.notice) notice(error.notice);
  });
})();
