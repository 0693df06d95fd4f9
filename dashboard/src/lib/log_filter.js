// Which log entries the tail shows: pure, so it is unit-tested.

export const KEEP = 2000; // entries held in memory
export const SHOW = 400; // lines in the DOM at most

// Entries matching both filters (request id: substring; text: case-
// insensitive substring of the line), the newest `show` of them, oldest first.
export function visibleLines(entries, rid, text, show = SHOW) {
  const r = rid.trim();
  const t = text.trim().toLowerCase();
  const out = [];
  for (let i = entries.length - 1; i >= 0 && out.length < show; i--) {
    const e = entries[i];
    if (r && !(e.request_id || '').includes(r)) continue;
    if (t && !(e.line || '').toLowerCase().includes(t)) continue;
    out.push(e);
  }
  return out.reverse();
}

// Appends `entry`, dropping the oldest beyond `keep`.
export function appendBounded(list, entry, keep = KEEP) {
  list.push(entry);
  if (list.length > keep) list.splice(0, list.length - keep);
  return list;
}
