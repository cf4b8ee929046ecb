"""Datasets, transforms and generated data for tests and demos."""
