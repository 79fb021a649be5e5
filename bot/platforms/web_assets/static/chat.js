// The built-in web chat: picks a person (demo), lists conversations, shows messages live, sends actions.
(() => {
  "use strict";
  const S = window.KLANTPET.strings;
  const $ = (id) => document.getElementById(id);
  const state = { member: null, conversations: [], current: null, messages: new Map(), since: null, unread: {}, threadOf: null };

  const uid = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  async function api(path, body) {
    const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(path, { credentials: "same-origin", ...options });
    if (!response.ok) {
      // Our refusals come as a sentence in the person's language; anything else gets the polite generic one.
      const data = await response.json().catch(() => ({}));
      const error = new Error(typeof data.detail === "string" && data.error ? data.detail : S["error.generic"]);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }
  function toast(text) {
    const el = document.createElement("div"); el.className = "toast"; el.textContent = text;
    document.body.appendChild(el); setTimeout(() => el.remove(), 3500);
  }

  async function start() {
    const session = await api("/chat/api/session");
    if (session.member_id) { state.member = session.member_id; return openApp(); }
    if (!session.demo) { $("picker").hidden = false; $("people").innerHTML = `<li>${S.need_link}</li>`; return; }
    const list = $("people"); list.innerHTML = "";
    for (const person of session.people) {
      const item = document.createElement("li"); const button = document.createElement("button");
      button.type = "button"; button.dataset.member = person.id;
      button.innerHTML = `<strong></strong><small></small>`;
      button.querySelector("strong").textContent = person.name;
      button.querySelector("small").textContent = [person.title, person.department].filter(Boolean).join(" · ");
      button.addEventListener("click", async () => { await api("/chat/api/login", { member_id: person.id }); location.reload(); });
      item.appendChild(button); list.appendChild(item);
    }
    $("picker").hidden = false;
  }

  async function openApp() {
    $("app").hidden = false;
    state.conversations = await api("/chat/api/conversations");
    state.current = state.conversations[0].id;
    renderConversations();
    await refresh(true);
    const events = new EventSource("/chat/api/stream");
    events.addEventListener("changed", () => refresh(false));
  }

  function renderConversations() {
    const nav = $("conversations"); nav.innerHTML = "";
    for (const c of state.conversations) {
      const button = document.createElement("button"); button.type = "button";
      button.className = c.id === state.current ? "active" : ""; button.dataset.conversation = c.id;
      const name = document.createElement("span"); name.textContent = c.name; button.appendChild(name);
      if (state.unread[c.id]) { const badge = document.createElement("span"); badge.className = "badge"; badge.textContent = state.unread[c.id]; button.appendChild(badge); }
      button.addEventListener("click", () => { state.current = c.id; state.unread[c.id] = 0; state.threadOf = null; renderConversations(); renderMessages(); });
      nav.appendChild(button);
    }
    const current = state.conversations.find((c) => c.id === state.current);
    $("title").textContent = current ? current.name : "";
  }

  let refreshing = false, again = false;
  async function refresh(first) {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const url = state.since ? `/chat/api/messages?since=${encodeURIComponent(state.since)}` : "/chat/api/messages";
      const rows = await api(url);
      for (const row of rows) {
        const known = state.messages.get(row.id);
        if (!known && !first && row.conversation !== state.current && !row.mine) state.unread[row.conversation] = (state.unread[row.conversation] || 0) + 1;
        state.messages.set(row.id, row);
        if (!state.since || row.updated_at > state.since) state.since = row.updated_at;
      }
      if (rows.length) { renderConversations(); renderMessages(); }
    } catch (error) { if (error.status === 401) location.reload(); }
    finally { refreshing = false; if (again) { again = false; refresh(false); } }
  }

  function renderMessages() {
    const box = $("messages"); const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.innerHTML = "";
    const rows = [...state.messages.values()].filter((m) => m.conversation === state.current).sort((a, b) => a.id - b.id);
    const threads = new Map();
    for (const row of rows) if (row.thread_of) { if (!threads.has(row.thread_of)) threads.set(row.thread_of, []); threads.get(row.thread_of).push(row); }
    for (const row of rows) {
      if (row.thread_of && state.messages.has(row.thread_of)) continue;
      const el = messageElement(row);
      const replies = threads.get(row.id);
      if (replies) { const t = document.createElement("div"); t.className = "thread"; for (const r of replies) t.appendChild(messageElement(r)); el.appendChild(t); }
      box.appendChild(el);
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function messageElement(row) {
    const el = document.createElement("article");
    el.className = "msg" + (row.bot ? " bot" : "") + (row.mine ? " mine" : "") + (row.private ? " private" : "");
    el.dataset.id = row.id; el.dataset.keys = (row.keys || []).join(" ");
    if (row.private) el.dataset.private = S.only_you;
    const who = document.createElement("div"); who.className = "who";
    const name = document.createElement("strong"); name.textContent = row.author; who.appendChild(name);
    const time = document.createElement("span"); time.textContent = new Date(row.created_at).toLocaleString(document.documentElement.lang, { weekday: "short", hour: "2-digit", minute: "2-digit" }); who.appendChild(time);
    el.appendChild(who);
    const body = document.createElement("div"); body.className = "body"; body.innerHTML = row.html; el.appendChild(body);
    wire(body, row);
    if (row.bot && !row.thread_of && state.current.startsWith("channel:")) {
      const actions = document.createElement("div"); actions.className = "actions";
      const reply = document.createElement("button"); reply.type = "button"; reply.className = "link"; reply.textContent = S.reply_in_thread;
      reply.addEventListener("click", () => { state.threadOf = row.id; $("thread-hint").hidden = false; $("thread-hint").querySelector("span").textContent = S.replying; $("input").focus(); });
      const like = document.createElement("button"); like.type = "button"; like.className = "link"; like.textContent = "👍";
      like.setAttribute("aria-label", S.react);
      like.addEventListener("click", () => post(`/chat/api/react?conversation=${encodeURIComponent(state.current)}`, { event_id: uid(), message_id: row.id, emoji: "+1" }));
      actions.append(reply, like); el.appendChild(actions);
    }
    return el;
  }

  function wire(body, row) {
    const conversation = encodeURIComponent(row.conversation);
    body.querySelectorAll("button[data-token]").forEach((button) => button.addEventListener("click", async () => {
      button.disabled = true;
      await post(`/chat/api/click?conversation=${conversation}`, { event_id: uid(), token: button.dataset.token, message_id: row.id });
      setTimeout(() => { button.disabled = false; }, 1500);
    }));
    body.querySelectorAll("select.kp-select").forEach((select) => select.addEventListener("change", () => {
      if (select.value) post(`/chat/api/click?conversation=${conversation}`, { event_id: uid(), token: select.value, message_id: row.id });
    }));
    body.querySelectorAll("form.kp-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = {}; new FormData(form).forEach((value, key) => { fields[key] = String(value); });
      form.querySelector("button[type=submit]").disabled = true;
      await post(`/chat/api/submit?conversation=${conversation}`, { event_id: uid(), token: form.dataset.token, message_id: row.id, fields });
      setTimeout(() => { const b = form.querySelector("button[type=submit]"); if (b) b.disabled = false; }, 1500);
    }));
  }

  async function post(path, body) {
    try { await api(path, body); } catch (error) { toast(error.message); }
    refresh(false);
  }

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("input"); const text = input.value.trim(); if (!text) return;
    input.value = "";
    const body = { event_id: uid(), conversation: state.current, text };
    if (state.threadOf) body.thread_of = state.threadOf;
    state.threadOf = null; $("thread-hint").hidden = true;
    await post("/chat/api/send", body);
  });
  $("thread-cancel").addEventListener("click", () => { state.threadOf = null; $("thread-hint").hidden = true; });
  $("switch").addEventListener("click", async () => { await api("/chat/api/logout", {}); location.reload(); });
  start();
})();
