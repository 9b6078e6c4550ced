// Times GET /api/auth/session with a valid session cookie until told to stop, in its own
// thread (own event loop), so the storm's client-side queueing does not count as server
// latency. Posts the sorted latencies (ms) back to the parent.
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const { port, cookie, email } = workerData;
let running = true;
parentPort.on("message", () => {
  running = false;
});

function read() {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = http.request(
      { host: "127.0.0.1", port, method: "GET", path: "/api/auth/session", headers: { cookie }, localAddress: "127.0.0.254", agent: false },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          if (res.statusCode !== 200 || !body.includes(email)) reject(new Error(`session read failed: ${res.statusCode} ${body}`));
          else resolve(Number(process.hrtime.bigint() - t) / 1e6);
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const latencies = [];
parentPort.postMessage("ready");
while (running) {
  latencies.push(await read());
}
latencies.sort((a, b) => a - b);
parentPort.postMessage(latencies);
