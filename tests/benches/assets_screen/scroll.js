// Run by the assets_screen bench through WebDriver: records frame gaps untouched, then while
// moving the asset grid, and counts the moving frames in which some card was still waiting
// for its row. Arguments: the idle time and the moving time in milliseconds, and the speed
// in pixels a second, upwards from where the grid is when negative; null moves it from top
// to bottom in proportion to the time (a fling through the whole list).
const [idle, duration, speed] = arguments;
const list = document.querySelector('#assets-grid .vlist');
const state = { idle: [], gaps: [], waiting: 0, done: false, elapsed: 0, moved: 0 };
window.__assetsScroll = state;
let last = null, idleEnd = null, started = null, from = 0;
const step = () => {
  const now = performance.now();
  if (last === null) { last = now; idleEnd = now + idle; requestAnimationFrame(step); return; }
  const gap = now - last;
  last = now;
  if (started === null) {
    state.idle.push(gap);
    if (now >= idleEnd) { started = now; from = list.scrollTop; }
  } else {
    state.gaps.push(gap);
    if (list.querySelector('.asset-card.pending')) state.waiting += 1;
    const part = Math.min((now - started) / duration, 1);
    const bottom = list.scrollHeight - list.clientHeight;
    const to = speed === null ? part * bottom : from + (speed * part * duration) / 1000;
    list.scrollTop = Math.max(0, Math.min(bottom, to));
    state.moved = Math.abs(list.scrollTop - from);
    if (part >= 1) { state.elapsed = now - started; state.done = true; return; }
  }
  requestAnimationFrame(step);
};
requestAnimationFrame(step);
return true;
