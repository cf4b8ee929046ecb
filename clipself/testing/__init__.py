"""What the tests and benchmarks measure the library against; never imported by the library itself.

- :mod:`clipself.testing.reference`: a plain, independent implementation of the dense features (the oracle).
"""
