// The Changes list: who changed what, and where.
//
// Our own clients write a record into a shared `Y.Array` named `changes` in the SAME Yjs
// transaction as the edit, so every peer gets the record together with the text and can
// attribute it without guessing. A record is a `Y.Map` {client, name, colour, kind, count,
// at, pos}; `pos` is a Yjs relative position (JSON), so a jump lands on the right text even
// after others typed above it. Keystrokes in a row by the same person are folded into one
// record. Edits from stock Yjs peers (which write no record) get a record on this machine only,
// attributed through the inserted items' client ids and the awareness names.
import * as Y from 'yjs'

/** Name of the shared array of change records in every room's document. */
export const CHANGES_NAME = 'changes'

/** Records kept in the shared array; older ones are removed by whoever adds a new one. */
export const MAX_SHARED_RECORDS = 300

/** Keystrokes of one person closer together than this are folded into one record. */
export const FOLD_WINDOW_MS = 4000

/** Records handed to the page at most; the list is newest first. */
export const MAX_LISTED = 200

/**
 * Sums a CodeMirror transaction's changes into one insert or delete summary, with the position
 * (in the new document) where it happened.
 */
export const summarise = (changes) => {
  let inserted = 0
  let deleted = 0
  let at = null
  changes.iterChanges((fromA, toA, fromB, toB) => {
    inserted += toB - fromB
    deleted += toA - fromA
    if (at === null) at = fromB
  })
  if (at === null) return null
  return inserted >= deleted
    ? { kind: 'insert', count: inserted, at }
    : { kind: 'delete', count: deleted, at }
}

/**
 * Writes or folds a record of a local edit. Must run inside the edit's transaction.
 * `me` is {client, name, colour}.
 */
export const recordLocal = (array, ytext, me, summary) => {
  const now = Date.now()
  const last = array.length > 0 ? array.get(array.length - 1) : null
  if (
    last instanceof Y.Map &&
    last.get('client') === me.client &&
    last.get('kind') === summary.kind &&
    now - last.get('at') < FOLD_WINDOW_MS &&
    isNear(last, ytext, summary.at)
  ) {
    last.set('count', last.get('count') + summary.count)
    last.set('at', now)
    return
  }
  const pos = Y.createRelativePositionFromTypeIndex(ytext, summary.at)
  const record = new Y.Map()
  record.set('client', me.client)
  record.set('name', me.name)
  record.set('colour', me.colour)
  record.set('kind', summary.kind)
  record.set('count', summary.count)
  record.set('at', now)
  record.set('pos', Y.relativePositionToJSON(pos))
  array.push([record])
  if (array.length > MAX_SHARED_RECORDS) array.delete(0, array.length - MAX_SHARED_RECORDS)
}

// True when `at` is next to the text the record already covers, so typing on at the same place
// folds while an edit elsewhere starts a new record.
const isNear = (record, ytext, at) => {
  const pos = Y.createAbsolutePositionFromRelativePosition(
    Y.createRelativePositionFromJSON(record.get('pos')),
    ytext.doc
  )
  if (pos === null || pos.type !== ytext) return false
  return Math.abs(at - pos.index) <= record.get('count') + 1
}

/** What a record says, in words: "inserted 12 chars", "deleted 1 char". */
export const describe = (kind, count) => {
  const unit = count === 1 ? 'char' : 'chars'
  return `${kind === 'insert' ? 'inserted' : 'deleted'} ${count} ${unit}`
}

/**
 * Builds a record for a remote edit that came without one (a stock Yjs peer), from a Y.Text
 * event: the author is the client id of the inserted items, when there are any.
 */
export const recordRemote = (event, ytext, nameOf) => {
  let inserted = 0
  let deleted = 0
  let index = 0
  let at = null
  for (const op of event.delta) {
    if (op.retain != null) index += op.retain
    if (op.insert != null) {
      if (at === null) at = index
      inserted += op.insert.length
      index += op.insert.length
    }
    if (op.delete != null) {
      if (at === null) at = index
      deleted += op.delete
    }
  }
  if (at === null) return null
  // The author of an insertion is the client id of the first inserted character, which is
  // the item a relative position at that index points to. (`event.changes.added` is empty
  // for text events, so it cannot tell.) A pure deletion carries no author.
  const pos = Y.createRelativePositionFromTypeIndex(ytext, at)
  const client = inserted > 0 && pos.item ? pos.item.client : null
  const peer = client === null ? null : nameOf(client)
  return {
    client,
    name: peer ? peer.name : 'a peer',
    colour: peer ? peer.colour : '',
    kind: inserted >= deleted ? 'insert' : 'delete',
    count: inserted >= deleted ? inserted : deleted,
    at: Date.now(),
    pos: Y.relativePositionToJSON(pos)
  }
}
