"""Serving: the SavedModel module (signatures with in-graph input checks), TF Serving warm-up
requests and atomic versioned export."""
