// Shared helpers for the e2e tests (not a test file: node --test only runs *.test.mjs here).
import { createHash } from "node:crypto"

/** Required env, read once. A missing variable fails the importing test file loudly. */
function requiredEnv(name) {
  const v = process.env[name]
  if (!v) throw new Error(`env ${name} is required (run the suite through run.sh)`)
  return v
}

export const BASE_URL = requiredEnv("BASE_URL").replace(/\/+$/, "")
export const AUTH_SECRET = requiredEnv("AUTH_SECRET")
export const EMAIL = requiredEnv("EMAIL")
export const PASSWORD = requiredEnv("PASSWORD")
export const NAME = requiredEnv("NAME")

/** BASE in the spec's notation: origin + auth path. */
export const AUTH_BASE = `${BASE_URL}/api/auth`
export const SESSION_COOKIE = "next-auth.session-token"
export const CSRF_COOKIE = "next-auth.csrf-token"
export const THIRTY_DAYS = 30 * 24 * 60 * 60

export const HEX64 = /^[0-9a-f]{64}$/
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** The CSRF cookie hash: sha256 hex of token + secret (spec §4). */
export function csrfHash(token) {
  return createHash("sha256").update(`${token}${AUTH_SECRET}`).digest("hex")
}

/** Parses one Set-Cookie header into {name, value (raw, as on the wire), attrs: Map(lowercase → value|true)}. */
export function parseSetCookie(header) {
  const [pair, ...rest] = header.split(";")
  const eq = pair.indexOf("=")
  const attrs = new Map()
  for (const a of rest) {
    const t = a.trim()
    if (!t) continue
    const i = t.indexOf("=")
    attrs.set((i < 0 ? t : t.slice(0, i)).toLowerCase(), i < 0 ? true : t.slice(i + 1))
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, raw: header }
}

/**
 * A minimal cookie jar for fetch(): keeps raw (wire-encoded) values by name, drops cookies set
 * with Max-Age=0 or an empty value, and records every Set-Cookie of the last response.
 */
export class Jar {
  constructor() {
    this.cookies = new Map()
    this.last = []
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ")
  }
  absorb(res) {
    this.last = res.headers.getSetCookie().map(parseSetCookie)
    for (const c of this.last) {
      if (c.attrs.get("max-age") === "0" || c.value === "") this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return this.last
  }
  /** Set-Cookie entries of the last response with this name. */
  setCookies(name) {
    return this.last.filter((c) => c.name === name)
  }
  /**
   * fetch() relative to BASE_URL, sending the jar's cookies, never following redirects.
   * `form` → application/x-www-form-urlencoded body; `json` → application/json body.
   */
  async fetch(path, { method = "GET", form, json, headers = {} } = {}) {
    const h = { ...headers }
    if (this.cookies.size) h.Cookie = this.header()
    let body
    if (form) {
      h["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8"
      body = new URLSearchParams(form).toString()
    } else if (json !== undefined) {
      h["Content-Type"] = "application/json"
      body = JSON.stringify(json)
    }
    const res = await fetch(`${BASE_URL}${path}`, { method, headers: h, body, redirect: "manual" })
    this.absorb(res)
    return res
  }
}

/** GET /api/auth/csrf with this jar; returns the token. */
export async function fetchCsrf(jar) {
  const res = await jar.fetch("/api/auth/csrf")
  if (res.status !== 200) throw new Error(`GET /api/auth/csrf: ${res.status}`)
  return (await res.json()).csrfToken
}

/** JSON body, or a descriptive error including the raw text. */
export async function jsonBody(res) {
  const text = await res.text()
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`expected JSON from ${res.url} (${res.status}), got: ${text.slice(0, 300)}`)
  }
}
