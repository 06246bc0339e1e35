// Live state changes from GET /v1/events (Server-Sent Events). EventSource cannot send an
// Authorization header, so the stream is read with fetch() and a ReadableStream reader and parsed
// here (the SSE format: "id:", "event:", "data:" lines, a blank line ends an event, ":" lines are
// comments such as the server's 15 s ping). One stream serves the whole console; pages subscribe
// with on(type, fn). When the stream ends or stalls (no byte, not even a ping, for 40 s) it is
// reopened after a growing pause (1 s .. 15 s) with `Last-Event-ID`, so nothing in between is
// missed; subscribers of "open" are told, so a page can reload what it shows.

import { authHeaders } from "./api.js";

const STALL_MS = 40000;

export class EventStream {
  constructor() {
    this.handlers = new Map(); // type -> Set of fn(data, event)
    this.lastId = null;
    this.state = "idle";
    this.running = false;
    this.ctrl = null;
    this.wake = null;
    this.generation = 0;
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, data, ev) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(data, ev);
      } catch (e) {
        // A page's handler failing must not end the stream for the others; it is still reported.
        queueMicrotask(() => { throw e; });
      }
    }
  }

  setState(state, detail) {
    this.state = state;
    this.detail = detail || "";
    this.emit("state", { state, detail: this.detail });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop(++this.generation);
  }

  stop() {
    this.running = false;
    this.generation++; // a loop still waking from a sleep or a read sees it is not the current one
    this.lastId = null;
    if (this.ctrl) this.ctrl.abort();
    if (this.wake) this.wake();
    this.setState("idle");
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(t); resolve(); };
    });
  }

  async loop(gen) {
    let backoff = 1000;
    const current = () => this.running && gen === this.generation;
    this.setState("connecting");
    while (current()) {
      const ctrl = (this.ctrl = new AbortController());
      let retryIn = backoff;
      try {
        const headers = { Accept: "text/event-stream", ...authHeaders() };
        if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
        const res = await fetch("/v1/events", { headers, signal: ctrl.signal, cache: "no-store" });
        if (res.status === 401) {
          window.dispatchEvent(new CustomEvent("ain:unauthorized"));
          return;
        }
        if (!res.ok) {
          let msg = `${res.status} ${res.statusText}`;
          try {
            msg = (await res.json()).error.message || msg;
          } catch { /* not our JSON */ }
          // No events route (an older server) or too many streams: try again, rarely.
          this.setState("unavailable", `live updates unavailable: ${msg}`);
          retryIn = res.status === 404 ? 60000 : 10000;
        } else {
          backoff = 1000;
          this.setState("live");
          this.emit("open", {});
          await this.read(res.body, ctrl);
          if (current()) this.setState("reconnecting", "the stream ended");
        }
      } catch (e) {
        if (!current()) return;
        this.setState("reconnecting", e.name === "AbortError" ? "the stream stalled" : e.message);
      }
      if (!current()) return;
      await this.sleep(retryIn + Math.random() * 300);
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  async read(body, ctrl) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let ev = { id: null, type: "message", data: [] };
    let stall = setTimeout(() => ctrl.abort(), STALL_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(stall);
        stall = setTimeout(() => ctrl.abort(), STALL_MS);
        buf += value;
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          // A lone "\r" at the end may be half of "\r\n": wait for the next chunk.
          if (buf[nl] === "\r" && nl === buf.length - 1) break;
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
          if (line === "") {
            this.dispatch(ev);
            ev = { id: null, type: "message", data: [] };
            continue;
          }
          if (line.startsWith(":")) continue; // a comment: the server's ping
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "data") ev.data.push(val);
          else if (field === "event") ev.type = val;
          else if (field === "id" && !val.includes("\0")) ev.id = val;
        }
      }
    } finally {
      clearTimeout(stall);
      reader.cancel().catch(() => {});
    }
  }

  dispatch(ev) {
    if (ev.id !== null) this.lastId = ev.id;
    if (ev.data.length === 0) return;
    let data;
    try {
      data = JSON.parse(ev.data.join("\n"));
    } catch {
      return; // not JSON: not an event this console knows
    }
    this.emit(ev.type, data, ev);
    this.emit("*", data, ev);
  }
}

export const events = new EventStream();
