// Interactive choropleth of communes (MapLibre GL, served by the application itself).
//
// Every element `<div data-map data-geojson-url="…">` of the page becomes a map; all the
// configuration is in data attributes (no inline script: CSP `script-src 'self'`).
// The data attribute contract, the metadata and catchment formats are documented in
// src/tierslieux/web/static/README.md.  No basemap by default: white background and
// grey commune outlines; `data-basemap-url` (or the page's
// `<meta name="tierslieux-basemap">`) adds raster tiles.
import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { messagesFor } from "./messages.js";

/** Palette and "no data" colour of reports/maps.py (ColorBrewer YlGnBu, 5 classes). */
export const PALETTE = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"];
export const NO_DATA = "#dddddd";
const OUTLINE = "#6f6f6f";

/**
 * French defaults of every text shown; a page in another language gives them translated
 * (messages.js: the `tierslieux-messages` meta, then the element's data-messages).
 */
export const MESSAGES = {
  indicator: "Indicateur",
  commune: "Commune",
  chooseCommune: "— choisir une commune —",
  noData: "Sans donnée",
  unit: "Unité : {unit}",
  tooltip: "{name} ({code}) : {value}",
  catchmentTitle: "Bassin de {minutes} minutes autour de {name}",
  catchmentTitleAny: "Bassin autour de {name}",
  catchmentCount: "{count} communes dans le bassin",
  catchmentLoading: "Chargement du bassin de {name}…",
  catchmentError: "Bassin de {name} indisponible ({error}).",
  loading: "Chargement de la carte…",
  loadError: "La carte n'a pas pu être chargée ({error}).",
  webglError:
    "Ce navigateur ne peut pas afficher la carte interactive (WebGL indisponible) ; " +
    "le tableau des communes donne les mêmes chiffres.",
  mapLabel: "Carte des communes",
  zoomIn: "Zoomer",
  zoomOut: "Dézoomer",
  resetBearing: "Réorienter la carte vers le nord",
  close: "Fermer",
  attribution: "Crédits du fond de carte",
  pointTooltip: "{name} — {label} ({commune})",
  pointLink: "Ouvrir la fiche contact",
  pointsCount: "{count} structures sur la carte",
  sameValue: "Toutes les communes ont la même valeur : {value}",
  sameValueKnown: "Toutes les communes renseignées ont la même valeur : {value}",
};

/** Properties of the diagnosis GeoJSON that are never indicators. */
const NOT_INDICATORS = new Set(["code", "nom", "latitude", "longitude", "rural", "synthetique"]);

/** Replace each `{name}` of `template` by `values[name]`. */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

/**
 * Upper bounds of at most `classes` quantile classes, exactly as reports/maps.py
 * `class_breaks` (NumPy's default "linear" quantiles, equal bounds merged).
 */
export function classBreaks(values, classes = PALETTE.length) {
  const data = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (data.length === 0) return [];
  data.sort((a, b) => a - b);
  const n = data.length;
  const step = 1 / classes; // numpy.linspace(0, 1, classes + 1)[1:]
  const bounds = new Set();
  for (let i = 1; i <= classes; i += 1) {
    const q = i === classes ? 1 : i * step;
    const h = (n - 1) * q;
    if (h >= n - 1) {
      bounds.add(data[n - 1]);
      continue;
    }
    const below = Math.floor(h);
    const gamma = h - below;
    const a = data[below];
    const b = data[below + 1];
    bounds.add(gamma >= 0.5 ? b - (b - a) * (1 - gamma) : a + (b - a) * gamma);
  }
  return [...bounds].sort((a, b) => a - b);
}

/** Colour of `value`: the first class whose upper bound is at least the value. */
export function colourOf(value, breaks, palette = PALETTE) {
  if (typeof value !== "number" || !Number.isFinite(value) || breaks.length === 0) return NO_DATA;
  const index = breaks.findIndex((upper) => value <= upper);
  return palette[index === -1 ? palette.length - 1 : index];
}

/** A number written for reading in `lang` (French: 12 345,6), "—" when missing. */
export function formatNumber(value, decimals = 0, lang = "fr") {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  return new Intl.NumberFormat(lang, {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  }).format(value);
}

/**
 * Legend rows `{colour, text}` as reports/maps.py `_legend` writes them.  When every
 * commune with a value has the same one (a single class, all 0 say), one row says so
 * (`sameValue`, or `sameValueKnown` when some communes have no data) instead of a
 * lone « 0 » class.  `zeroLabel` names the class of 0 (the metadata's `libelle_zero`:
 * « 0 (non couverte) »), as reports/maps.py `_legend`.
 */
export function legendRows(values, breaks, options = {}) {
  const {
    decimals = 0,
    lang = "fr",
    palette = PALETTE,
    minimum = null,
    noData = null,
    zeroLabel = null,
    sameValue = MESSAGES.sameValue,
    sameValueKnown = MESSAGES.sameValueKnown,
  } = options;
  const valid = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  let lower = minimum ?? (valid.length ? Math.min(...valid) : 0);
  const rows = [];
  const missing = valid.length < values.length;
  if (valid.length && valid.every((v) => v === valid[0])) {
    const value = formatNumber(valid[0], decimals, lang);
    rows.push({
      colour: colourOf(valid[0], breaks, palette),
      text: fill(missing ? sameValueKnown : sameValue, { value }),
    });
    if (noData && missing) rows.push({ colour: NO_DATA, text: noData });
    return rows;
  }
  // Whole counts: a class of one value (0, say) is followed by « 1 – 4 », not « 0 – 4 »
  // (the next class holds the values above it), as reports/maps.py `_legend`.
  const whole = decimals === 0 && valid.every((v) => Number.isInteger(v));
  const shown = breaks.slice(0, palette.length);
  shown.forEach((upper, index) => {
    let text;
    if (zeroLabel && lower === 0 && upper === 0) text = zeroLabel;
    else if (lower === upper) text = formatNumber(upper, decimals, lang);
    else text = `${formatNumber(lower, decimals, lang)} – ${formatNumber(upper, decimals, lang)}`;
    rows.push({ colour: palette[index], text });
    const next = shown[index + 1];
    lower = whole && lower === upper && next !== undefined && next >= upper + 1 ? upper + 1 : upper;
  });
  if (noData && missing) rows.push({ colour: NO_DATA, text: noData });
  return rows;
}

/** MapLibre expression giving each feature its class colour (`<=` bounds, as reports). */
function colourExpression(key, breaks, palette) {
  if (breaks.length === 0) return NO_DATA;
  const value = ["to-number", ["get", key], 0];
  const cases = ["case", ["!=", ["typeof", ["get", key]], "number"], NO_DATA];
  breaks.slice(0, palette.length).forEach((upper, index) => {
    cases.push(["<=", value, upper], palette[index]);
  });
  cases.push(palette[palette.length - 1]);
  return cases;
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    // The server's own message when it gives one (« detail » of an error), else the status.
    let detail = "";
    try {
      const body = await response.json();
      detail = typeof body?.detail === "string" ? body.detail : "";
    } catch {
      // Not JSON: the status alone.
    }
    throw new Error(detail || `${response.status} ${response.statusText}`.trim());
  }
  return response.json();
}

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

/** Indicators `{key, label, decimals, breaks, minimum, zeroLabel}` from the metadata or the data. */
function indicatorList(metadata, features, only) {
  const listed = Array.isArray(metadata?.indicateurs) ? metadata.indicateurs : null;
  if (listed) {
    return listed.map((item) => ({
      key: String(item.cle),
      label: String(item.libelle ?? item.cle),
      unit: item.unite ? String(item.unite) : null,
      decimals: Number.isInteger(item.decimales) ? item.decimales : 0,
      breaks: Array.isArray(item.seuils) ? item.seuils.map(Number) : null,
      minimum: typeof item.minimum === "number" ? item.minimum : null,
      zeroLabel: item.libelle_zero ? String(item.libelle_zero) : null,
    }));
  }
  const keys = new Set();
  for (const feature of features) {
    for (const [key, value] of Object.entries(feature.properties ?? {})) {
      if (typeof value === "number" && !NOT_INDICATORS.has(key)) keys.add(key);
    }
  }
  const chosen = only.length ? only.filter((key) => keys.has(key)) : [...keys];
  return chosen.map((key) => ({
    key,
    label: key,
    unit: null,
    decimals: 0,
    breaks: null,
    minimum: null,
    zeroLabel: null,
  }));
}

function extendBounds(bounds, coordinates) {
  if (typeof coordinates[0] === "number") {
    const [x, y] = coordinates;
    bounds[0] = Math.min(bounds[0], x);
    bounds[1] = Math.min(bounds[1], y);
    bounds[2] = Math.max(bounds[2], x);
    bounds[3] = Math.max(bounds[3], y);
    return;
  }
  for (const part of coordinates) extendBounds(bounds, part);
}

function dataBounds(features) {
  const bounds = [Infinity, Infinity, -Infinity, -Infinity];
  for (const feature of features) {
    if (feature.geometry?.coordinates) extendBounds(bounds, feature.geometry.coordinates);
  }
  return Number.isFinite(bounds[0]) ? bounds : [-5.5, 41.2, 9.8, 51.3]; // France
}

/** The features of the optional data-points-url collection. */
function pointFeatures(points) {
  return Array.isArray(points?.features) ? points.features : [];
}


function buildStyle(options, collection, pointData = null) {
  const sources = { communes: { type: "geojson", data: collection } };
  const layers = [{ id: "fond", type: "background", paint: { "background-color": "#ffffff" } }];
  if (options.basemapUrl) {
    sources.basemap = {
      type: "raster",
      tiles: [options.basemapUrl],
      tileSize: 256,
      attribution: options.basemapAttribution || "",
    };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const none = ["==", ["get", "code"], ""];
  // geometry-type names MultiPolygon apart from Polygon (communes with islands).
  const polygons = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
  const points = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];
  layers.push(
    {
      id: "communes-fill",
      type: "fill",
      source: "communes",
      filter: polygons,
      paint: { "fill-color": NO_DATA, "fill-opacity": options.basemapUrl ? 0.7 : 1 },
    },
    {
      id: "communes-outline",
      type: "line",
      source: "communes",
      filter: polygons,
      paint: { "line-color": OUTLINE, "line-width": 0.8 },
    },
    {
      id: "communes-points",
      type: "circle",
      source: "communes",
      filter: points,
      paint: {
        "circle-color": NO_DATA,
        "circle-radius": 5,
        "circle-stroke-color": OUTLINE,
        "circle-stroke-width": 1,
      },
    },
    {
      id: "catchment-outline",
      type: "line",
      source: "communes",
      filter: none,
      paint: { "line-color": "#000000", "line-width": 2, "line-dasharray": [2, 1] },
    },
    {
      id: "hover-outline",
      type: "line",
      source: "communes",
      filter: none,
      paint: { "line-color": "#333333", "line-width": 2 },
    },
    {
      id: "selected-halo",
      type: "line",
      source: "communes",
      filter: none,
      paint: { "line-color": "#ffffff", "line-width": 6 },
    },
    {
      id: "selected-outline",
      type: "line",
      source: "communes",
      filter: none,
      paint: { "line-color": "#000000", "line-width": 3 },
    },
  );
  if (pointData) {
    // Points of data-points-url (structures of the directory), coloured by their own
    // `couleur` property, drawn above the communes.
    sources.points = { type: "geojson", data: pointData };
    layers.push({
      id: "points",
      type: "circle",
      source: "points",
      paint: {
        "circle-color": ["coalesce", ["get", "couleur"], "#000000"],
        "circle-radius": 5,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.2,
      },
    });
  }
  return { version: 8, sources, layers };
}

/** One map: controls, legend, details, built inside `container`. */
class CommuneMap {
  constructor(container) {
    this.container = container;
    this.data = container.dataset;
    this.lang = document.documentElement.lang || "fr";
    this.messages = messagesFor("map", MESSAGES, this.data.messages);
    this.catchments = new Map();
    this.selected = null;
    const id = container.id || `carte-${Math.random().toString(36).slice(2, 8)}`;
    this.id = id;
  }

  text(key, values = {}) {
    return fill(this.messages[key] ?? key, values);
  }

  async start() {
    const { geojsonUrl, indicatorsUrl, pointsUrl } = this.data;
    this.container.dataset.mapState = "loading";
    this.container.classList.add("carte");
    // Said while the documents come (a large territory's takes a moment).
    const waiting = element("p", { class: "carte-chargement", role: "status" }, this.text("loading"));
    this.container.append(waiting);
    try {
      const [collection, loaded, points] = await Promise.all([
        fetchJson(geojsonUrl),
        indicatorsUrl ? fetchJson(indicatorsUrl) : Promise.resolve(null),
        pointsUrl ? fetchJson(pointsUrl) : Promise.resolve(null),
      ]);
      this.points = points;
      this.collection = collection;
      this.features = Array.isArray(collection.features) ? collection.features : [];
      const metadata = loaded ?? collection.indicateurs_carte ?? null;
      this.palette = Array.isArray(metadata?.palette) ? metadata.palette : PALETTE;
      this.noDataColour = metadata?.sans_donnee ?? NO_DATA;
      this.minutes = metadata?.minutes_bassin ?? null;
      const only = (this.data.indicators ?? "").split(",").map((s) => s.trim()).filter(Boolean);
      this.indicators = indicatorList(metadata, this.features, only);
      this.byCode = new Map(this.features.map((f) => [String(f.properties?.code), f]));
      // Optional foreign members: numbered sites and the catchments known in advance.
      this.sites = Array.isArray(collection.sites_carte) ? collection.sites_carte : [];
      const known = collection.bassins_carte ?? {};
      for (const [code, catchment] of Object.entries(known)) this.catchments.set(code, catchment);
      waiting.remove();
      this.buildControls();
      this.buildMap();
    } catch (error) {
      waiting.remove();
      this.fail(this.text("loadError", { error: error.message ?? String(error) }));
    }
  }

  fail(message) {
    this.container.dataset.mapState = "error";
    const note = element("p", { class: "carte-erreur", role: "alert" }, message);
    this.container.append(note);
  }

  buildControls() {
    const tools = element("div", { class: "carte-outils" });
    const indicatorId = `${this.id}-indicateur`;
    this.indicatorSelect = element("select", { id: indicatorId, name: "indicateur" });
    for (const item of this.indicators) {
      this.indicatorSelect.append(element("option", { value: item.key }, item.label));
    }
    const wanted = this.data.indicator;
    if (wanted && this.indicators.some((item) => item.key === wanted)) {
      this.indicatorSelect.value = wanted;
    }
    this.indicatorSelect.addEventListener("change", () => this.showIndicator());
    const communeId = `${this.id}-commune`;
    this.communeSelect = element("select", { id: communeId, name: "commune" });
    this.communeSelect.append(element("option", { value: "" }, this.text("chooseCommune")));
    const named = this.features
      .map((f) => f.properties ?? {})
      .filter((p) => p.code !== undefined && p.code !== null)
      .sort((a, b) => String(a.nom ?? a.code).localeCompare(String(b.nom ?? b.code), this.lang));
    for (const properties of named) {
      const label = `${properties.nom ?? properties.code} (${properties.code})`;
      this.communeSelect.append(element("option", { value: String(properties.code) }, label));
    }
    this.communeSelect.addEventListener("change", () => {
      const code = this.communeSelect.value;
      if (code) this.select(code, { fromList: true });
      else this.clearSelection();
    });
    const first = element("div", { class: "carte-champ" });
    first.append(element("label", { for: indicatorId }, this.text("indicator")), this.indicatorSelect);
    const second = element("div", { class: "carte-champ" });
    second.append(element("label", { for: communeId }, this.text("commune")), this.communeSelect);
    tools.append(first, second);

    const body = element("div", { class: "carte-corps" });
    this.canvasBox = element("div", { class: "carte-canvas" });
    this.legend = element("div", { class: "carte-legende" });
    body.append(this.canvasBox, this.legend);
    this.details = element("div", { class: "carte-detail", role: "status", "aria-live": "polite" });
    this.container.append(tools, body, this.details);
  }

  buildMap() {
    const label = this.data.label || this.text("mapLabel");
    // The installation's basemap (layout's <meta name="tierslieux-basemap">, set by
    // `tierslieux web --basemap-url`) unless the element names its own.
    const meta = document.querySelector('meta[name="tierslieux-basemap"]');
    const options = {
      basemapUrl: this.data.basemapUrl || meta?.content || "",
      basemapAttribution: this.data.basemapAttribution || meta?.dataset.attribution || "",
    };
    try {
      this.map = new maplibregl.Map({
        container: this.canvasBox,
        style: buildStyle(options, this.collection, this.points),
        // Every feature shown: the communes and the points (a structure whose seat is
        // outside the territory, a CAE of the next département, is in the first view).
        bounds: dataBounds([...this.features, ...pointFeatures(this.points)]),
        fitBoundsOptions: { padding: 16 },
        attributionControl: options.basemapUrl ? { compact: true } : false,
        maplibreLogo: false,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        locale: {
          "Map.Title": label,
          "NavigationControl.ZoomIn": this.text("zoomIn"),
          "NavigationControl.ZoomOut": this.text("zoomOut"),
          "NavigationControl.ResetBearing": this.text("resetBearing"),
          "Popup.Close": this.text("close"),
          "AttributionControl.ToggleAttribution": this.text("attribution"),
        },
      });
    } catch (error) {
      this.fail(this.text("webglError"));
      return;
    }
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.on("error", (event) => {
      // A missing basemap tile must not break the map: the outlines stay readable.
      if (event?.sourceId !== "basemap") console.warn("carte :", event?.error?.message ?? event);
    });
    this.map.on("load", () => {
      this.showIndicator();
      this.bindPointer();
      this.addSites();
      if (this.points) this.bindPoints();
      this.container.tierslieuxMap = this;
      this.container.dataset.mapState = "ready";
      this.container.dispatchEvent(new CustomEvent("carte:prete", { bubbles: true }));
    });
  }

  /** Numbered markers of the sites (`sites_carte`): buttons that select their commune. */
  addSites() {
    if (this.sites.length === 0) return;
    for (const site of this.sites) {
      const button = element(
        "button",
        { type: "button", class: "carte-site", title: site.titre, "aria-label": site.titre },
        String(site.rang),
      );
      button.dataset.site = String(site.code);
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        this.select(String(site.code_commune), { fromList: true });
      });
      new maplibregl.Marker({ element: button })
        .setLngLat([Number(site.longitude), Number(site.latitude)])
        .addTo(this.map);
    }
  }

  get current() {
    return this.indicators.find((item) => item.key === this.indicatorSelect.value) ?? null;
  }

  valuesOf(key) {
    return this.features.map((f) => f.properties?.[key] ?? null);
  }

  showIndicator() {
    const item = this.current;
    this.legend.replaceChildren();
    if (!item) return;
    const values = this.valuesOf(item.key);
    const breaks = item.breaks ?? classBreaks(values, this.palette.length);
    item.breaks = breaks;
    const colour = colourExpression(item.key, breaks, this.palette);
    if (this.map?.getLayer("communes-fill")) {
      this.map.setPaintProperty("communes-fill", "fill-color", colour);
      this.map.setPaintProperty("communes-points", "circle-color", colour);
    }
    const title = element("p", { class: "carte-legende-titre" }, item.label);
    const list = element("ul", { class: "carte-legende-classes" });
    const rows = legendRows(values, breaks, {
      decimals: item.decimals,
      lang: this.lang,
      palette: this.palette,
      minimum: item.minimum,
      noData: this.text("noData"),
      zeroLabel: item.zeroLabel,
      sameValue: this.messages.sameValue,
      sameValueKnown: this.messages.sameValueKnown,
    });
    for (const row of rows) {
      const entry = element("li");
      const swatch = element("span", { class: "carte-pastille", "aria-hidden": "true" });
      swatch.style.backgroundColor = row.colour === NO_DATA ? this.noDataColour : row.colour;
      entry.append(swatch, document.createTextNode(row.text));
      list.append(entry);
    }
    this.legend.append(title);
    if (item.unit) {
      this.legend.append(element("p", { class: "carte-legende-unite" }, this.text("unit", { unit: item.unit })));
    }
    this.legend.append(list);
    this.container.dataset.indicator = item.key;
    if (this.selected) this.describe(this.selected);
  }

  tooltip(properties) {
    const item = this.current;
    const value = item ? formatNumber(properties[item.key], item.decimals, this.lang) : "—";
    return this.text("tooltip", { name: properties.nom ?? properties.code, code: properties.code, value });
  }

  bindPointer() {
    const layers = ["communes-fill", "communes-points"];
    this.hoverPopup = new maplibregl.Popup({
      closeButton: false,
      closeOnClick: false,
      className: "carte-survol",
      offset: 8,
    });
    for (const layer of layers) {
      this.map.on("mousemove", layer, (event) => {
        const feature = event.features?.[0];
        if (!feature) return;
        this.map.getCanvas().style.cursor = "pointer";
        const code = String(feature.properties.code);
        this.map.setFilter("hover-outline", ["==", ["get", "code"], code]);
        this.hoverPopup.setLngLat(event.lngLat).setText(this.tooltip(feature.properties)).addTo(this.map);
      });
      this.map.on("mouseleave", layer, () => {
        this.map.getCanvas().style.cursor = "";
        this.map.setFilter("hover-outline", ["==", ["get", "code"], ""]);
        this.hoverPopup.remove();
      });
      this.map.on("click", layer, (event) => {
        // A structure's point above the commune takes the click (bindPoints).
        if (this.points && this.map.queryRenderedFeatures(event.point, { layers: ["points"] }).length) return;
        const feature = event.features?.[0];
        if (feature) this.select(String(feature.properties.code), { lngLat: event.lngLat });
      });
    }
  }

  /** Hover and click on the points of data-points-url: name, label, link (`lien`). */
  bindPoints() {
    const count = pointFeatures(this.points).length;
    this.container.dataset.points = String(count);
    this.legend.append(
      element("p", { class: "carte-legende-points" }, this.text("pointsCount", { count: formatNumber(count, 0, this.lang) })),
    );
    const describe = (p) =>
      this.text("pointTooltip", { name: p.nom ?? "", label: p.libelle ?? "", commune: p.commune ?? "" });
    this.map.on("mousemove", "points", (event) => {
      const feature = event.features?.[0];
      if (!feature) return;
      this.map.getCanvas().style.cursor = "pointer";
      this.hoverPopup.setLngLat(event.lngLat).setText(describe(feature.properties)).addTo(this.map);
    });
    this.map.on("mouseleave", "points", () => {
      this.map.getCanvas().style.cursor = "";
      this.hoverPopup.remove();
    });
    this.map.on("click", "points", (event) => {
      const feature = event.features?.[0];
      if (!feature) return;
      const p = feature.properties;
      const block = element("div", { class: "carte-point" });
      block.append(element("p", { class: "carte-detail-titre" }, describe(p)));
      if (p.etape_libelle) block.append(element("p", {}, String(p.etape_libelle)));
      if (typeof p.lien === "string" && p.lien.startsWith("/")) {
        block.append(element("a", { href: p.lien }, this.text("pointLink")));
      }
      this.details.replaceChildren(block);
    });
  }

  /** Centre of a feature's bounding box (where the popup of a listed commune opens). */
  anchorOf(feature) {
    const bounds = dataBounds([feature]);
    return [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2];
  }

  clearSelection() {
    this.selected = null;
    this.popup?.remove();
    for (const layer of ["selected-halo", "selected-outline", "catchment-outline"]) {
      this.map?.setFilter(layer, ["==", ["get", "code"], ""]);
    }
    this.details.replaceChildren();
    this.container.dataset.selected = "";
  }

  select(code, { lngLat = null, fromList = false } = {}) {
    const feature = this.byCode.get(code);
    if (!feature || !this.map) return;
    this.selected = code;
    this.hoverPopup?.remove();
    if (this.communeSelect.value !== code) this.communeSelect.value = code;
    const only = ["==", ["get", "code"], code];
    this.map.setFilter("selected-halo", only);
    this.map.setFilter("selected-outline", only);
    this.popup?.remove();
    this.popup = new maplibregl.Popup({
      className: "carte-info",
      focusAfterOpen: !fromList,
      maxWidth: "20rem",
    })
      .setLngLat(lngLat ?? this.anchorOf(feature))
      .setText(this.tooltip(feature.properties))
      .addTo(this.map);
    if (fromList) {
      // Chosen in the list: bring it into view without changing the zoom.
      const [west, south, east, north] = dataBounds([feature]);
      const view = this.map.getBounds();
      const seen = view.contains([west, south]) && view.contains([east, north]);
      if (!seen) this.map.panTo(this.anchorOf(feature), { duration: 0 });
    }
    this.container.dataset.selected = code;
    this.describe(code);
    this.loadCatchment(code);
  }

  describe(code) {
    const properties = this.byCode.get(code)?.properties ?? {};
    const heading = element("p", { class: "carte-detail-titre" }, this.tooltip(properties));
    this.details.replaceChildren(heading);
    const catchment = this.catchments.get(code);
    if (catchment && !(catchment instanceof Promise)) this.showCatchment(properties, catchment);
  }

  async loadCatchment(code) {
    const template = this.data.catchmentUrl;
    const properties = this.byCode.get(code)?.properties ?? {};
    const name = properties.nom ?? code;
    let catchment = this.catchments.get(code);
    if (!catchment && !template) return;
    if (!catchment) {
      this.details.append(element("p", {}, this.text("catchmentLoading", { name })));
      catchment = fetchJson(template.replace("{code}", encodeURIComponent(code)));
      this.catchments.set(code, catchment);
    }
    try {
      const loaded = await catchment;
      this.catchments.set(code, loaded);
      if (this.selected === code) this.describe(code);
    } catch (error) {
      this.catchments.delete(code);
      if (this.selected !== code) return;
      this.details.replaceChildren(
        element("p", { class: "carte-detail-titre" }, this.tooltip(properties)),
        element("p", { class: "carte-erreur" }, this.text("catchmentError", { name, error: error.message })),
      );
    }
  }

  showCatchment(properties, catchment) {
    const members = Array.isArray(catchment.communes) ? catchment.communes.map(String) : [];
    this.map.setFilter("catchment-outline", ["in", ["get", "code"], ["literal", members]]);
    const name = catchment.nom ?? properties.nom ?? properties.code;
    const minutes = catchment.minutes ?? this.minutes;
    const title =
      typeof minutes === "number"
        ? this.text("catchmentTitle", { minutes: formatNumber(minutes, 0, this.lang), name })
        : this.text("catchmentTitleAny", { name });
    const count = catchment.nb_communes ?? members.length;
    const block = element("div", { class: "carte-bassin" });
    block.append(
      element("p", { class: "carte-bassin-titre" }, title),
      element("p", {}, this.text("catchmentCount", { count: formatNumber(count, 0, this.lang) })),
    );
    const figures = element("dl", { class: "carte-bassin-chiffres" });
    for (const item of this.indicators) {
      if (!(item.key in catchment)) continue;
      figures.append(
        element("dt", {}, item.label),
        element("dd", {}, formatNumber(catchment[item.key], item.decimals, this.lang)),
      );
    }
    for (const line of Array.isArray(catchment.lignes) ? catchment.lignes : []) {
      figures.append(element("dt", {}, String(line.libelle)), element("dd", {}, String(line.valeur)));
    }
    block.append(figures);
    this.details.append(block);
  }
}

/** Turn every `[data-map]` element of `root` into a map (each only once). */
export function startMaps(root = document) {
  const maps = [];
  for (const container of root.querySelectorAll("[data-map]")) {
    if (container.dataset.mapState) continue;
    const map = new CommuneMap(container);
    maps.push(map);
    map.start();
  }
  return maps;
}

startMaps();
