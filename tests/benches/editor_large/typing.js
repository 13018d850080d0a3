// Run by the editor_large bench through WebDriver: types `count` characters, one every `every`
// milliseconds (a fast typist), into `target` ('editor': the Editor panel's CodeMirror, or
// 'textarea': the plain reference field with the same text), halfway down the document, and
// records for each character the time from the input to the second animation frame after it,
// by when the frame showing the character has been painted.
const [target, count, every] = arguments;
const state = { lags: [], done: false, error: null, typed: false };
window.__typing = state;
const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const placeCursor = async () => {
  if (target === 'textarea') {
    const field = document.getElementById('bench-textarea');
    field.focus();
    const middle = Math.floor(field.value.length / 2);
    field.setSelectionRange(middle, middle);
    return () => field.value.includes('x'.repeat(count));
  }
  const scroller = document.querySelector('.cm-scroller');
  scroller.scrollTop = (scroller.scrollHeight - scroller.clientHeight) / 2;
  await frame();
  await frame();
  const box = scroller.getBoundingClientRect();
  const line = [...document.querySelectorAll('.cm-content .cm-line')]
    .find((l) => l.getBoundingClientRect().top > box.top + box.height / 2);
  if (!line) throw new Error('no line in the middle of the editor');
  document.querySelector('.cm-content').focus();
  const range = document.createRange();
  range.selectNodeContents(line);
  range.collapse(false);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  await frame();
  await frame();
  return () => {
    const active = document.querySelector('.cm-activeLine');
    return !!active && active.textContent.includes('x'.repeat(count));
  };
};

(async () => {
  const typedAll = await placeCursor();
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    document.execCommand('insertText', false, 'x');
    await frame();
    await frame();
    state.lags.push(performance.now() - started);
    const rest = every - (performance.now() - started);
    if (rest > 0) await pause(rest);
  }
  await frame();
  state.typed = typedAll();
  state.done = true;
})().catch((err) => { state.error = String(err); state.done = true; });
return true;
