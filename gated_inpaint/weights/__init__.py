"""Where generator weights come from: official TF1 checkpoints, Keras `*.weights.h5` files and
training runs' folders, and what a given path holds."""
