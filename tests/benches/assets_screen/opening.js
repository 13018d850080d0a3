// Run by the assets_screen bench through WebDriver: starts an opening of the Assets panel
// and follows it frame by frame, recording into window.__assetsOpening (ms from the start).
const [folder, countText] = arguments;
const state = { start: performance.now(), grid: null, count: null, seen: null, done: null,
                cards: 0, loaded: 0, failed: 0 };
window.__assetsOpening = state;
const screen = () => {
  const out = { complete: false, cards: 0, loaded: 0, failed: 0 };
  const list = document.querySelector('#assets-grid .vlist');
  if (!list) return out;
  const view = list.getBoundingClientRect();
  const top = Math.max(view.top, 0), bottom = Math.min(view.bottom, window.innerHeight);
  const left = Math.max(view.left, 0), right = Math.min(view.right, window.innerWidth);
  let wholeRow = false;
  for (const card of list.querySelectorAll('.asset-card:not(.blank)')) {
    const box = card.getBoundingClientRect();
    if (box.bottom <= top || box.top >= bottom || box.right <= left || box.left >= right) continue;
    out.cards += 1;
    const img = card.querySelector('img');
    if (img && img.complete && img.naturalWidth > 0) out.loaded += 1;
    else if (img && img.complete) out.failed += 1;
    if (box.top >= top && box.bottom <= bottom) wholeRow = true;
  }
  out.complete = out.cards > 0 && out.loaded === out.cards && wholeRow;
  return out;
};
const step = () => {
  const now = performance.now() - state.start;
  if (state.grid === null && document.querySelector('.asset-card[data-name]')) state.grid = now;
  const count = document.querySelector('#asset-count');
  if (state.count === null && count && count.textContent === countText) state.count = now;
  if (state.done === null) {
    if (state.seen !== null) {
      state.done = now;
    } else {
      const found = screen();
      state.cards = found.cards; state.loaded = found.loaded; state.failed = found.failed;
      if (found.complete) state.seen = now;
    }
  }
  if (state.done === null || state.count === null) requestAnimationFrame(step);
};
requestAnimationFrame(step);
if (folder === null) {
  document.querySelector('#nav-assets').click();
} else {
  const input = document.querySelector('#folder-path');
  input.value = folder;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  document.querySelector('#folder-add').click();
}
return true;
