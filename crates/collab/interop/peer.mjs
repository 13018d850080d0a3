// A stock Yjs peer for the mossy-collab interop test: npm `yjs` + `y-websocket`, with `ws` as
// the WebSocket implementation. Settings come from the environment:
//   HUB_URL (ws://127.0.0.1:PORT), ROOM, TOKEN (optional), PEER_TEXT (appended once synced),
//   PEER_NAME, PEER_COLOR (awareness state), DONE_MARKER (leave once the text contains it),
//   TIMEOUT_MS (give up and exit 1).
// It prints one JSON line per event on stdout: {"event":"synced","text":...},
// {"event":"done","text":...}.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const env = process.env
const timeoutMs = Number(env.TIMEOUT_MS || 20000)
const doc = new Y.Doc()
const text = doc.getText('content')
const params = env.TOKEN ? { token: env.TOKEN } : {}
const provider = new WebsocketProvider(env.HUB_URL, env.ROOM, doc, {
  WebSocketPolyfill: WebSocket,
  params,
  disableBc: true
})

const print = (event) => console.log(JSON.stringify({ event, text: text.toString() }))

const timer = setTimeout(() => {
  print('timeout')
  provider.destroy()
  process.exit(1)
}, timeoutMs)

const leaveWhenDone = () => {
  if (!text.toString().includes(env.DONE_MARKER)) return
  text.unobserve(leaveWhenDone)
  print('done')
  clearTimeout(timer)
  provider.destroy()
  // Give the close frame a moment to leave before the process ends.
  setTimeout(() => process.exit(0), 200)
}

provider.once('sync', (synced) => {
  if (!synced) return
  print('synced')
  text.insert(text.length, env.PEER_TEXT)
  provider.awareness.setLocalStateField('user', { name: env.PEER_NAME, color: env.PEER_COLOR })
  text.observe(leaveWhenDone)
  leaveWhenDone()
})
