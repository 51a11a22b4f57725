// Batch upload: send the chosen files to POST /api/documents a few at a time, then poll
// /ui/upload/progress until every stored document is read. A scan is not read in the request: the
// answer lists it under `pending`, and GET /api/files/{id} says which page the worker's OCR has
// reached, then which documents it became (they join the documents polled) or why it failed. File names and reasons come from the
// user's files and the server: they are set with textContent only, never as HTML.
// Every fetch says referrerPolicy "same-origin": the site's Referrer-Policy is no-referrer, under which
// a browser may send "Origin: null" on a POST, and the API refuses writes whose origin it cannot check.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const chunkSize = Math.max(1, parseInt(form.dataset.chunk, 10) || 20);
  const input = document.getElementById("files");
  const button = document.getElementById("upload-button");
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;

  const state = {
    ids: [], names: new Map(), items: new Map(), files: new Map(), refused: 0, sending: false, stopped: false,
  };

  function setText(id, text) { $(id).textContent = String(text); }

  function addRefused(name, reason) {
    state.refused += 1;
    const li = document.createElement("li");
    const strong = document.createElement("strong");
    strong.textContent = name;
    const why = document.createElement("span");
    why.className = "reason";
    why.textContent = reason || "refused";
    li.append(strong, why);
    $("refused").append(li);
    $("refused-section").hidden = false;
    setText("count-refused", state.refused);
  }

  function addDocument(doc) {
    if (state.items.has(doc.id)) return;
    state.ids.push(doc.id);
    const li = document.createElement("li");
    li.dataset.id = String(doc.id);
    const link = document.createElement("a");
    link.href = "/ui/documents/" + encodeURIComponent(doc.id);
    link.textContent = doc.name;
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = doc.duplicate ? "already stored" : "queued";
    li.append(link, status);
    $("documents").append(li);
    $("documents-section").hidden = false;
    state.items.set(doc.id, { li: li, status: status });
  }

  // A scan held for the worker's OCR: shown with its reading progress until it is done or failed.
  function addPending(file) {
    if (state.files.has(file.id)) return;
    const li = document.createElement("li");
    li.dataset.file = String(file.id);
    li.className = file.status;
    const name = document.createElement("strong");
    name.textContent = file.name;
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = "waiting for OCR";
    li.append(name, status);
    $("pending").append(li);
    $("pending-section").hidden = false;
    state.files.set(file.id, { li: li, status: status, name: file.name, finished: false });
  }

  function showFile(item, file) {
    item.li.className = file.status;
    if (file.status === "reading" && file.pages_total > 0) {
      item.status.textContent = "Reading " + item.name + ": page " + file.pages_done + " of " + file.pages_total;
    } else if (file.status === "reading") {
      item.status.textContent = "Reading " + item.name + "…";
    } else if (file.status === "failed") {
      item.finished = true;
      item.status.textContent = "failed: " + (file.error || file.code || "unreadable");
    } else if (file.status === "done") {
      item.finished = true;
      const many = file.documents.length > 1;
      item.status.textContent = "read: " + file.documents.length + (many ? " documents" : " document");
      file.documents.forEach((id, index) => {
        addDocument({ id: id, name: item.name + (many ? " #" + (index + 1) : ""), duplicate: false });
      });
    }
  }

  async function pollFiles() {
    for (const [id, item] of state.files) {
      if (item.finished) continue;
      const response = await fetch("/api/files/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (response.ok) showFile(item, await response.json());
    }
    const reading = Array.from(state.files.values()).find((f) => !f.finished && f.li.className === "reading");
    if (reading && !state.sending) setText("upload-message", reading.status.textContent + "…");
  }

  function filesOpen() { return Array.from(state.files.values()).some((f) => !f.finished); }

  function reasonOf(body, response) {
    if (body && typeof body.reason === "string") return body.reason;
    return "HTTP " + response.status;
  }

  function uploadId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return "u" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // While a chunk's request is open, say which page of which file the server has read (OCR of a
  // long scan takes seconds a page); text files have no pages, and then nothing is shown.
  function watchPages(id) {
    let stop = false;
    (async () => {
      while (!stop) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (stop) break;
        try {
          const r = await fetch("/api/uploads/" + id + "/progress", { credentials: "same-origin" });
          const p = r.ok && !stop ? await r.json() : null;
          if (p && p.pages > 0 && !stop) {
            setText("upload-message", "Reading " + p.file + ": page " + p.page + " of " + p.pages + "…");
          }
        } catch (err) { /* the upload's own answer reports errors */ }
      }
    })();
    return () => { stop = true; };
  }

  async function sendChunk(files) {
    const data = new FormData();
    for (const file of files) data.append("files", file, file.name);
    const id = uploadId();
    const stopWatching = watchPages(id);
    let response;
    try {
      response = await fetch("/api/documents", {
        method: "POST", body: data, credentials: "same-origin", referrerPolicy: "same-origin",
        headers: { "X-CSRF-Token": csrf, "X-Upload-Id": id },
      });
    } catch (err) {
      stopWatching();
      for (const file of files) addRefused(file.name, "network error: " + err.message);
      return true;
    }
    stopWatching();
    setText("upload-message", "Sending…");
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (response.status === 401 || response.status === 403) {
      setText("upload-message", "Your session expired or the form is stale: reload the page and log in again. " +
        reasonOf(body, response));
      for (const file of files) addRefused(file.name, reasonOf(body, response));
      return false;
    }
    if (!response.ok) {
      const listed = body && Array.isArray(body.files) ? body.files : null;
      if (listed && listed.length) {
        for (const item of listed) addRefused(String(item.name), String(item.reason || reasonOf(body, response)));
      } else {
        for (const file of files) addRefused(file.name, reasonOf(body, response));
      }
      return true;
    }
    for (const doc of body.documents || []) addDocument(doc);
    for (const file of body.pending || []) addPending(file);
    for (const item of body.refused || []) addRefused(String(item.name), String(item.reason || "refused"));
    return true;
  }

  async function poll() {
    if (!state.ids.length) return null;
    const response = await fetch("/ui/upload/progress", {
      method: "POST", credentials: "same-origin", referrerPolicy: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ ids: state.ids }),
    });
    if (!response.ok) return null;
    const body = await response.json();
    for (const name of ["queued", "processing", "done", "failed"]) setText("count-" + name, body[name]);
    const read = body.done + body.failed;
    $("read-bar").max = Math.max(1, body.total);
    $("read-bar").value = read;
    setText("read-text", read + " / " + body.total);
    const errors = new Map((body.failures || []).map((f) => [f.id, f.error]));
    for (const [id, status] of Object.entries(body.statuses || {})) {
      const item = state.items.get(Number(id));
      if (!item) continue;
      item.li.className = status;
      item.status.textContent = status === "failed" && errors.get(Number(id)) ? "failed: " + errors.get(Number(id)) : status;
    }
    return body;
  }

  async function watch() {
    for (;;) {
      let body = null;
      try { await pollFiles(); } catch (err) { /* asked again on the next round */ }
      try { body = await poll(); } catch (err) { body = null; }
      // a poll sent while the last batch was still going asks about fewer ids than were stored: not the end
      const complete = body && body.finished && body.total === state.ids.length;
      if (!state.sending && !filesOpen() && (state.ids.length === 0 || complete)) {
        const unread = Array.from(state.files.values()).filter((f) => f.li.className === "failed").length;
        const scans = unread ? " " + unread + " scan(s) could not be read." : "";
        if (!state.stopped) setText("upload-message", state.ids.length
          ? "All read: " + (body ? body.done : 0) + " done, " + (body ? body.failed : 0) + " failed." + scans +
            " See the queue."
          : "Nothing was stored." + scans);
        button.disabled = false;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = Array.from(input.files || []);
    if (!files.length) return;
    button.disabled = true;
    state.sending = true;
    $("upload-progress").hidden = false;
    $("sent-bar").max = files.length;
    $("sent-bar").value = 0;
    setText("sent-text", "0 / " + files.length);
    setText("upload-message", "Sending…");
    const watching = watch();
    let sent = 0;
    state.stopped = false;
    for (let start = 0; start < files.length; start += chunkSize) {
      const chunk = files.slice(start, start + chunkSize);
      const goOn = await sendChunk(chunk);
      sent += chunk.length;
      $("sent-bar").value = sent;
      setText("sent-text", sent + " / " + files.length);
      if (!goOn) { state.stopped = true; break; }
    }
    state.sending = false;
    if (!state.stopped) setText("upload-message", "Sent; reading…");
    input.value = "";
    await watching;
  });
})();
