"""Evaluation: quality metrics, classical baselines, the fixed mask set, and evaluating methods
on image and mask files."""
