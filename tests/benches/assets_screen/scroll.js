// Run by the assets_screen bench through WebDriver: records frame gaps untouched, then while
// moving the asset grid from top to bottom in proportion to the time; counts the scrolling
// frames in which some card was still waiting for its row.
const [idle, duration] = arguments;
const list = document.querySelector('#assets-grid .vlist');
const state = { idle: [], gaps: [], waiting: 0, done: false, elapsed: 0 };
window.__assetsScroll = state;
let last = null, idleEnd = null, started = null;
const step = () => {
  const now = performance.now();
  if (last === null) { last = now; idleEnd = now + idle; requestAnimationFrame(step); return; }
  const gap = now - last;
  last = now;
  if (started === null) {
    state.idle.push(gap);
    if (now >= idleEnd) started = now;
  } else {
    state.gaps.push(gap);
    if (list.querySelector('.asset-card.pending')) state.waiting += 1;
    const part = Math.min((now - started) / duration, 1);
    list.scrollTop = part * (list.scrollHeight - list.clientHeight);
    if (part >= 1) { state.elapsed = now - started; state.done = true; return; }
  }
  requestAnimationFrame(step);
};
requestAnimationFrame(step);
return true;
