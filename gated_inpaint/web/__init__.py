"""The interactive editor, `gated-inpaint serve`: a web page to paint holes (and sketches) on a
photo and fill them, in front of TF Serving's REST API.

Needs the `web` extra (`pip install "gated_inpaint[web]"`: Starlette, uvicorn, httpx).

    limits.py            ServerLimits: request size, pixels, concurrency, queue
    rest_api.py          TF Serving's REST JSON: URLs, predict requests and answers, metadata
    decoding.py          a request's images, by the project's input rules
    admission.py         Admission: the bounded queue in front of the model calls
    local_model.py       LocalModel: an Inpainter in this process behind the API
    tf_serving_proxy.py  TFServingProxy: the same API forwarded to TF Serving
    app.py               build_app: routes, errors, the static page
    server.py            Server: uvicorn on a bound socket; Ctrl-C stops it cleanly
    static/              the page: plain HTML, CSS and JavaScript modules, no build step

Example (the command does this, see `gated_inpaint.commands.serve`):

    from gated_inpaint import Inpainter
    from gated_inpaint.web.app import build_app
    from gated_inpaint.web.local_model import LocalModel
    from gated_inpaint.web.server import Server, bind_socket

    app = build_app(LocalModel(Inpainter.load("exports/gated_inpaint")))
    Server(app, bind_socket("127.0.0.1", 8080)).run()
"""
