// The server's API as the page uses it: its settings, whether the model is guided, and a fill
// through TF Serving's REST predict request. Every failure is an Error whose message says, in
// words, what went wrong.

/** The editor's settings: {model_name, description, max_pixels, max_request_bytes}. */
export async function loadConfig() {
  return getJson("editor/config");
}

/** Whether the model takes a sketch (its signature has an `edge_bytes` input). */
export async function isGuided(modelName) {
  const metadata = await getJson(`v1/models/${encodeURIComponent(modelName)}/metadata`);
  const signatures = metadata.metadata.signature_def.signature_def;
  return "edge_bytes" in signatures.serving_default.inputs;
}

/**
 * Fills the holes of one image: `image`, `mask` and optional `edge` are PNG Blobs (mask and
 * edge white where painted). Returns the result as a PNG Blob.
 * `maxRequestBytes` is checked here, so a too large request is refused before it is sent.
 */
export async function fill(modelName, { image, mask, edge }, maxRequestBytes) {
  const instance = {
    image_bytes: { b64: await base64Of(image) },
    mask_bytes: { b64: await base64Of(mask) },
  };
  if (edge) instance.edge_bytes = { b64: await base64Of(edge) };
  const body = JSON.stringify({ instances: [instance] });
  if (maxRequestBytes && body.length > maxRequestBytes) {
    throw new Error(
      `This photo makes a request of ${megabytes(body.length)} MB, above the server's ` +
      `limit of ${megabytes(maxRequestBytes)} MB (gated-inpaint serve --max_request_mb).`);
  }
  const answer = await send(`v1/models/${encodeURIComponent(modelName)}:predict`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  const b64 = answer.predictions[0].b64;
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: "image/png" });
}

async function getJson(url) {
  return send(url, { method: "GET" });
}

/** fetch + JSON, with the server's `{"error": ...}` (or the HTTP status) as the message. */
async function send(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error(`Cannot reach the server (${error.message}). Is gated-inpaint serve running?`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the message is the text itself
  }
  if (!response.ok) {
    const reason = (json && json.error) || text || response.statusText;
    const what = {
      400: "The server refused the request",
      404: "Not found",
      413: "The request is too large",
      502: "TF Serving cannot be reached",
      503: "The server is busy",
    }[response.status] || "The server failed";
    throw new Error(`${what} (${response.status}): ${reason}`);
  }
  if (json === null) throw new Error(`The server answered something that is not JSON: ${text}`);
  return json;
}

/** The base64 text of a Blob's bytes. */
function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function megabytes(bytes) {
  return (bytes / 1e6).toFixed(1);
}
