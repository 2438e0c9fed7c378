// The bookmarklet's popup (see archive/editing.py): it tells the page that opened it
// that it is ready, takes that page's address and HTML by postMessage, and shows them;
// saving is the reader's click on this page's own form, with its CSRF token.
(() => {
  const closer = document.getElementById("close-window");
  if (closer) {
    closer.addEventListener("click", () => window.close());
  }
  const form = document.getElementById("save-form");
  if (!form) {
    return;
  }
  const waiting = document.getElementById("save-waiting");
  const refused = document.getElementById("save-refused");
  let received = false;

  function refuse(message) {
    refused.textContent = message;
    refused.hidden = false;
    waiting.hidden = true;
  }

  window.addEventListener("message", (event) => {
    if (received || !window.opener || event.source !== window.opener) {
      return;
    }
    const data = event.data;
    if (!data || data.type !== "archive-page" || typeof data.url !== "string" || typeof data.html !== "string") {
      return;
    }
    let address;
    try {
      address = new URL(data.url);
    } catch {
      refuse("ページのアドレスを読み取れませんでした。");
      return;
    }
    // The browser says which origin sent the message: a page may not pass itself off
    // as another site's article (saving it would replace that article).
    if (!["http:", "https:"].includes(address.protocol) || address.origin !== event.origin) {
      refuse(`このページ（${event.origin}）は別のアドレス（${address.origin}）を名乗っているので保存しません。`);
      return;
    }
    received = true;
    document.getElementById("save-url").value = data.url;
    document.getElementById("save-html").value = data.html;
    document.getElementById("save-address").textContent = data.url;
    // A parsed document has no window: nothing in it runs or loads.
    const title = new DOMParser().parseFromString(data.html, "text/html").title.trim();
    document.getElementById("save-title").textContent = title || "（タイトルなし）";
    const kilobytes = new Blob([data.html]).size / 1024;
    document.getElementById("save-size").textContent = `${kilobytes.toFixed(1)} KB`;
    waiting.hidden = true;
    form.hidden = false;
    document.getElementById("save-button").focus();
  });

  if (window.opener) {
    // Nothing secret in it: any page may learn that the popup is ready.
    window.opener.postMessage({ type: "archive-ready" }, "*");
  } else {
    refuse(
      "開いたページとつながっていません。ページを保存（Ctrl+S）して「記事を追加」からアップロードしてください。"
    );
  }
})();
