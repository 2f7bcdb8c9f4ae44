"""gated_inpaint: DeepFill v2 free-form image inpainting for TensorFlow 2 / Keras 3."""
