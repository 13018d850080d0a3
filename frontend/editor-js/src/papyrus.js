// Papyrus (the Creation Kit's scripting language) for CodeMirror: a stream tokenizer, so no
// grammar build step is needed. Papyrus ignores case, so every word is compared in lower case.
// Tokens map to Lezer highlight tags; the editor uses the class highlighter, which turns them
// into `tok-*` classes styled in frontend/style/editor.css.
import { StreamLanguage } from '@codemirror/language'

const KEYWORDS = new Set([
  'scriptname', 'extends', 'function', 'endfunction', 'event', 'endevent', 'if', 'elseif',
  'else', 'endif', 'while', 'endwhile', 'property', 'endproperty', 'auto', 'autoreadonly',
  'conditional', 'native', 'global', 'return', 'new', 'state', 'endstate', 'import', 'hidden',
  'as', 'length', 'struct', 'endstruct', 'group', 'endgroup', 'const', 'mandatory',
  'collapsed', 'collapsedonref', 'collapsedonbase', 'betaonly', 'debugonly', 'customevent',
  'is'
])

const ATOMS = new Set(['none', 'true', 'false', 'self', 'parent'])

const TYPES = new Set(['int', 'float', 'bool', 'string', 'var', 'object', 'scriptobject'])

const startState = () => ({ inBrace: false, inSemiBlock: false })

// Skips to the end of a `{ }` comment; returns whether it closed on this line.
const skipBrace = (stream) => {
  if (stream.skipTo('}')) {
    stream.next()
    return true
  }
  stream.skipToEnd()
  return false
}

// Skips to the end of a `;/ /;` comment; returns whether it closed on this line.
const skipSemiBlock = (stream) => {
  if (stream.skipTo('/;')) {
    stream.next()
    stream.next()
    return true
  }
  stream.skipToEnd()
  return false
}

const token = (stream, state) => {
  if (state.inBrace) {
    state.inBrace = !skipBrace(stream)
    return 'comment'
  }
  if (state.inSemiBlock) {
    state.inSemiBlock = !skipSemiBlock(stream)
    return 'comment'
  }
  if (stream.eatSpace()) return null

  if (stream.match(';/')) {
    state.inSemiBlock = !skipSemiBlock(stream)
    return 'comment'
  }
  if (stream.eat(';')) {
    stream.skipToEnd()
    return 'comment'
  }
  if (stream.eat('{')) {
    state.inBrace = !skipBrace(stream)
    return 'comment'
  }
  if (stream.eat('"')) {
    let escaped = false
    let ch
    while ((ch = stream.next()) != null) {
      if (ch === '"' && !escaped) break
      escaped = !escaped && ch === '\\'
    }
    return 'string'
  }
  if (stream.match(/^0x[0-9a-f]+/i) || stream.match(/^-?\d+(\.\d+)?(e[+-]?\d+)?/i)) {
    return 'number'
  }
  const word = stream.match(/^[a-z_][a-z0-9_]*(:[a-z_][a-z0-9_]*)*/i)
  if (word) {
    const lower = word[0].toLowerCase()
    if (KEYWORDS.has(lower)) return 'keyword'
    if (ATOMS.has(lower)) return 'atom'
    if (TYPES.has(lower)) return 'typeName'
    return 'variableName'
  }
  if (stream.match(/^(==|!=|<=|>=|&&|\|\||[-+*/%]=?|[=<>!])/)) return 'operator'
  if (stream.match(/^[()[\],.]/)) return 'punctuation'
  stream.next()
  return null
}

/** The Papyrus language for CodeMirror. */
export const papyrus = StreamLanguage.define({
  name: 'papyrus',
  startState,
  token,
  copyState: (state) => ({ ...state }),
  languageData: {
    commentTokens: { line: ';', block: { open: ';/', close: '/;' } }
  }
})
