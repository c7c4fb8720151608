// The texts of the scripts in the page's language.
//
// Each script (map.js, table.js) has its French texts as defaults; a page in another
// language carries them translated in `<meta name="tierslieux-messages" content="…">`
// (JSON `{"map": {...}, "table": {...}}`, written by tierslieux.web.rendering), and an
// element's own `data-messages` (JSON) overrides both.

/** The texts of `script`: `defaults`, then the page's meta, then the element's own. */
export function messagesFor(script, defaults, own = "") {
  let page = {};
  try {
    const meta = document.querySelector('meta[name="tierslieux-messages"]');
    page = (meta ? JSON.parse(meta.content) : {})[script] ?? {};
  } catch {
    // Malformed meta: keep the defaults.
  }
  let mine = {};
  try {
    mine = own ? JSON.parse(own) : {};
  } catch {
    // Malformed data-messages: keep the others.
  }
  return { ...defaults, ...page, ...mine };
}
