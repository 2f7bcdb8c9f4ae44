"""Training and evaluation data: image sources, decoding, official masks, the tf.data pipeline."""
