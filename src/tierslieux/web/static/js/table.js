// Sortable, filterable tables by progressive enhancement: without JavaScript a
// `<table data-table>` stays a plain table; with it, each column header becomes a sort
// button (aria-sort tells the order) and a filter field is added above the table.
// A cell's `data-sort-value` is used for sorting instead of its text when present.
// Texts are French by default; a page in another language gives them translated
// (messages.js: the `tierslieux-messages` meta), a table its own with data-messages.

import { messagesFor } from "./messages.js";

export const MESSAGES = {
  filter: "Filtrer les lignes",
  shown: "Lignes affichées : {shown} sur {total}",
};

const MISSING = new Set(["", "—", "-", "–", "n/a", "s.o."]);

/** A French or English number written for reading ("12 345,6", "1.5 %"), else null. */
export function parseNumber(text) {
  const cleaned = String(text)
    .trim()
    .replace(/[\s\u00a0\u202f]/g, "")
    .replace(/%$/, "")
    .replace(",", ".")
    .replace(/^−/, "-");
  if (!/^[-+]?\d*\.?\d+(e[-+]?\d+)?$/i.test(cleaned)) return null;
  return Number(cleaned);
}

function normalise(text) {
  return String(text)
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase();
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

function cellValue(row, index) {
  const cell = row.cells[index];
  if (!cell) return { missing: true, number: null, text: "" };
  const raw = cell.dataset.sortValue ?? cell.textContent;
  const text = raw.trim();
  return { missing: MISSING.has(text.toLowerCase()), number: parseNumber(text), text };
}

function compare(a, b, lang) {
  if (a.missing || b.missing) return a.missing === b.missing ? 0 : a.missing ? 1 : -1;
  if (a.number !== null && b.number !== null) return a.number - b.number;
  return a.text.localeCompare(b.text, lang, { sensitivity: "base", numeric: true });
}

/** Enhance one table; returns an object with `sort(index, descending)` and `filter(text)`. */
export function enhanceTable(table) {
  if (table.dataset.tableState === "ready") return table.tierslieuxTable;
  const body = table.tBodies[0];
  const headRow = table.tHead?.rows[0];
  if (!body || !headRow) return null;
  const lang = document.documentElement.lang || "fr";
  const messages = messagesFor("table", MESSAGES, table.dataset.messages);
  const rows = [...body.rows];
  const id = table.id || `tableau-${Math.random().toString(36).slice(2, 8)}`;

  const bar = document.createElement("div");
  bar.className = "tableau-filtre";
  const label = document.createElement("label");
  label.htmlFor = `${id}-filtre`;
  label.textContent = messages.filter;
  const input = document.createElement("input");
  input.type = "search";
  input.id = `${id}-filtre`;
  input.setAttribute("aria-controls", id);
  table.id = id;
  const status = document.createElement("span");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  bar.append(label, input, status);
  table.before(bar);

  const api = {
    filter(text) {
      const wanted = normalise(text.trim());
      let shown = 0;
      for (const row of rows) {
        const visible = !wanted || normalise(row.textContent).includes(wanted);
        row.hidden = !visible;
        if (visible) shown += 1;
      }
      status.textContent = fill(messages.shown, { shown, total: rows.length });
      table.dataset.shown = String(shown);
    },
    sort(index, descending = false) {
      const order = rows
        .map((row, position) => ({ row, position, value: cellValue(row, index) }))
        .sort((a, b) => {
          const result = compare(a.value, b.value, lang);
          if (result === 0) return a.position - b.position;
          // Missing values stay last in both orders.
          if (a.value.missing || b.value.missing) return result;
          return descending ? -result : result;
        });
      body.append(...order.map((item) => item.row));
      [...headRow.cells].forEach((cell, position) => {
        if (position === index) cell.setAttribute("aria-sort", descending ? "descending" : "ascending");
        else cell.removeAttribute("aria-sort");
      });
    },
  };

  [...headRow.cells].forEach((cell, index) => {
    if (cell.dataset.sort === "non") return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tableau-tri";
    button.append(...cell.childNodes);
    cell.append(button);
    button.addEventListener("click", () => {
      api.sort(index, cell.getAttribute("aria-sort") === "ascending");
    });
  });
  input.addEventListener("input", () => api.filter(input.value));
  api.filter("");
  table.tierslieuxTable = api;
  table.dataset.tableState = "ready";
  return api;
}

/** Enhance every `table[data-table]` of `root`. */
export function enhanceTables(root = document) {
  return [...root.querySelectorAll("table[data-table]")].map(enhanceTable);
}

enhanceTables();
