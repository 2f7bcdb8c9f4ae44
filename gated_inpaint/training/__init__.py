"""Training: `TrainConfig`, the trainer (`run_training`), its callbacks and the tf.distribute
strategies."""
