// Calls to the operator API (docs/api.md) with the signed-in token, and the session: the token
// lives in sessionStorage (this tab only; no cookie, so no CSRF surface) and goes out as
// `Authorization: Bearer`. Behind mTLS the browser's client certificate may sign in instead (no
// header at all; the server knows the caller from the TLS handshake). Every error answer has one shape, {"error":{"code","field","message"}};
// api() turns it into an ApiError. A 401 on the session's own token signs the tab out.

const KEY = "ain.console.token";
const VIA_CERT = "ain.console.certificate"; // signed in by the browser's client certificate (mTLS)
const ROLES = ["viewer", "reviewer", "operator", "admin"];

export class ApiError extends Error {
  constructor(status, code, field, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  // "message (field x)" for people.
  describe() {
    return this.field ? `${this.message} (field ${this.field})` : this.message;
  }
}

export const session = {
  token: sessionStorage.getItem(KEY),
  certificate: sessionStorage.getItem(VIA_CERT) === "1",
  who: null, // GET /v1/whoami: {actor, subject, role, via}
};

// Whether this tab has a way in (a token, or a client certificate that worked).
export function hasSession() {
  return Boolean(session.token) || session.certificate;
}

// token null: the server accepted the browser's client certificate (who.via "mtls").
export function signIn(token, who) {
  session.token = token;
  session.certificate = !token;
  session.who = who;
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.setItem(VIA_CERT, "1");
}

export function signOut() {
  session.token = null;
  session.certificate = false;
  session.who = null;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(VIA_CERT);
}

// The Authorization header of the session (none with a client certificate).
export function authHeaders() {
  return session.token ? { Authorization: `Bearer ${session.token}` } : {};
}

// Whether the signed-in role may do what `needed` may (viewer < reviewer < operator < admin).
export function can(needed) {
  const have = session.who ? ROLES.indexOf(session.who.role) : -1;
  return have >= ROLES.indexOf(needed);
}

// A path segment, escaped ("personas/tina" keeps its slash when whole=false is not asked).
export function seg(s) {
  return encodeURIComponent(String(s));
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

// api("/v1/reviews") -> parsed JSON, or throws ApiError. opts: method, body (sent as JSON),
// headers, token (defaults to the session's; null sends none: the client certificate speaks),
// signal.
export async function api(path, opts = {}) {
  const token = opts.token !== undefined ? opts.token : session.token;
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(path, {
      method: opts.method || "GET", headers, body, signal: opts.signal, cache: "no-store",
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "ENETWORK", "", `the server did not answer (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `HTTP${res.status}`, e.field || "",
      e.message || `${res.status} ${res.statusText}`);
    if (res.status === 401 && (token ? token === session.token : opts.token === undefined && session.certificate)) {
      window.dispatchEvent(new CustomEvent("ain:unauthorized"));
    }
    throw err;
  }
  return data;
}
