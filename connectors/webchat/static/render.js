// How the web chat shows a message: built from DOM nodes only, never HTML from message text.

const WHO = { bot: "智能助手", system: "系统消息", operator: "人工客服" };
// An http(s) address up to a space or the punctuation that usually ends a Chinese or English sentence.
const ADDRESS = /https?:\/\/[^\s<>"'，。！？；：、（）【】《》「」]+/g;
const TRAILING = /[.,;:!?)\]}'"]+$/;

// Append text to an element with its http(s) addresses as links that open a new tab.
export function appendLinked(parent, text) {
  let from = 0;
  for (const found of text.matchAll(ADDRESS)) {
    const address = found[0].replace(TRAILING, "");
    const start = found.index;
    parent.append(text.slice(from, start));
    parent.append(link(address) || address);
    from = start + address.length;
  }
  parent.append(text.slice(from));
}

function link(address) {
  let url;
  try {
    url = new URL(address);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const anchor = document.createElement("a");
  anchor.href = url.href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  anchor.textContent = address;
  return anchor;
}

const two = (n) => String(n).padStart(2, "0");

// "14:05" today, "11月27日 14:05" another day this year, "2025年11月27日 14:05" before.
export function when(value, now = new Date()) {
  const at = value ? new Date(value) : now;
  if (Number.isNaN(at.getTime())) return "";
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return time;
  const day = `${at.getMonth() + 1}月${at.getDate()}日`;
  return at.getFullYear() === now.getFullYear() ? `${day} ${time}` : `${at.getFullYear()}年${day} ${time}`;
}

// Disable every offered button on the page: only the newest bot message's buttons may be pressed.
export function retireButtons(log) {
  log.querySelectorAll(".msg__buttons:not(.msg__buttons--used)").forEach((row) => {
    row.classList.add("msg__buttons--used");
    row.querySelectorAll("button").forEach((button) => (button.disabled = true));
  });
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

// A list item for one message; `choose(reference, title)` is called when one of its buttons is pressed.
export function messageItem(message, choose) {
  const author = message.author || "bot";
  const item = element("li", `msg msg--${author}`);
  if (WHO[author]) item.append(element("div", "msg__who", WHO[author]));
  if (message.text) {
    const bubble = element("div", "msg__bubble");
    appendLinked(bubble, message.text);
    item.append(bubble);
  }
  if (message.image) {
    const img = element("img", "msg__image");
    img.src = message.image;
    img.alt = "图片";
    item.append(img);
  }
  if (message.buttons && message.buttons.length) item.append(buttonRow(message, choose));
  item.append(element("time", "msg__time", when(message.created_at)));
  return item;
}

function buttonRow(message, choose) {
  const row = element("div", "msg__buttons");
  message.buttons.forEach((offered, index) => {
    const button = element("button", "", offered.title);
    button.type = "button";
    button.disabled = message.id == null;  // a button is pressed by its message's id
    button.addEventListener("click", () => {
      button.classList.add("msg__chosen");
      choose(`#${message.id}:${index}`, offered.title);
    });
    row.append(button);
  });
  return row;
}

export function noticeItem(text) {
  return element("li", "notice", text);
}
