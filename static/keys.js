// "/" puts the cursor in the search box (as on many sites), unless one is typing already.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) {
    return;
  }
  const box = document.querySelector("input[name=q]");
  if (!box) {
    return;
  }
  event.preventDefault();
  box.focus();
  box.select();
});
