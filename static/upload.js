// The upload form, file by file: each file is sent on its own (with the form's CSRF
// token), so that the bar moves and each file's result shows as it comes.  Without
// this script the form sends every file at once and the page shows the results.
(() => {
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData) {
    return;
  }
  const panel = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const count = document.getElementById("upload-count");
  const results = document.getElementById("upload-results");
  const labels = { added: "追加", updated: "更新", unchanged: "変更なし" };

  function line(outcome, text, href) {
    const item = document.createElement("li");
    item.className = outcome;
    const label = document.createElement("span");
    label.className = "outcome";
    label.textContent = labels[outcome] || "失敗";
    item.append(label, " ");
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      item.append(link);
    } else {
      item.append(text);
    }
    results.append(item);
  }

  function send(file, done, total) {
    return new Promise((resolve) => {
      const data = new FormData();
      data.append("csrf_token", form.elements.csrf_token.value);
      data.append("format", form.elements.format.value);
      data.append("files", file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", form.elements.csrf_token.value);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          bar.value = (done + event.loaded) / total;
        }
      });
      request.addEventListener("load", () => {
        let answer = null;
        try {
          answer = JSON.parse(request.responseText);
        } catch {
          answer = null;
        }
        if (!answer || answer.error) {
          line("error", `${file.name}: ${answer ? answer.error : `応答を読めません（${request.status}）`}`);
        } else {
          for (const article of answer.articles) {
            line(article.outcome, `${article.title}（${article.source}${article.line ? `:${article.line}` : ""}）`, article.url);
          }
          for (const error of answer.errors) {
            line("error", `${error.source}${error.line ? `:${error.line}` : ""}: ${error.reason}`);
          }
        }
        resolve();
      });
      request.addEventListener("error", () => {
        line("error", `${file.name}: 送れませんでした（接続が切れました）`);
        resolve();
      });
      request.send(data);
    });
  }

  form.addEventListener("submit", async (event) => {
    const files = Array.from(form.elements.files.files);
    if (!files.length) {
      return;
    }
    event.preventDefault();
    const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
    panel.hidden = false;
    results.replaceChildren();
    form.querySelector("button[type=submit]").disabled = true;
    let done = 0;
    for (const [number, file] of files.entries()) {
      count.textContent = `${number + 1} / ${files.length} ファイル`;
      await send(file, done, total);
      done += file.size;
      bar.value = done / total;
    }
    count.textContent = `${files.length} / ${files.length} ファイル 完了`;
    form.querySelector("button[type=submit]").disabled = false;
    form.reset();
  });
})();
