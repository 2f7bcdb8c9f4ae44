"""Inference: the uint8 graph, high-resolution strategies, precision, input rules, `Inpainter`."""
