// Bundles app/main.jsx (React + the real next-auth/react client) into .out/static/main.js and
// copies app/index.html next to it. Usage: node build.mjs (npm run build).
import { build } from "esbuild"
import { copyFileSync, mkdirSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const out = path.join(here, ".out", "static")
mkdirSync(out, { recursive: true })

await build({
  entryPoints: [path.join(here, "app", "main.jsx")],
  outfile: path.join(out, "main.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  jsx: "automatic",
  // Production React. Only NODE_ENV is replaced: next-auth's other process.env reads go to the
  // `window.process` shim in index.html, as they would in an app bundled without Next.
  define: { "process.env.NODE_ENV": '"production"' },
  sourcemap: true,
  logLevel: "warning",
})
copyFileSync(path.join(here, "app", "index.html"), path.join(out, "index.html"))
console.log(`built ${path.relative(process.cwd(), out) || "."}/{index.html,main.js}`)
