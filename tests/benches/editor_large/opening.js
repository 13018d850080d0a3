// Run by the editor_large bench through WebDriver: clicks Open (the path is already typed)
// and follows every animation frame until the script's first line shows in the editor and,
// separately, until the connection chip says "connected" (the text is in the room by then).
// Times are from the click to the frame after, when the frame that showed it was painted.
const firstLine = arguments[0];
const state = { shown: null, connected: null, done: false };
window.__opening = state;
const started = performance.now();
let shownAt = null;
let connectedAt = null;
const step = () => {
  const now = performance.now();
  if (shownAt !== null && state.shown === null) state.shown = now - started;
  if (connectedAt !== null && state.connected === null) state.connected = now - started;
  const content = document.querySelector('.cm-content');
  if (shownAt === null && content && content.textContent.includes(firstLine)) shownAt = now;
  const chip = document.querySelector('#editor-connection');
  if (shownAt !== null && connectedAt === null && chip && chip.dataset.state === 'connected') {
    connectedAt = now;
  }
  if (state.shown !== null && state.connected !== null) {
    state.done = true;
    return;
  }
  requestAnimationFrame(step);
};
document.getElementById('editor-open').click();
requestAnimationFrame(step);
return true;
