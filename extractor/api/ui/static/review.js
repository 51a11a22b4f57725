// The document page's keyboard review. Plain JS, no build step.
// Report text is untrusted: everything from the report or the server goes in with textContent or
// as attribute values, never as HTML. Writes are serialised (one at a time, each with the version the
// previous answer returned), so typing ahead never makes the page conflict with itself.
"use strict";

(function () {
  const root = document.getElementById("review");
  const dataNode = document.getElementById("review-data");
  if (!root || !dataNode) return;

  const documentId = root.dataset.documentId;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const data = JSON.parse(dataNode.textContent || "{}");
  const cellData = data.cells || {};
  const pages = data.pages || {};
  const source = document.getElementById("source");
  const reasonsBox = document.getElementById("reasons");
  const notice = document.getElementById("notice");
  const text = source ? source.textContent : "";
  const astral = /[\uD800-\uDBFF]/.test(text);
  const OPEN = ["flagged", "inferred"];

  // The page's version; also exposed for scripts and tests (`window.gongkaiReview.version`).
  const state = { version: Number(root.dataset.version || 0), blocked: false, chain: Promise.resolve() };
  window.gongkaiReview = state;

  const inputs = Array.from(document.querySelectorAll("td.cell input.value"));
  const cellOf = (input) => input.closest("td.cell");
  const inputFor = (key) => inputs.find((i) => i.dataset.key === key) || null;

  function show(message, kind, withReload) {
    if (!notice) return;
    notice.replaceChildren();
    notice.textContent = message;
    notice.dataset.kind = kind || "info";
    if (withReload) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reload the page";
      button.addEventListener("click", () => window.location.reload());
      notice.appendChild(button);
    }
    notice.hidden = false;
  }

  function setVersion(version) {
    state.version = version;
    root.dataset.version = String(version);
    const shown = document.getElementById("version");
    if (shown) shown.textContent = String(version);
  }

  // -- the source pane --------------------------------------------------------------------------

  // Spans count code points (Python); JS strings count UTF-16 units: convert when the text needs it.
  function unitOffset(codePoints) {
    if (!astral) return codePoints;
    let units = 0;
    for (let cp = 0; cp < codePoints && units < text.length; cp++) {
      const c = text.charCodeAt(units);
      units += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
    return units;
  }

  function highlight(td) {
    if (!source) return;
    const start = td.dataset.start, end = td.dataset.end;
    if (start === undefined || end === undefined) {
      source.replaceChildren(document.createTextNode(text));
      return;
    }
    const a = unitOffset(Number(start)), b = unitOffset(Number(end));
    const mark = document.createElement("mark");
    mark.id = "span-highlight";
    mark.textContent = text.slice(a, b);
    source.replaceChildren(document.createTextNode(text.slice(0, a)), mark, document.createTextNode(text.slice(b)));
    // Scroll the source pane only (not the page): the mark to the middle of the pane.
    source.scrollTop = Math.max(0, mark.offsetTop - source.clientHeight / 2);
  }

  // -- the page crop (paged documents) ----------------------------------------------------------

  const crop = document.getElementById("page-crop");
  const cropView = document.getElementById("crop-view");
  const cropMark = document.getElementById("crop-mark");
  const cropPage = document.getElementById("crop-page");
  const cropNone = document.getElementById("crop-none");
  const CROP_MAX_HEIGHT = 260; // px: a few rows around the value, never the whole page

  // The part of the page around the cell's box, drawn as the page picture scaled and shifted inside
  // #crop-view (a background: no canvas, no second request), the box itself outlined by #crop-mark.
  function showCrop(td) {
    if (!crop || !cropView || !cropMark) return;
    const info = pages[td.dataset.page || ""];
    const box = (td.dataset.box || "").split(" ").map(Number);
    if (!info || box.length !== 4 || box.some((v) => !Number.isFinite(v))) {
      crop.hidden = false;
      cropView.hidden = true;
      if (cropNone) cropNone.hidden = false;
      if (cropPage) cropPage.textContent = "—";
      return;
    }
    const [x0, top, x1, bottom] = box;
    // Context: the row's label to the left and the neighbouring rows above and below.
    const padX = Math.max(info.width * 0.18, (x1 - x0) * 2);
    const padY = Math.max((bottom - top) * 2.5, info.height * 0.02);
    const left = Math.max(0, x0 - padX), right = Math.min(info.width, x1 + padX);
    const upper = Math.max(0, top - padY), lower = Math.min(info.height, bottom + padY);
    crop.hidden = false;
    cropView.hidden = false;
    if (cropNone) cropNone.hidden = true;
    const width = cropView.clientWidth || 360;
    let scale = width / Math.max(right - left, 1);
    if ((lower - upper) * scale > CROP_MAX_HEIGHT) scale = CROP_MAX_HEIGHT / (lower - upper);
    cropView.style.height = `${Math.round((lower - upper) * scale)}px`;
    cropView.style.backgroundImage = `url("${info.url}")`;
    cropView.style.backgroundSize = `${info.width * scale}px ${info.height * scale}px`;
    cropView.style.backgroundPosition = `${-left * scale}px ${-upper * scale}px`;
    cropMark.style.left = `${(x0 - left) * scale - 2}px`;
    cropMark.style.top = `${(top - upper) * scale - 2}px`;
    cropMark.style.width = `${(x1 - x0) * scale + 4}px`;
    cropMark.style.height = `${(bottom - top) * scale + 4}px`;
    cropView.dataset.key = td.dataset.key || "";
    cropView.setAttribute("aria-label", `${td.dataset.key} as printed on page ${td.dataset.page}`);
    if (cropPage) cropPage.textContent = td.dataset.page;
  }

  function describe(td) {
    if (!reasonsBox) return;
    const key = td.dataset.key;
    const info = cellData[key] || {};
    const input = td.querySelector("input.value");
    const title = document.createElement("h3");
    title.textContent = key;
    const where = document.createElement("p");
    where.className = "where";
    const conf = Number(td.dataset.confidence || info.confidence || 0);
    const printed = info.raw ? `printed "${info.raw}"` : "printed blank or not found";
    const reviewedNow = td.dataset.state === "corrected" || td.dataset.state === "accepted";
    // A reviewer's value needs no confidence; the reader's is only worth saying as what it was.
    const confidence = reviewedNow ? `the reader's confidence was ${conf.toFixed(2)}` : `confidence ${conf.toFixed(2)}`;
    where.textContent = `${input ? input.getAttribute("aria-label") : ""} — ${td.dataset.state}, ` +
      `${confidence}, ${printed}`;
    const list = document.createElement("ul");
    const reasons = info.reasons || [];
    for (const reason of reasons) {
      const li = document.createElement("li");
      li.textContent = reason;
      list.appendChild(li);
    }
    const reviewed = td.dataset.state === "corrected" || td.dataset.state === "accepted";
    if (!reasons.length) {
      const li = document.createElement("li");
      li.textContent = reviewed ? "a reviewer's value (see History)" : "no doubts recorded";
      list.appendChild(li);
    }
    const parts = [title, where];
    if (reviewed && reasons.length) {
      const before = document.createElement("p");
      before.className = "where";
      before.textContent = "A reviewer's value now (see History). The reader had flagged it because:";
      parts.push(before);
    }
    reasonsBox.replaceChildren(...parts, list);
  }

  // -- moving between cells -------------------------------------------------------------------

  function isOpen(input) {
    const td = cellOf(input);
    return OPEN.includes(td.dataset.state) && !td.classList.contains("saving");
  }

  function focusCell(input) {
    if (!input) return;
    input.focus();
    input.select();
    cellOf(input).scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // The next open cell after `from` in reading order, wrapping round; null when none is left.
  function nextOpen(from) {
    const at = from ? inputs.indexOf(from) : -1;
    for (let step = 1; step <= inputs.length; step++) {
      const candidate = inputs[(at + step) % inputs.length];
      if (candidate !== from && isOpen(candidate)) return candidate;
    }
    return null;
  }

  function advance(from) {
    const next = nextOpen(from);
    if (next) {
      focusCell(next);
    } else {
      const done = document.getElementById("mark-reviewed");
      if (done) done.focus();
      show("No flagged cell left. Mark the document reviewed when you are done.", "ok");
    }
  }

  // -- values -----------------------------------------------------------------------------------

  const FULL_WIDTH = /[\uFF10-\uFF19\uFF0E\uFF0D\uFF0C]/g;

  // The typed text as a number; null for empty (no value); undefined when it is not a number.
  function parse(raw) {
    const cleaned = raw.replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
      .replace(/[\s,，]/g, "");
    if (cleaned === "" || cleaned === "—" || cleaned === "-") return null;
    if (!/^-?\d+(\.\d+)?$/.test(cleaned)) return undefined;
    const value = Number(cleaned);
    return Number.isFinite(value) ? value : undefined;
  }

  const shown = (value) => (value === null || value === undefined ? "" : String(value));

  // -- writing ----------------------------------------------------------------------------------

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      // The site sends Referrer-Policy: no-referrer, under which a browser may send "Origin: null" even
      // to its own origin (form posts do), and the API refuses writes from an origin it cannot check.
      referrerPolicy: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    return { status: response.status, answer };
  }

  function failure(status, answer, what) {
    if (status === 401) return `${what} was not saved: your session ended. Log in again in another tab, then retry.`;
    if (status === 403) return `${what} was not saved: the page's security token expired. Reload the page.`;
    const detail = answer.reason || answer.error || `HTTP ${status}`;
    return `${what} was not saved: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
  }

  // Queue one write behind the others; `work` runs when the earlier ones are answered (and checks
  // `state.blocked`: after a conflict nothing more is sent).
  function enqueue(work) {
    state.chain = state.chain.then(work).catch((error) => {
      state.blocked = true;
      show(`Saving failed (${error}); nothing after it was sent. Reload the page.`, "error", true);
    });
    return state.chain;
  }

  function save(input, body, previous) {
    const td = cellOf(input);
    const key = input.dataset.key;
    td.classList.add("saving");
    enqueue(async () => {
      if (state.blocked) {
        td.classList.remove("saving");
        td.classList.add("unsaved");
        return;
      }
      const { status, answer } = await post(`/api/documents/${documentId}/corrections`,
        { ...body, key, expected_version: state.version });
      td.classList.remove("saving");
      if (status === 200) {
        setVersion(answer.version);
        td.dataset.state = answer.action === "accept" ? "accepted" : "corrected";
        td.classList.remove("unsaved");
        input.defaultValue = shown(answer.value);
        if (document.activeElement !== input) input.value = input.defaultValue;
        addHistory(answer, previous);
        renderSums(answer.sums);
        markDone(key);
        return;
      }
      td.classList.add("unsaved");
      state.blocked = true;
      if (status === 409 && answer.current_version !== undefined) {
        const current = answer.current_value === null || answer.current_value === undefined ? "no value" : answer.current_value;
        show(`Someone changed this document: it is now version ${answer.current_version} and ${key} holds ` +
          `${current}. Your value for ${key} (${input.value || "empty"}) was not saved, nor anything typed after ` +
          "it. Reload the page to see the current values, then re-enter yours.", "error", true);
      } else {
        show(failure(status, answer, `Your value for ${key}`), "error", status !== 422);
        if (status === 422) state.blocked = false;
      }
    });
  }

  function commit(input) {
    const td = cellOf(input);
    const typed = parse(input.value);
    if (typed === undefined) {
      input.setAttribute("aria-invalid", "true");
      show(`"${input.value}" is not a number. Type digits (a decimal point for amounts), or empty for no value.`, "error");
      return;
    }
    input.removeAttribute("aria-invalid");
    if (state.blocked) {
      show("Nothing more is saved until you reload the page (see the message above).", "error", true);
      return;
    }
    const before = parse(input.defaultValue);
    const unchanged = typed === before;
    if (unchanged && (td.dataset.state === "corrected" || td.dataset.state === "accepted")) {
      advance(input); // already settled: nothing to write
      return;
    }
    save(input, unchanged ? { accept: true } : { value: typed }, before);
    advance(input);
  }

  // -- panels -----------------------------------------------------------------------------------

  function addHistory(answer, previous) {
    const body = document.getElementById("history-rows");
    if (!body) return;
    const row = document.createElement("tr");
    row.className = "new";
    row.dataset.key = answer.key;
    row.dataset.action = answer.action;
    const when = new Date().toISOString().slice(0, 19).replace("T", " ");
    const cells = [when, root.dataset.user || "", answer.action, null, shown(previous) || "—", shown(answer.value) || "—"];
    for (const value of cells) {
      const td = document.createElement("td");
      if (value === null) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "goto";
        button.dataset.key = answer.key;
        button.textContent = answer.key;
        td.appendChild(button);
      } else {
        td.textContent = value;
      }
      row.appendChild(td);
    }
    body.prepend(row);
    const empty = document.getElementById("history-empty");
    if (empty) empty.hidden = true;
  }

  function ruleItem(rule, ok, fixed) {
    const li = document.createElement("li");
    li.dataset.rule = rule.rule;
    li.dataset.ok = ok ? "true" : "false";
    if (fixed) li.className = "fixed";
    if (fixed) {
      const now = document.createElement("b");
      now.textContent = "now holds: ";
      li.appendChild(now);
    }
    const desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = rule.description;
    li.appendChild(desc);
    if (!ok) {
      const msg = document.createElement("span");
      msg.className = "msg";
      msg.textContent = rule.message;
      li.appendChild(msg);
    }
    return li;
  }

  // Broken sums, all holding ones (folded), and on top the ones this change made hold.
  function renderSums(sums) {
    if (!sums) return;
    const fixedList = document.getElementById("sums-fixed");
    const broken = document.getElementById("sums-broken");
    const holding = document.getElementById("sums-holding");
    if (!broken || !holding || !fixedList) return;
    const wasBroken = new Set(Array.from(broken.children).map((li) => li.dataset.rule));
    const fixed = sums.holding.filter((r) => wasBroken.has(r.rule));
    fixedList.replaceChildren(...fixed.map((r) => ruleItem(r, true, true)));
    broken.replaceChildren(...sums.broken.map((r) => ruleItem(r, false, false)));
    holding.replaceChildren(...sums.holding.map((r) => ruleItem(r, true, false)));
    const counts = { "sums-broken-count": sums.broken.length, "sums-holding-count": sums.holding.length };
    for (const [id, n] of Object.entries(counts)) {
      const node = document.getElementById(id);
      if (node) node.textContent = String(n);
    }
    const summary = document.querySelector("#sums details.holding-all summary");
    if (summary) summary.textContent = `Sums that hold (${sums.holding.length})`;
  }

  function markDone(key) {
    for (const button of document.querySelectorAll("#flag-groups button.goto")) {
      if (button.dataset.key === key) button.classList.add("done");
    }
    const left = inputs.filter(isOpen).length;
    const counter = document.getElementById("to-review");
    if (counter) counter.textContent = `${left} cell${left === 1 ? "" : "s"} to review`;
  }

  // -- events -----------------------------------------------------------------------------------

  document.addEventListener("focusin", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("value")) return;
    const td = cellOf(input);
    for (const current of document.querySelectorAll("td.cell.current")) current.classList.remove("current");
    td.classList.add("current");
    input.select(); // typing replaces the value
    highlight(td);
    describe(td);
    showCrop(td);
  });

  // Hovering a cell shows where it was printed; leaving the tables shows the focused cell's again.
  const tablesPane = document.querySelector(".tables-pane");
  if (crop && tablesPane) {
    tablesPane.addEventListener("mouseover", (event) => {
      const td = event.target instanceof Element ? event.target.closest("td.cell") : null;
      if (td && td.dataset.page) showCrop(td);
    });
    tablesPane.addEventListener("mouseleave", () => {
      const current = document.querySelector("td.cell.current");
      if (current) showCrop(current);
    });
    window.addEventListener("resize", () => {
      const current = document.querySelector("td.cell.current");
      if (current) showCrop(current); // the crop is scaled to the pane's width
    });
  }

  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("value")) return;
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      if (event.shiftKey) advance(input);
      else commit(input);
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.value = input.defaultValue;
      input.removeAttribute("aria-invalid");
      input.select();
    }
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("button.goto") : null;
    if (!target) return;
    focusCell(inputFor(target.dataset.key));
  });

  const markReviewed = document.getElementById("mark-reviewed");
  if (markReviewed) {
    markReviewed.addEventListener("click", () => {
      const next = markReviewed.dataset.status === "reviewed" ? "unreviewed" : "reviewed";
      enqueue(async () => {
        if (state.blocked) return;
        const { status, answer } = await post(`/api/documents/${documentId}/review`,
          { status: next, expected_version: state.version });
        if (status === 200) {
          setVersion(answer.version);
          markReviewed.dataset.status = answer.status;
          markReviewed.textContent = answer.status === "reviewed" ? "Mark unreviewed" : "Mark reviewed";
          const label = document.getElementById("review-status");
          if (label) label.textContent = answer.status;
          root.dataset.reviewStatus = answer.status;
          show(`Document marked ${answer.status}.`, "ok");
        } else if (status === 409) {
          state.blocked = true;
          show(`Someone changed this document: it is now version ${answer.current_version}. ` +
            "Reload the page and check it before marking it.", "error", true);
        } else {
          show(failure(status, answer, "The review status"), "error", true);
        }
      });
    });
  }

  // On load: the first open cell has the focus, its text selected.
  const first = nextOpen(null);
  if (first) focusCell(first);
})();
