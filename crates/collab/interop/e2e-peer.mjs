// A stock Yjs peer for the Editor panel's webview end-to-end test (tests/tests/webview_editor.rs):
// npm `yjs` + `y-websocket`, joined to the app's hub like a teammate's editor would be.
// Settings come from the environment:
//   HUB_URL (ws://127.0.0.1:PORT), ROOM, TOKEN (optional), PEER_NAME, PEER_COLOR,
//   EXPECT (text the app types; the peer waits until it sees it), PEER_LINE (inserted at the
//   start of the document once EXPECT is seen), TIMEOUT_MS (give up and exit 1).
// After inserting, the peer holds its cursor at the end of its line (a y-codemirror.next style
// `cursor` in awareness) until a line arrives on stdin, then leaves and exits 0.
// It prints one JSON line per event on stdout: synced, saw, inserted, left, timeout.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'

const env = process.env
const timeoutMs = Number(env.TIMEOUT_MS || 60000)
const doc = new Y.Doc()
const text = doc.getText('content')
const params = env.TOKEN ? { token: env.TOKEN } : {}
const provider = new WebsocketProvider(env.HUB_URL, env.ROOM, doc, {
  WebSocketPolyfill: WebSocket,
  params,
  disableBc: true
})
provider.awareness.setLocalStateField('user', { name: env.PEER_NAME, color: env.PEER_COLOR })

const print = (event) => console.log(JSON.stringify({ event, text: text.toString() }))

const timer = setTimeout(() => {
  print('timeout')
  provider.destroy()
  process.exit(1)
}, timeoutMs)

let inserted = false
const insertOnceSeen = () => {
  if (inserted || !text.toString().includes(env.EXPECT)) return
  inserted = true
  print('saw')
  const line = env.PEER_LINE + '\n'
  text.insert(0, line)
  const end = line.length - 1
  const at = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, end))
  provider.awareness.setLocalStateField('cursor', { anchor: at, head: at })
  print('inserted')
}

provider.once('sync', (synced) => {
  if (!synced) return
  print('synced')
  text.observe(insertOnceSeen)
  insertOnceSeen()
})

readline.createInterface({ input: process.stdin }).once('line', () => {
  clearTimeout(timer)
  provider.destroy()
  print('left')
  // Give the close frame a moment to leave before the process ends.
  setTimeout(() => process.exit(0), 200)
})
