// The console's login form; a refusal is shown in Chinese (the gateway's own words, or by status).
const REFUSED = { 401: "用户名或密码不正确", 422: "请填写用户名和密码", 429: "登录失败次数过多，请稍后再试" };
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  let answer;
  try {
    answer = await fetch("/console/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      }),
    });
  } catch {
    error.textContent = "网络连接中断，请检查网络后再试";
    return;
  }
  if (answer.ok) { location.href = "/console/"; return; }
  const detail = await answer.json().then((data) => data.detail, () => "");
  error.textContent = typeof detail === "string" && /[\u4e00-\u9fff]/.test(detail)
    ? detail : REFUSED[answer.status] || "登录失败，请稍后再试";
});
