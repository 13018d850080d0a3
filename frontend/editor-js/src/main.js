// The Editor panel's code editor, bundled into one file and exposed as `window.MossyEditor`.
//
// One open room is: a Yjs document (shared text `content`, change records `changes`), a
// y-websocket provider to the hub, a y-indexeddb copy in the webview's storage (so edits made
// offline survive a crash of the app), and a CodeMirror view bound to the text by
// y-codemirror.next (remote carets and selections at Yjs relative positions, undo of our own
// edits only). The Leptos page talks to this through typed wrappers in
// frontend/src/ipc/editor.rs; everything it hears arrives through the callbacks below as plain
// objects.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import { yCollab, ySyncFacet, ySyncAnnotation, yUndoManagerKeymap } from 'y-codemirror.next'
import { EditorState } from '@codemirror/state'
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars
} from '@codemirror/view'
import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { syntaxHighlighting, indentOnInput, bracketMatching } from '@codemirror/language'
import { classHighlighter } from '@lezer/highlight'
import { papyrus } from './papyrus.js'
import {
  CHANGES_NAME, MAX_LISTED, describe, recordLocal, recordRemote, summarise
} from './changes.js'

/** Name of the shared text in every room; the hub and the Rust client use the same name. */
const TEXT_NAME = 'content'

/**
 * After reconnecting, peers we knew that have not shown up again within this long are taken to
 * have left while we were away.
 */
const REJOIN_GRACE_MS = 3000

/** The y-websocket default backoff tops out at 2.5 s; the hub restarts in about that long. */
const MAX_BACKOFF_MS = 2500

// Origin of the transaction that seeds a room with a file's text.
const SEED_ORIGIN = 'mossy-seed'

// A Yjs client id (uint32, never 0) derived from the text: two peers that seed the same empty
// room with the same file produce the same items, which Yjs merges into one copy instead of
// doubling the text.
const seedClientId = (text) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash === 0 ? 1 : hash
}

const lighten = (colour) => (/^#[0-9a-f]{6}$/i.test(colour) ? colour + '33' : colour)

// Calls `fn` at most once per animation frame.
const coalesce = (fn) => {
  let queued = false
  return () => {
    if (queued) return
    queued = true
    requestAnimationFrame(() => {
      queued = false
      fn()
    })
  }
}

const noop = () => {}

class Room {
  constructor (element, options) {
    this.options = options
    this.callbacks = {
      status: noop, peers: noop, presence: noop, changes: noop, loaded: noop, text: noop
    }
    this.me = { client: 0, name: options.name, colour: options.colour }
    this.pending = 0
    this.everConnected = false
    this.known = new Map()
    this.localRecords = []
    this.nextLocal = 1
    this.seedText = null
    this.destroyed = false

    this.doc = new Y.Doc()
    this.me.client = this.doc.clientID
    this.ytext = this.doc.getText(TEXT_NAME)
    this.records = this.doc.getArray(CHANGES_NAME)

    // Offline copy: keyed by hub and room so two hubs' rooms of one name never mix.
    try {
      this.idb = new IndexeddbPersistence(`mossy-editor ${options.url} ${options.room}`, this.doc)
    } catch (err) {
      console.warn('mossy-editor: no offline copy; IndexedDB is unavailable', err)
      this.idb = null
    }

    const params = options.token ? { token: options.token } : {}
    this.provider = new WebsocketProvider(options.url, options.room, this.doc, {
      params,
      disableBc: true,
      maxBackoffTime: MAX_BACKOFF_MS
    })
    this.awareness = this.provider.awareness
    this.awareness.setLocalStateField('user', {
      name: options.name,
      color: options.colour,
      colorLight: lighten(options.colour)
    })

    this.undoManager = new Y.UndoManager(this.ytext)
    this.view = new EditorView({
      parent: element,
      state: EditorState.create({
        doc: this.ytext.toString(),
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          papyrus,
          syntaxHighlighting(classHighlighter),
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
          yCollab(this.ytext, this.awareness, { undoManager: this.undoManager }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) this.emitText()
          })
        ]
      }),
      dispatchTransactions: (transactions, view) => this.dispatch(transactions, view)
    })

    this.emitStatus = coalesce(() => this.callbacks.status(this.status()))
    this.emitPeers = coalesce(() => this.callbacks.peers(this.peers()))
    this.emitChanges = coalesce(() => this.callbacks.changes(this.changes()))
    this.emitText = coalesce(() => this.callbacks.text(this.view.state.doc.length))

    this.provider.on('status', () => this.emitStatus())
    this.provider.on('sync', (synced) => this.onSync(synced))
    this.awareness.on('change', (change, origin) => this.onAwareness(change, origin))
    this.records.observeDeep(() => this.emitChanges())
    this.ytext.observe((event, tr) => this.onTextEvent(event, tr))
  }

  // Local edits are written to Yjs inside one transaction together with their change record:
  // y-codemirror.next's own transaction nests into this one, and using its origin keeps its
  // echo filter and the undo manager working as before.
  dispatch (transactions, view) {
    const local = transactions.some(
      (tr) => tr.docChanged && tr.annotation(ySyncAnnotation) === undefined
    )
    if (!local) {
      view.update(transactions)
      return
    }
    const conf = view.state.facet(ySyncFacet)
    this.doc.transact(() => {
      view.update(transactions)
      for (const tr of transactions) {
        if (!tr.docChanged) continue
        const summary = summarise(tr.changes)
        if (summary) recordLocal(this.records, this.ytext, this.me, summary)
      }
    }, conf)
    if (!this.provider.synced) {
      this.pending += 1
      this.emitStatus()
    }
  }

  onSync (synced) {
    if (!synced) return
    this.everConnected = true
    this.pending = 0
    this.emitStatus()
    if (this.seedText !== null) this.seed()
    clearTimeout(this.rejoinTimer)
    this.rejoinTimer = setTimeout(() => this.forgetAbsent(), REJOIN_GRACE_MS)
  }

  seed () {
    const text = this.seedText
    this.seedText = null
    const empty = this.ytext.length === 0
    if (empty && text.length > 0) {
      const seedDoc = new Y.Doc()
      seedDoc.clientID = seedClientId(text)
      seedDoc.getText(TEXT_NAME).insert(0, text)
      Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(seedDoc), SEED_ORIGIN)
      seedDoc.destroy()
    }
    this.callbacks.loaded({ seeded: empty, matchesFile: this.ytext.toString() === text })
  }

  onTextEvent (event, tr) {
    if (tr.local || tr.origin === SEED_ORIGIN || (this.idb && tr.origin === this.idb)) return
    // Edits from our own kind of client come with their record in the same transaction.
    if (tr.changedParentTypes.has(this.records)) return
    // The first sync brings the whole history; that is not a change anyone just made.
    if (!this.provider.synced) return
    const record = recordRemote(event, this.ytext, (client) => this.peerName(client))
    if (record === null) return
    record.key = `local-${this.nextLocal++}`
    this.localRecords.push(record)
    if (this.localRecords.length > MAX_LISTED) this.localRecords.shift()
    this.emitChanges()
  }

  peerName (client) {
    const state = this.awareness.getStates().get(client)
    const user = state && state.user
    if (user && user.name) return { name: String(user.name), colour: String(user.color || '') }
    const known = this.known.get(client)
    return known || null
  }

  onAwareness ({ added, updated, removed }, origin) {
    const states = this.awareness.getStates()
    for (const id of added.concat(updated)) {
      if (id === this.doc.clientID) continue
      const user = (states.get(id) || {}).user
      if (!user || !user.name) continue
      const peer = { name: String(user.name), colour: String(user.color || '') }
      const before = this.known.get(id)
      this.known.set(id, peer)
      if (!before) {
        this.callbacks.presence({ kind: 'joined', id, ...peer, at: Date.now() })
        this.emitChanges()
      }
    }
    // When our own connection drops, y-websocket forgets every peer at once: that is not them
    // leaving. They are checked again once we are back (see forgetAbsent).
    const ownDrop = origin === this.provider && !this.provider.wsconnected
    for (const id of removed) {
      const peer = this.known.get(id)
      if (!peer || ownDrop) continue
      this.known.delete(id)
      this.callbacks.presence({ kind: 'left', id, ...peer, at: Date.now() })
    }
    this.emitPeers()
  }

  forgetAbsent () {
    const states = this.awareness.getStates()
    for (const [id, peer] of this.known) {
      if (states.has(id)) continue
      this.known.delete(id)
      this.callbacks.presence({ kind: 'left', id, ...peer, at: Date.now() })
    }
    this.emitPeers()
  }

  status () {
    let state
    if (this.provider.wsconnected && this.provider.synced) state = 'connected'
    else if (this.pending > 0) state = 'offline'
    else if (this.everConnected) state = 'reconnecting'
    else state = 'connecting'
    return { state, pending: this.pending }
  }

  peers () {
    const list = []
    this.awareness.getStates().forEach((state, id) => {
      const user = state.user
      if (!user || !user.name) return
      list.push({
        id,
        name: String(user.name),
        colour: String(user.color || ''),
        me: id === this.doc.clientID
      })
    })
    return list
  }

  changes () {
    const list = []
    this.records.forEach((record) => {
      if (!(record instanceof Y.Map) || !record._item) return
      const id = record._item.id
      list.push({
        key: `${id.client}-${id.clock}`,
        name: String(record.get('name') || 'a peer'),
        colour: String(record.get('colour') || ''),
        mine: record.get('client') === this.doc.clientID,
        summary: describe(record.get('kind'), Number(record.get('count') || 0)),
        at: Number(record.get('at') || 0)
      })
    })
    for (const record of this.localRecords) {
      // A stock peer's edit can arrive before its awareness says who it is: name it now.
      const peer = record.client === null ? null : this.peerName(record.client)
      list.push({
        key: record.key,
        name: peer ? peer.name : record.name,
        colour: peer ? peer.colour : record.colour,
        mine: false,
        summary: describe(record.kind, record.count),
        at: record.at
      })
    }
    list.sort((a, b) => b.at - a.at)
    return list.slice(0, MAX_LISTED)
  }

  positionOf (key) {
    const local = this.localRecords.find((record) => record.key === key)
    if (local) return local.pos
    let found = null
    this.records.forEach((record) => {
      if (!(record instanceof Y.Map) || !record._item) return
      const id = record._item.id
      if (`${id.client}-${id.clock}` === key) found = record.get('pos')
    })
    return found
  }

  jumpTo (key) {
    const json = this.positionOf(key)
    if (!json) return false
    const abs = Y.createAbsolutePositionFromRelativePosition(
      Y.createRelativePositionFromJSON(json),
      this.doc
    )
    if (abs === null || abs.type !== this.ytext) return false
    const pos = Math.min(abs.index, this.view.state.doc.length)
    this.view.dispatch({
      selection: { anchor: pos },
      effects: EditorView.scrollIntoView(pos, { y: 'center' })
    })
    this.view.focus()
    return true
  }

  destroy () {
    if (this.destroyed) return
    this.destroyed = true
    // Frames already queued must not call into a page that let go of its callbacks.
    for (const key of Object.keys(this.callbacks)) this.callbacks[key] = noop
    clearTimeout(this.rejoinTimer)
    this.view.destroy()
    this.provider.destroy()
    if (this.idb) this.idb.destroy()
    this.doc.destroy()
  }
}

// The handle the page holds. Only these methods are the API; Room's insides may change.
const handleFor = (room) => ({
  onStatus: (fn) => { room.callbacks.status = fn; fn(room.status()) },
  onPeers: (fn) => { room.callbacks.peers = fn; fn(room.peers()) },
  onPresence: (fn) => { room.callbacks.presence = fn },
  onChanges: (fn) => { room.callbacks.changes = fn; fn(room.changes()) },
  onLoaded: (fn) => { room.callbacks.loaded = fn },
  onText: (fn) => { room.callbacks.text = fn },
  // Seeds the room with `text` after the first sync with the hub, only if the room is empty.
  seedIfEmpty: (text) => {
    room.seedText = String(text)
    if (room.provider.synced) room.seed()
  },
  text: () => room.view.state.doc.toString(),
  jumpTo: (key) => room.jumpTo(String(key)),
  // Undo and redo our own edits only: the undo manager tracks this client's transactions,
  // never a peer's, the seed or the offline copy's replay.
  undo: () => { room.undoManager.undo(); room.view.focus() },
  redo: () => { room.undoManager.redo(); room.view.focus() },
  focus: () => room.view.focus(),
  destroy: () => room.destroy()
})

window.MossyEditor = Object.freeze({
  // options: {url, room, token, name, colour}
  open: (element, options) => handleFor(new Room(element, options))
})
