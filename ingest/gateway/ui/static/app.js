// The page's little JavaScript: a busy button, a pending text or batch that refreshes itself, and the
// recent list that grows as scores arrive (server-sent events). Everything works without it but the
// live parts.
"use strict";

// As the server's `percent` filter: never "100%" or "0%".
const percent = (p) => (p > 0.995 ? ">99%" : p < 0.005 ? "<1%" : Math.round(p * 100) + "%");

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("check");
  if (form) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button");
      button.disabled = true;
      button.textContent = button.dataset.busy;
    });
  }

  const pending = document.querySelector("[data-poll]");
  if (pending) {
    const poll = async () => {
      const answer = await fetch(pending.dataset.poll, { credentials: "same-origin" });
      // 404 while the log does not hold it yet; reload (without `new`) once it is scored or failed
      if (answer.ok && (await answer.json()).status !== "queued") { location.replace(location.pathname); return; }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }

  const batch = document.querySelector("[data-poll-batch]");
  const settled = (status) => status === "scored" || status === "empty";
  if (batch && !settled(batch.dataset.status)) {
    const poll = async () => {
      const answer = await fetch(batch.dataset.pollBatch, { credentials: "same-origin" });
      if (answer.ok) {
        const progress = await answer.json();
        for (const name of ["status", "submitted", "scored", "failed"]) {
          batch.querySelector("." + name).textContent = progress[name];
        }
        const bar = batch.querySelector("progress");
        bar.max = progress.submitted || 1;
        bar.value = progress.scored + progress.failed;
        if (settled(progress.status)) return;
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }

  const recent = document.getElementById("recent");
  if (recent) {
    const events = new EventSource(recent.dataset.stream);
    events.addEventListener("score", (message) => {
      const item = JSON.parse(message.data);
      recent.querySelector(".empty")?.remove();
      const li = document.createElement("li");
      li.className = "item label-" + item.label;
      const a = document.createElement("a");
      a.href = "/texts/" + item.submission_id + "?detector=" + encodeURIComponent(item.detector);
      const b = document.createElement("b");
      b.textContent = percent(item.probability);
      const version = document.createElement("code");
      version.className = "version";
      version.textContent = item.detector;
      a.append(b, " ", version, " " + item.preview);
      li.append(a);
      recent.prepend(li);
      while (recent.children.length > 50) recent.lastElementChild.remove();
    });
  }
});
