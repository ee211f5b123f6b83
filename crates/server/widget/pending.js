// The customer's chosen files before they are sent: each with a thumbnail (pictures only, drawn
// by the browser from the file itself; nothing is uploaded to make it), its name, its size and
// its own remove button. widget.js owns the list; this file only draws it.
(function () {
  "use strict";
  const I = window.AttacheI18n;
  const t = I.t;
  /** Most files chosen at once; more are refused in words. */
  const MAX_FILES = 20;
  const urls = new Map(); // File -> blob: URL of its thumbnail

  const isPicture = (f) => /^image\/(png|jpeg|gif|webp|bmp|avif)$/.test(f.type);

  function thumb(file) {
    const box = document.createElement("span");
    box.className = "pending-thumb";
    box.setAttribute("aria-hidden", "true");
    if (!isPicture(file)) {
      box.textContent = (file.name.split(".").pop() || "").slice(0, 4).toUpperCase();
      return box;
    }
    let url = urls.get(file);
    if (!url) urls.set(file, (url = URL.createObjectURL(file)));
    const img = document.createElement("img");
    img.alt = "";
    img.decoding = "async";
    img.src = url;
    // A damaged picture shows as a file, not as a broken image.
    const broken = () => { box.classList.add("broken"); img.remove(); box.textContent = "?"; };
    img.addEventListener("error", broken);
    img.decode().catch(() => { if (!img.complete || img.naturalWidth === 0) broken(); });
    box.append(img);
    return box;
  }

  /** Draws `files` into `list`; `onRemove(file)` when its button is used. */
  function render(list, files, onRemove) {
    for (const [file, url] of urls) {
      if (!files.includes(file)) { URL.revokeObjectURL(url); urls.delete(file); }
    }
    list.replaceChildren(...files.map((file) => {
      const li = document.createElement("li");
      li.className = "pending-item";
      li.dataset.name = file.name;
      const name = document.createElement("bdi");
      name.className = "pending-item-name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "pending-item-size";
      size.textContent = I.size(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "pending-item-remove";
      remove.textContent = "×";
      remove.title = t("pending.remove.label", { name: file.name });
      remove.setAttribute("aria-label", t("pending.remove.label", { name: file.name }));
      remove.addEventListener("click", () => onRemove(file));
      li.append(thumb(file), name, size, remove);
      return li;
    }));
  }

  window.AttachePending = { MAX_FILES, render };
})();
