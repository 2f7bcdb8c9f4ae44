// The editor page: open a photo, paint the hole (and sketch lines for a guided model), fill it
// on the server, compare with the original, undo and redo, download. The photo and its layers
// are kept at full resolution; the stage shows them scaled to fit the window.

import { fill, isGuided, loadConfig } from "./api.js";
import { History } from "./history.js";
import { drawSegment, layerPng, redraw } from "./strokes.js";

const $ = (id) => document.getElementById(id);
const layers = { holes: $("holes"), sketch: $("sketch") };
const photo = $("photo");
const SIZE_STEP = 1.25; // [ and ] scale the brush by this factor
const MAX_ZOOM = 2; // small photos are shown at most this much enlarged

const editor = {
  config: null,
  guided: false,
  tool: "brush",
  history: null, // states {image: {bitmap, blob}, strokes}
  original: null, // the photo as opened: {bitmap, blob}
  name: "photo",
  scale: 1, // screen pixels per photo pixel
  stroke: null, // the stroke being drawn
  busy: false,
  comparing: false,
};

// ----- messages -----

function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error-text").textContent = "";
}

function setStatus(message) {
  $("status").textContent = message;
}

// ----- the stage -----

/** Sizes the stage to show the photo whole in the workspace (small ones enlarged at most
 * MAX_ZOOM times). */
function layout() {
  if (!editor.history) return;
  const { width, height } = photo;
  const area = $("workspace");
  const style = getComputedStyle(area);
  const freeWidth = area.clientWidth - parseFloat(style.paddingLeft) * 2;
  const freeHeight = area.clientHeight - parseFloat(style.paddingTop) * 2;
  const scale = Math.min(MAX_ZOOM, freeWidth / width, freeHeight / height);
  const shownWidth = Math.max(1, Math.floor(width * scale));
  editor.scale = shownWidth / width;
  $("stage").style.width = `${shownWidth}px`;
  $("stage").style.height = `${Math.max(1, Math.floor(height * scale))}px`;
  updateCursorSize();
}

/** Shows a history state: its picture and its strokes. */
function render(state) {
  photo.getContext("2d").drawImage(state.image.bitmap, 0, 0);
  redraw(layers, state.strokes);
  updateButtons();
}

function updateButtons() {
  const ready = editor.history !== null && !editor.busy;
  const { history } = editor;
  $("undo").disabled = !ready || !history.canUndo;
  $("redo").disabled = !ready || !history.canRedo;
  for (const id of ["clear", "fill"]) $(id).disabled = !ready || !history.current.strokes.length;
  $("compare").disabled = !ready || history.current.image === editor.original;
  $("download").disabled = !ready || history.current.image === editor.original;
}

// ----- opening a photo -----

async function openPhoto(file) {
  clearError();
  if (!file) return;
  if (editor.busy) return showError("Wait for the fill in progress to finish.");
  let bitmap;
  try {
    bitmap = await createImageBitmap(file); // upright by its EXIF orientation
  } catch {
    return showError(`${file.name} is not an image this browser can read.`);
  }
  const pixels = bitmap.width * bitmap.height;
  const limit = editor.config.max_pixels;
  if (limit && pixels > limit) {
    return showError(
      `${file.name} is ${bitmap.width}x${bitmap.height} = ${pixels} pixels, above the ` +
      `server's limit of ${limit} (gated-inpaint serve --max_pixels).`);
  }
  for (const canvas of [photo, layers.holes, layers.sketch]) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  photo.getContext("2d").drawImage(bitmap, 0, 0);
  setStatus(`Opening ${file.name}…`);
  // The server gets exactly the pixels shown: the photo as this browser decoded it, as PNG.
  const blob = await new Promise((resolve) => photo.toBlob(resolve, "image/png"));
  editor.original = { bitmap, blob };
  editor.history = new History({ image: editor.original, strokes: [] });
  editor.name = file.name.replace(/\.[^.]*$/, "") || "photo";
  $("drop-hint").hidden = true;
  $("stage").hidden = false;
  layout();
  render(editor.history.current);
  setStatus(`${file.name}: ${bitmap.width}x${bitmap.height}. Paint over what to remove.`);
}

// ----- painting -----

function photoPoint(event) {
  const box = $("stage").getBoundingClientRect();
  return [
    ((event.clientX - box.left) * photo.width) / box.width,
    ((event.clientY - box.top) * photo.height) / box.height,
  ];
}

function brushWidth() {
  if (editor.tool === "sketch") return Math.max(2, 2 / editor.scale); // thin lines, as edges
  return Number($("size").value) / editor.scale;
}

function startStroke(event) {
  if (!editor.history || editor.busy || editor.comparing || event.button !== 0) return;
  clearError();
  $("stage").setPointerCapture(event.pointerId);
  editor.stroke = { tool: editor.tool, width: brushWidth(), points: [photoPoint(event)] };
  drawSegment(layers, editor.stroke, 0, 0);
}

function continueStroke(event) {
  moveCursor(event);
  const { stroke } = editor;
  if (!stroke) return;
  stroke.points.push(photoPoint(event));
  drawSegment(layers, stroke, stroke.points.length - 2, stroke.points.length - 1);
}

function endStroke() {
  const { stroke, history } = editor;
  if (!stroke) return;
  editor.stroke = null;
  history.push({ image: history.current.image, strokes: [...history.current.strokes, stroke] });
  updateButtons();
}

function moveCursor(event) {
  const cursor = $("cursor");
  const box = $("stage").getBoundingClientRect();
  cursor.style.left = `${event.clientX - box.left}px`;
  cursor.style.top = `${event.clientY - box.top}px`;
  cursor.style.display = editor.busy || editor.comparing ? "none" : "block";
}

function updateCursorSize() {
  const size = brushWidth() * editor.scale;
  $("cursor").style.width = $("cursor").style.height = `${size}px`;
  $("size-value").textContent = $("size").value;
}

function selectTool(tool) {
  if (tool === "sketch" && !editor.guided) return;
  editor.tool = tool;
  for (const button of document.querySelectorAll("[data-tool]")) {
    button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
  }
  updateCursorSize();
}

function resizeBrush(factor) {
  const input = $("size");
  const size = Math.round(Number(input.value) * factor);
  input.value = String(Math.min(Number(input.max), Math.max(Number(input.min), size)));
  updateCursorSize();
}

// ----- history -----

function undo() {
  if (editor.busy || !editor.history) return;
  render(editor.history.undo());
}

function redo() {
  if (editor.busy || !editor.history) return;
  render(editor.history.redo());
}

function clearStrokes() {
  const { history } = editor;
  if (editor.busy || !history || !history.current.strokes.length) return;
  history.push({ image: history.current.image, strokes: [] });
  render(history.current);
}

// ----- filling -----

async function fillHoles() {
  const { history } = editor;
  if (editor.busy || !history) return;
  clearError();
  const mask = await layerPng(layers.holes);
  if (!mask.painted) return showError("Paint over what to remove first (Brush).");
  const edge = editor.guided ? (await layerPng(layers.sketch)).blob : null;
  setBusy(true);
  const started = performance.now();
  try {
    const result = await fill(
      editor.config.model_name,
      { image: history.current.image.blob, mask: mask.blob, edge },
      editor.config.max_request_bytes);
    const bitmap = await createImageBitmap(result);
    history.push({ image: { bitmap, blob: result }, strokes: [] });
    render(history.current);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(`Filled in ${seconds} s. Paint more, hold Compare, or download the PNG.`);
  } catch (error) {
    showError(error.message);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  editor.busy = busy;
  $("busy").hidden = !busy;
  $("stage").setAttribute("aria-busy", String(busy));
  for (const id of ["file", "tool-brush", "tool-eraser", "tool-sketch"]) $(id).disabled = busy;
  updateButtons();
  if (busy) {
    const started = performance.now();
    const tick = () => {
      if (!editor.busy) return;
      const seconds = Math.floor((performance.now() - started) / 1000);
      $("busy-text").textContent = seconds ? `Filling… ${seconds} s` : "Filling…";
      setTimeout(tick, 250);
    };
    tick();
  }
}

// ----- compare and download -----

function compare(on) {
  if (on && ($("compare").disabled || editor.comparing)) return;
  if (!on && !editor.comparing) return;
  editor.comparing = on;
  const state = editor.history.current;
  photo.getContext("2d").drawImage((on ? editor.original : state.image).bitmap, 0, 0);
  layers.holes.hidden = layers.sketch.hidden = on;
  $("compare-label").hidden = !on;
  $("cursor").style.display = "none";
}

function download() {
  const { history } = editor;
  if (!history || history.current.image === editor.original) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(history.current.image.blob);
  link.download = `${editor.name}_filled.png`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

// ----- wiring -----

function onKey(event) {
  if (event.target instanceof HTMLInputElement && event.target.type !== "range") return;
  const key = event.key.toLowerCase();
  const command = event.ctrlKey || event.metaKey;
  if (command && key === "z") {
    event.preventDefault();
    return event.shiftKey ? redo() : undo();
  }
  if (command && key === "y") {
    event.preventDefault();
    return redo();
  }
  if (command || event.altKey) return;
  const actions = {
    "[": () => resizeBrush(1 / SIZE_STEP),
    "]": () => resizeBrush(SIZE_STEP),
    b: () => selectTool("brush"),
    e: () => selectTool("eraser"),
    s: () => selectTool("sketch"),
    f: () => fillHoles(),
    c: () => compare(true),
  };
  if (actions[key] && !(key === "c" && event.repeat)) {
    event.preventDefault();
    actions[key]();
  }
}

function wire() {
  $("file").addEventListener("change", (event) => {
    openPhoto(event.target.files[0]);
    event.target.value = "";
  });
  window.addEventListener("dragover", (event) => {
    event.preventDefault();
    document.body.classList.add("dragging");
  });
  window.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    document.body.classList.remove("dragging");
    openPhoto(event.dataTransfer.files[0]);
  });
  const stage = $("stage");
  stage.addEventListener("pointerdown", startStroke);
  stage.addEventListener("pointermove", continueStroke);
  stage.addEventListener("pointerup", endStroke);
  stage.addEventListener("pointercancel", endStroke);
  stage.addEventListener("pointerleave", () => ($("cursor").style.display = "none"));
  for (const button of document.querySelectorAll("[data-tool]")) {
    button.addEventListener("click", () => selectTool(button.dataset.tool));
  }
  $("size").addEventListener("input", updateCursorSize);
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("clear").addEventListener("click", clearStrokes);
  $("fill").addEventListener("click", fillHoles);
  $("download").addEventListener("click", download);
  $("error-close").addEventListener("click", clearError);
  const compareButton = $("compare");
  compareButton.addEventListener("pointerdown", () => compare(true));
  for (const type of ["pointerup", "pointerleave", "pointercancel"]) {
    compareButton.addEventListener(type, () => compare(false));
  }
  window.addEventListener("keydown", onKey);
  window.addEventListener("keyup", (event) => event.key.toLowerCase() === "c" && compare(false));
  window.addEventListener("blur", () => compare(false));
  window.addEventListener("resize", layout);
}

async function start() {
  wire();
  updateButtons();
  try {
    editor.config = await loadConfig();
    editor.guided = await isGuided(editor.config.model_name);
  } catch (error) {
    $("model").textContent = "not connected";
    return showError(error.message);
  }
  $("tool-sketch").hidden = !editor.guided;
  $("model").textContent =
    `model ${editor.config.model_name}${editor.guided ? " (guided: draw with the sketch pen)" : ""}`;
  $("model").title = editor.config.description;
  document.body.dataset.ready = "true"; // for scripts driving the page
}

start();
