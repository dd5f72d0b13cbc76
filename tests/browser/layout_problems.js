// What sticks out past the viewport's right edge of the main content, and dates broken over two
// lines (tests/browser/test_layout.py). A box that scrolls sideways on its own keeps its content.
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '')
    + ' "' + (e.textContent || '').trim().slice(0, 40) + '"';
  const clipped = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if (overflow === 'auto' || overflow === 'scroll' || overflow === 'hidden') return true;
    }
    return false;
  };
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px wide in ' + width + 'px');
  }
  for (const e of document.querySelectorAll('main *')) {
    const box = e.getBoundingClientRect();
    const parent = e.parentElement.getBoundingClientRect();
    // Only the outermost element that sticks out (its children stick out with it).
    if (box.width && box.right > width + 1 && parent.right <= width + 1 && !clipped(e)) {
      problems.push(name(e) + ' ends at ' + Math.round(box.right) + 'px');
    }
  }
  for (const e of document.querySelectorAll('main time, main .date, main td.num')) {
    const text = (e.textContent || '').trim();
    if (!/^\d{4}-\d{2}-\d{2}/.test(text) || e.querySelector('br')) continue;
    const range = document.createRange();
    range.selectNodeContents(e);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) problems.push('the date ' + name(e) + ' wraps');
  }
  return problems.slice(0, 20);
}
