// Test page for the e2e suite: drives the REAL next-auth/react v4 client against the server
// that serves this page (same origin). Every observable has a stable data-testid.
//
// Action results are shown in <pre data-testid="…-result" data-seq="N" data-state="…">:
// data-seq increments when an action finishes, so a test can click and wait for the next seq
// without racing a previous result; data-state is "ok" (resolved) or "threw" (rejected).
import React, { useState } from "react"
import { createRoot } from "react-dom/client"
import {
  SessionProvider,
  useSession,
  signIn,
  signOut,
  getSession,
  getCsrfToken,
  getProviders,
} from "next-auth/react"

/** JSON for display; `undefined` (e.g. update() while unauthenticated) shows as "undefined". */
function show(value) {
  return value === undefined ? "undefined" : JSON.stringify(value)
}

/** State + runner for one button's result box. */
function useAction() {
  const [state, setState] = useState({ seq: 0, state: "idle", text: "" })
  const run = async (fn) => {
    let next
    try {
      next = { state: "ok", text: show(await fn()) }
    } catch (e) {
      next = { state: "threw", text: String(e?.stack ?? e) }
    }
    setState((prev) => ({ ...next, seq: prev.seq + 1 }))
  }
  return [state, run]
}

function Result({ id, value }) {
  return (
    <pre data-testid={id} data-seq={value.seq} data-state={value.state}>
      {value.text}
    </pre>
  )
}

function App() {
  const { data: session, status, update } = useSession()
  const [email, setEmail] = useState("")
  const [password, setPassword] = useState("")
  const [newName, setNewName] = useState("")
  const [signInRes, runSignIn] = useAction()
  const [magicEmail, setMagicEmail] = useState("")
  const [magicProvider, setMagicProvider] = useState("email")
  const [emailSignInRes, runEmailSignIn] = useAction()
  const [signOutRes, runSignOut] = useAction()
  const [updateRes, runUpdate] = useAction()
  const [sessionRes, runGetSession] = useAction()
  const [csrfRes, runGetCsrf] = useAction()
  const [providersRes, runGetProviders] = useAction()

  return (
    <main>
      <h1>next-auth/react e2e</h1>
      <section>
        <p>
          status: <span data-testid="status">{status}</span>
        </p>
        <p>
          name: <span data-testid="user-name">{session?.user?.name ?? ""}</span>
        </p>
        <p>
          email: <span data-testid="user-email">{session?.user?.email ?? ""}</span>
        </p>
        <pre data-testid="session-json">{show(session ?? null)}</pre>
      </section>

      <section>
        <h2>Sign in with credentials</h2>
        <input
          data-testid="email-input"
          type="email"
          placeholder="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <input
          data-testid="password-input"
          type="password"
          placeholder="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button
          data-testid="signin-button"
          onClick={() => runSignIn(() => signIn("credentials", { email, password, redirect: false }))}
        >
          Sign in
        </button>
        <Result id="signin-result" value={signInRes} />
      </section>

      <section>
        <h2>Sign in with OpenID Connect</h2>
        {/* An OAuth provider: signIn() navigates to the provider, which returns here. */}
        <button data-testid="oidc-signin-button" onClick={() => signIn("oidc")}>
          Sign in with OIDC
        </button>
      </section>

      <section>
        <h2>Sign in with an email link</h2>
        <input
          data-testid="email-signin-input"
          type="email"
          placeholder="email"
          value={magicEmail}
          onChange={(e) => setMagicEmail(e.target.value)}
        />
        <input
          data-testid="email-provider-input"
          placeholder="provider id"
          value={magicProvider}
          onChange={(e) => setMagicProvider(e.target.value)}
        />
        <button
          data-testid="email-signin-button"
          onClick={() => runEmailSignIn(() => signIn(magicProvider, { email: magicEmail, redirect: false }))}
        >
          Email me a sign-in link
        </button>
        <Result id="email-signin-result" value={emailSignInRes} />
      </section>

      <section>
        <h2>Session</h2>
        <button data-testid="signout-button" onClick={() => runSignOut(() => signOut({ redirect: false }))}>
          Sign out
        </button>
        <Result id="signout-result" value={signOutRes} />
        <input
          data-testid="update-name-input"
          placeholder="new name"
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
        />
        <button data-testid="update-button" onClick={() => runUpdate(() => update({ name: newName }))}>
          update()
        </button>
        <Result id="update-result" value={updateRes} />
      </section>

      <section>
        <h2>Helpers</h2>
        <button data-testid="get-session-button" onClick={() => runGetSession(() => getSession())}>
          getSession()
        </button>
        <Result id="get-session-result" value={sessionRes} />
        <button data-testid="get-csrf-button" onClick={() => runGetCsrf(() => getCsrfToken())}>
          getCsrfToken()
        </button>
        <Result id="get-csrf-result" value={csrfRes} />
        <button data-testid="get-providers-button" onClick={() => runGetProviders(() => getProviders())}>
          getProviders()
        </button>
        <Result id="get-providers-result" value={providersRes} />
      </section>
    </main>
  )
}

createRoot(document.getElementById("root")).render(
  <SessionProvider basePath="/api/auth">
    <App />
  </SessionProvider>
)
