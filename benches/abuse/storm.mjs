// The abuse storm: N parallel wrong-password credentials posts against one account, while
// GET /api/auth/session is timed with a valid session cookie. Node's http module only, so
// there is nothing to install. Loopback only: the target must be 127.0.0.1.
// Usage: node storm.mjs <port> <email> <password> [posts=300] [source IPs=1]
import http from "node:http";
import { Worker } from "node:worker_threads";

const [port, email, password, postsArg, ipsArg] = process.argv.slice(2);
const posts = Number(postsArg ?? 300);
const ips = Math.max(1, Number(ipsArg ?? 1));
const host = "127.0.0.1";

function request(method, path, { cookie, body, from } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (cookie) headers.cookie = cookie;
    if (body) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = http.request(
      { host, port, method, path, headers, localAddress: from, agent: false },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

const cookiesOf = (res) =>
  (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).filter((c) => !c.endsWith("="));

async function csrf(from) {
  const r = await request("GET", "/api/auth/csrf", { from });
  return { token: JSON.parse(r.body).csrfToken, cookie: cookiesOf(r).join("; ") };
}

function form(fields) {
  return new URLSearchParams(fields).toString();
}

async function signIn(from, pw) {
  const { token, cookie } = await csrf(from);
  const r = await request("POST", "/api/auth/callback/credentials", {
    from,
    cookie,
    body: form({ email, password: pw, csrfToken: token, json: "true" }),
  });
  return { r, cookie: [cookie, ...cookiesOf(r)].join("; ") };
}

// The legitimate user's session, from an address the storm does not use.
const legit = await signIn("127.0.0.254", password);
if (legit.r.status !== 200) throw new Error(`legitimate sign-in failed: ${legit.r.status} ${legit.r.body}`);
const session = legit.cookie;

// The attackers' CSRF tokens first, so the storm is only credential posts.
const sources = Array.from({ length: ips }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
const tokens = await Promise.all(sources.map((s) => csrf(s)));

// The session reads run in a worker thread with its own event loop: their latency is the
// server's, not this process's queue of 300 requests.
const sampler = new Worker(new URL("./sampler.mjs", import.meta.url), {
  workerData: { port: Number(port), cookie: session, email },
});
await new Promise((resolve, reject) => {
  sampler.once("message", resolve);
  sampler.once("error", reject);
});
const sampled = new Promise((resolve, reject) => {
  sampler.once("message", resolve);
  sampler.once("error", reject);
});

const started = process.hrtime.bigint();
const statuses = {};
await Promise.all(
  Array.from({ length: posts }, async (_, i) => {
    const s = i % ips;
    const { token, cookie } = tokens[s];
    try {
      const r = await request("POST", "/api/auth/callback/credentials", {
        from: sources[s],
        cookie,
        body: form({ email, password: `wrong-${i}`, csrfToken: token, json: "true" }),
      });
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    } catch (e) {
      statuses[e.message] = (statuses[e.message] ?? 0) + 1;
    }
  }),
);
const stormMs = Number(process.hrtime.bigint() - started) / 1e6;
sampler.postMessage("stop");
const latencies = await sampled;
await sampler.terminate();

const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
console.log(
  JSON.stringify({
    posts,
    sources: ips,
    storm_ms: Math.round(stormMs),
    statuses,
    session_reads: latencies.length,
    session_p50_ms: Number(pct(50)?.toFixed(2)),
    session_p99_ms: Number(pct(99)?.toFixed(2)),
    session_max_ms: Number(latencies.at(-1)?.toFixed(2)),
  }),
);
