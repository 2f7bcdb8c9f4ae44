// Strokes and the two paint layers they go on, at the photo's full resolution: the hole layer
// (brush) and the sketch layer (sketch pen, guided models). A stroke is
// {tool: "brush" | "eraser" | "sketch", width, points: [[x, y], ...]} in photo pixels; the
// eraser takes paint off both layers. A layer becomes a black and white PNG (white where its
// paint is at least half opaque) for the server.

const COLORS = { brush: "rgb(255, 40, 60)", sketch: "rgb(60, 220, 255)" };

/** The layers a stroke's tool paints on or erases. */
function targets(stroke, layers) {
  if (stroke.tool === "eraser") return [layers.holes, layers.sketch];
  return [stroke.tool === "sketch" ? layers.sketch : layers.holes];
}

/** Draws the part of `stroke` from its point `from` to its point `to` (indices). */
export function drawSegment(layers, stroke, from, to) {
  for (const canvas of targets(stroke, layers)) {
    const context = canvas.getContext("2d");
    context.save();
    context.globalCompositeOperation =
      stroke.tool === "eraser" ? "destination-out" : "source-over";
    context.strokeStyle = context.fillStyle = COLORS[stroke.tool] || "black";
    context.lineWidth = stroke.width;
    context.lineCap = context.lineJoin = "round";
    const [x0, y0] = stroke.points[from];
    if (from === to) {
      context.beginPath();
      context.arc(x0, y0, stroke.width / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      const [x1, y1] = stroke.points[to];
      context.beginPath();
      context.moveTo(x0, y0);
      context.lineTo(x1, y1);
      context.stroke();
    }
    context.restore();
  }
}

/** Clears both layers and draws `strokes` again, segment by segment as they were drawn. */
export function redraw(layers, strokes) {
  for (const canvas of [layers.holes, layers.sketch]) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  }
  for (const stroke of strokes) {
    drawSegment(layers, stroke, 0, 0);
    for (let i = 1; i < stroke.points.length; i += 1) drawSegment(layers, stroke, i - 1, i);
  }
}

/**
 * The layer as a black and white PNG Blob (white = painted), and whether anything is painted.
 * @returns {Promise<{blob: Blob, painted: boolean}>}
 */
export async function layerPng(canvas) {
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const plane = new ImageData(width, height);
  let painted = false;
  for (let i = 0; i < pixels.length; i += 4) {
    const value = pixels[i + 3] >= 128 ? 255 : 0;
    painted ||= value > 0;
    plane.data[i] = plane.data[i + 1] = plane.data[i + 2] = value;
    plane.data[i + 3] = 255;
  }
  const out = new OffscreenCanvas(width, height);
  out.getContext("2d").putImageData(plane, 0, 0);
  return { blob: await out.convertToBlob({ type: "image/png" }), painted };
}
